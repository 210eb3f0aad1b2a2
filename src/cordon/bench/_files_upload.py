"""``cordon bench files``, upload part: a city's registrations file through the web job against the CLI import.

The registrations of a whole-city round are written with ``citygen.screening.write_round`` (the city of the
bench, its seed; duplicates and malformed rows included), then imported twice, each into a whole-city round of
its own, with the resident index ready in memory before either (as a running worker and a shell both have it
after their first import) and the import's code warmed up by a small file first:

1. **CLI**: ``cordon import samples FILE --round R --no-progress`` (``commands.importer.run``, in this process);
2. **web job**: what the "Files in" page does once the browser's request is parsed (Django streams the body to
   a temporary file beside the stored uploads through ``web.uploads.LimitedUploadHandler``, which hashes it as
   its bytes arrive, while the network is the limit; not counted, done here through the same handler):
   ``do_create_upload`` (the temporary file renamed into CORDON_HOME/uploads, the upload row with its sha256,
   its audit row and its task committed together), then the queue's task taken and run as ``cordon worker`` runs
   it (``core.queue``: claim, lease, heartbeat, ``run_upload`` through the same importer, the error report
   written, the upload finished and audited).

The web job imports a copy of the file with its first row moved to the end (the same header and rows, so the same
code path), since a file already imported is recognised by its sha256 and changes nothing. Goal: web job <= 1.2 x CLI.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from cordon.bench.common import timed

GOAL = 1.2


def add_arguments(p) -> None:
    p.add_argument("--upload-pool", type=int, default=10, help="upload part: people per tube in the round's file")
    p.add_argument("--upload-keep-files", action="store_true",
                   help="upload part: keep the registrations file and the stored upload (default: removed)")


def _files(args, tmp: Path):
    """The round's registrations file and its copy (first row last); rows in it; the round's day."""
    from cordon.citygen import City
    from cordon.citygen.screening import write_round

    gen = City(args.population, seed=args.seed)
    files = write_round(gen, tmp / "round", pool=args.upload_pool, seed=7)
    web = tmp / "采样登记.csv"
    with open(files.samples, "rb") as src, open(web, "wb") as dst:
        dst.write(src.readline())
        first = src.readline()
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.write(first if first.endswith(b"\n") else first + b"\n")
    return files.samples, web, files.sample_rows, gen.today


def _received(path: Path):
    """``path`` as the "Files in" page receives it: streamed through its upload handler in the chunks Django
    reads a request body in, into a temporary file beside the stored uploads, hashed on the way."""
    from cordon.web.uploads import LimitedUploadHandler

    handler = LimitedUploadHandler()
    size = path.stat().st_size
    handler.new_file("file", path.name, "text/csv", size)
    with open(path, "rb") as fh:
        at = 0
        while chunk := fh.read(handler.chunk_size):
            handler.receive_data_chunk(chunk, at)
            at += len(chunk)
    return handler.file_complete(at)


def measure(args, vendor, city) -> tuple[list[tuple[str, str]], dict]:
    from django.contrib.auth import get_user_model

    from cordon.commands import importer
    from cordon.core import clock, queue
    from cordon.core.actions import do_create_upload, do_create_user
    from cordon.core.models import Upload
    from cordon.screening import actions
    from cordon.screening.ingest import ResidentIndex, import_samples

    tmp = Path(tempfile.mkdtemp(prefix="cordon-bench-upload-"))
    try:
        (cli_file, web_file, rows, day), gen_s = timed(_files, args, tmp)
        user = get_user_model().objects.filter(username="bench-commander").first() or do_create_user(
            "bench-commander", "bench-upload-2022", role="commander", actor="bench", check_password=False)[0]
        with clock.frozen(day):
            r_cli = actions.do_create_round(name="bench CLI", on=day, coverage="city", actor="bench")
            r_web = actions.do_create_round(name="bench web", on=day, coverage="city", actor="bench")
        ResidentIndex.get()  # in memory before both, as in a worker or a shell after its first import
        warm = tmp / "warm.csv"  # the import's code paths warmed up once (first use of numpy's routines, threads)
        with open(cli_file, "rb") as src, open(warm, "wb") as dst:
            dst.writelines(line for _, line in zip(range(2001), src))
        with clock.frozen(day):
            r_warm = actions.do_create_round(name="bench warm-up", on=day, coverage="city", actor="bench")
        import_samples(warm, round=r_warm, actor="bench")

        cli_args = argparse.Namespace(kind="samples", file=str(cli_file), as_user=user.username, errors=str(
            tmp / "cli.errors.csv"), round_id=r_cli.pk, no_progress=True, chunk_kb=None, name=None, encoding=None)
        code, cli_s = timed(importer.run, cli_args)

        received = _received(web_file)  # the request's body, as Django's upload handler keeps it (not counted)

        def web_job():
            u = do_create_upload(received, kind="samples", options={"round": r_web.pk}, actor=user)
            queue.run_now(u.task_id)
            return Upload.objects.get(pk=u.pk)

        u, web_s = timed(web_job)
        received.close()
        ratio = web_s / cli_s if cli_s else float("inf")
        ok = u.status == "done" and code in (0, 1) and u.counts.get("kept", 0) > 0
        out_rows = [
            ("upload: registrations file", f"{rows:,} rows, {web_file.stat().st_size / 1e6:,.1f} MB, "
                                           f"written in {gen_s:.1f} s (not counted)"),
            ("upload: CLI import (cordon import samples)", f"{cli_s:.2f} s (exit {code})"),
            ("upload: web job (stored, queued, run by the worker's task)",
             f"{web_s:.2f} s ({u.status}; {u.counts.get('kept', 0):,} kept, {u.errors:,} bad)"),
            ("upload: web job / CLI", f"{ratio:.2f} (goal <= {GOAL})"),
        ]
        if not args.upload_keep_files:
            shutil.rmtree(Path(u.path).parent, ignore_errors=True)
        return out_rows, {"upload_rows": rows, "upload_cli_s": round(cli_s, 3), "upload_web_s": round(web_s, 3),
                          "upload_ratio": round(ratio, 3), "upload_rows_per_s": round(rows / web_s) if web_s else 0,
                          "upload_ok": bool(ok), "upload_ratio_ok": ratio <= GOAL}
    finally:
        if not args.upload_keep_files:
            shutil.rmtree(tmp, ignore_errors=True)

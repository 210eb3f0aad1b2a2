"""``cordon import KIND FILE``: the same pipelines the pages use."""
import sys
import time
from pathlib import Path


def add_arguments(p):
    p.add_argument("kind", choices=["residents", "areas", "samples", "results", "counts", "keyworkers", "geometry"], help="what the file holds")
    p.add_argument("file")
    p.add_argument("--as", dest="as_user", default=None, help="import as this user (their jurisdiction applies)")
    p.add_argument("--errors", default=None, help="where to write the error report (default FILE.errors.csv)")
    p.add_argument("--round", dest="round_id", type=int, default=None,
                   help="samples: the round (default: the only open round)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--chunk-kb", type=int, default=None,
                   help="samples/results: commit every this many KB of the file (default 8192)")
    p.add_argument("--name", default=None, help="counts: the series name (e.g. shanghai-2022)")
    p.add_argument("--encoding", default=None,
                   help="residents/samples/results: the CSV file's encoding (utf-8, gb18030/gbk, utf-16); "
                        "default: detected over the whole file")


def _report_errors(args, report) -> int:
    """The bad rows (line, field, reason): the first 20 printed, all written to ``FILE.errors.csv``; exit 1 if any."""
    if not report.errors:
        return 0
    out = Path(args.errors or f"{args.file}.errors.csv")
    report.write_errors(out)
    for e in report.errors[:20]:
        print(f"  {getattr(report, 'number_column', 'line')} {e.line}: {e.field}: {e.reason}")
    if len(report.errors) > 20:
        print(f"  ... {len(report.errors) - 20} more")
    print(f"error report: {out}")
    return 1


def _file_error(args, exc) -> str:
    """One line, ``FILE:LINE: reason`` (or ``FILE: reason``)."""
    from cordon.tabular import FileError

    if isinstance(exc, FileError) and exc.path is not None:
        return str(exc)
    return f"{args.file}: {exc}"


def run(args) -> int:
    from django.contrib.auth import get_user_model

    from cordon.places.importer import ImportFileError, import_residents

    actor = "cli"
    if args.as_user:
        try:
            actor = get_user_model().objects.get(username=args.as_user)
        except get_user_model().DoesNotExist:
            print(f"error: no user {args.as_user!r}", file=sys.stderr)
            return 1
    if args.kind in ("samples", "results"):
        return run_screening(args, actor)
    if args.kind == "counts":
        return run_counts(args, actor)
    if args.kind == "areas":
        return run_areas(args, actor)
    if args.kind == "keyworkers":
        return run_keyworkers(args, actor)
    if args.kind == "geometry":
        return run_geometry(args, actor)
    t0 = time.monotonic()

    def progress(rep):
        print(f"\r  {rep.rows:,} rows read, {rep.ok:,} kept, {len(rep.errors):,} errors", end="", file=sys.stderr)

    shown = []

    def progress_shown(rep):
        shown.append(True)
        progress(rep)

    try:
        report = import_residents(args.file, actor=actor, progress=progress_shown, encoding=args.encoding)
    except ImportFileError as exc:
        print(("\n" if shown else "") + _file_error(args, exc), file=sys.stderr)
        return 2
    print(file=sys.stderr)
    print(f"{report.file}: {report.rows} rows in {time.monotonic() - t0:.1f}s: {report.created} created, "
          f"{report.updated} updated, {report.unchanged} unchanged, {len(report.errors)} bad rows")
    return _report_errors(args, report)


def run_screening(args, actor) -> int:
    """``cordon import samples FILE [--round ID]`` / ``cordon import results FILE`` (screening.ingest)."""
    from cordon.core.actions import ActionError
    from cordon.screening.ingest import ImportFileError, import_results, import_samples, write_error_report
    from cordon.screening.models import Round, RoundStatus

    t0 = time.monotonic()
    chunk = {"chunk_bytes": args.chunk_kb * 1024} if args.chunk_kb else {}
    if args.chunk_kb is not None and args.chunk_kb < 1:
        print("error: --chunk-kb must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.kind == "samples":
            if args.round_id is not None:
                rnd = Round.objects.filter(pk=args.round_id).first()
                if rnd is None:
                    print(f"error: no round {args.round_id}", file=sys.stderr)
                    return 2
            else:
                open_rounds = list(Round.objects.filter(status=RoundStatus.OPEN)[:2])
                if len(open_rounds) != 1:
                    print("error: give --round ID (" + ("no open round" if not open_rounds else
                                                        "several rounds are open") + ")", file=sys.stderr)
                    return 2
                rnd = open_rounds[0]
            out = import_samples(args.file, round=rnd, actor=actor, progress=not args.no_progress,
                                 encoding=args.encoding, **chunk)
        else:
            out = import_results(args.file, actor=actor, progress=not args.no_progress, encoding=args.encoding,
                                 **chunk)
    except (ImportFileError, ActionError) as exc:
        print(_file_error(args, exc), file=sys.stderr)
        return 2
    b = out.batch
    if out.already:
        print(f"{args.file}: already imported (batch {b.pk}, {b.rows_ok} rows kept, {b.rows_bad} bad); nothing changed")
        return 0
    print(f"{args.file}: batch {b.pk}: {b.rows_ok} rows kept, {b.rows_bad} bad ({b.rows_duplicate} duplicates) "
          f"in {time.monotonic() - t0:.1f}s")
    if b.rows_bad:
        path = Path(args.errors or f"{args.file}.errors.csv")
        n = write_error_report(b, path)
        for e in b.errors.order_by("line")[:20]:
            print(f"  line {e.line}: {e.field}: {e.reason}")
        if n > 20:
            print(f"  ... {n - 20} more")
        print(f"error report: {path}")
    return 0 if not b.rows_bad else 1


def run_counts(args, actor) -> int:
    """``cordon import counts FILE --name SERIES``: aggregate daily counts (situation.actions)."""
    from cordon.core.actions import ActionError
    from cordon.situation.actions import CountsFileError, do_import_counts

    name = args.name or Path(args.file).stem
    try:
        rep = do_import_counts(Path(args.file), series=name, actor=actor)
    except (CountsFileError, ActionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: series {name!r}: {rep.rows} rows: {rep.created} created, {rep.updated} updated, "
          f"{rep.unchanged} unchanged, {len(rep.errors)} bad")
    return _report_errors(args, rep)


def run_keyworkers(args, actor) -> int:
    """``cordon import keyworkers FILE``: key workers registered in bulk (keyworkers.importer)."""
    from cordon.keyworkers.importer import ImportFileError, import_key_workers

    try:
        rep = import_key_workers(args.file, actor=actor)
    except ImportFileError as exc:
        print(_file_error(args, exc), file=sys.stderr)
        return 2
    print(f"{args.file}: {rep.rows} rows: {rep.created} key workers registered, {len(rep.errors)} bad rows")
    return _report_errors(args, rep)


def run_areas(args, actor) -> int:
    """``cordon import areas FILE``: the city's address tree (places.areaimport)."""
    from cordon.places.areaimport import import_areas
    from cordon.places.importer import ImportFileError

    t0 = time.monotonic()
    shown = []

    def progress(rep):
        if not args.no_progress:
            print(f"\r  {rep.rows:,} rows read, {rep.created:,} areas created, {len(rep.errors):,} errors", end="",
                  file=sys.stderr, flush=True)
            shown.append(1)

    try:
        rep = import_areas(args.file, actor=actor, progress=progress)
    except ImportFileError as exc:
        print(("\n" if shown else "") + _file_error(args, exc), file=sys.stderr)
        return 2
    if shown:
        print(file=sys.stderr)
    kinds = ", ".join(f"{n} {k}" for k, n in rep.created_by_kind.items() if n) or "nothing new"
    print(f"{rep.file}: {rep.rows} rows in {time.monotonic() - t0:.1f}s: {rep.created} areas created ({kinds}), "
          f"{rep.unchanged} rows already present, {len(rep.errors)} bad rows")
    return _report_errors(args, rep)


def run_geometry(args, actor) -> int:
    """``cordon import geometry FILE.geojson``: the areas' own geometry (maps.importer): refused features by
    number, field and reason in ``FILE.errors.csv``; exit 1 if any, 2 if the file cannot be read."""
    from cordon.maps.actions import do_import_shapes
    from cordon.maps.importer import GeometryFileError, read

    try:
        accepted, report = read(args.file, user=None if isinstance(actor, str) else actor)
    except GeometryFileError as exc:
        print(_file_error(args, exc), file=sys.stderr)
        return 2
    counts = do_import_shapes(accepted, file=str(args.file), refused=len(report.errors), actor=actor)
    print(f"{args.file}: {report.rows} features: {counts['created']} created, {counts['updated']} updated, "
          f"{counts['unchanged']} unchanged, {len(report.errors)} refused")
    return _report_errors(args, report)

"""``cordon bench screening [--population N]``: a whole city round end to end against a bare bulk load.

Builds the synthetic city in a scratch database (``bench.common.scratch_database`` + ``places.bulk.load_city``,
which also builds the screening imports' resident index and keeps it on disk; after any other change to the
residents the first import builds it instead, 2-3 s at 4.4 M),
writes a round's files with ``citygen.screening.write_round`` (10-in-1 pools, duplicates, malformed rows, late
registrations, missing results), lets the database settle after the bulk load (``settle``), then times

1. **the round**: create a whole-city round, import the registrations, the results, the late registrations
   (``screening.ingest``: streamed, validated, resolved against the residents, idempotent, chunk commits),
   then ``do_refresh_round`` (coverage stored down to compounds and per day, tube figures, recall tasks);
2. **the bare load** of the same files' rows into plain tables of text columns: Python's ``csv.reader``
   (rows padded/cut to the header's width, since the malformed rows would stop a server-side CSV COPY)
   written with psycopg's ``COPY ... FROM STDIN`` (``write_row``) on PostgreSQL, ``executemany`` in one
   transaction on SQLite. No validation, no resolution, no indexes.

``--reuse-city`` keeps the built and settled city (PostgreSQL: database ``SCRATCH_city``, copied into the
scratch database with ``CREATE DATABASE ... TEMPLATE``; SQLite: a copy of the file) and the round's files
under ``CORDON_HOME/bench/``, and starts the next run with the same parameters from them (the copy is not
counted; the resident index is made ready on disk as the bulk load leaves it): a run then costs about a
minute instead of several. Without it every run builds its own city, as before.

Prints both times and their ratio (goal <= 1.5 at 4.4 M), this process's CPU time in each (all threads), the
server's WAL and checkpoints in each (PostgreSQL) and, last, one JSON line:
``{"bench": "screening", "seconds", "peak_rss_mb", "ratio", "bare_seconds", "population", ...}``.
``seconds`` is the round; generation of the city and files is not counted.
"""
from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--population", type=int, default=4_400_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pool", type=int, default=10)
    p.add_argument("--positive-rate", type=float, default=0.0003)
    p.add_argument("--database", default=None)
    p.add_argument("--scratch", default="cordon_bench_screening")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--profile", default=None, help="write a cProfile of the round to this file")
    p.add_argument("--reuse-city", action="store_true",
                   help="keep the built city and its round files for the next run with the same --population, "
                        "--seed, --pool and --positive-rate, and start from them when they are there: "
                        "PostgreSQL keeps database SCRATCH_city (copied with CREATE DATABASE ... TEMPLATE), "
                        "SQLite a copy of its file; the files stay under CORDON_HOME/bench/. A run then costs "
                        "the copy, the round and the bare load (about a minute instead of several)")


def bare_load(paths: list[Path]) -> int:
    """Rows of the files into plain text tables: COPY (PostgreSQL) / executemany (SQLite). Returns rows."""
    from django.db import connection, transaction

    total = 0
    with transaction.atomic():
        with connection.cursor() as c:
            for k, path in enumerate(paths):
                with open(path, encoding="utf-8", newline="") as fh:
                    reader = csv.reader(fh)
                    header = next(reader)
                    w = len(header)
                    table = f"bench_bare_{k}"
                    c.execute(f"DROP TABLE IF EXISTS {table}")
                    c.execute(f"CREATE TABLE {table} ({', '.join(f'c{i} text' for i in range(w))})")
                    if connection.vendor == "postgresql":
                        with c.cursor.copy(f"COPY {table} FROM STDIN") as cp:
                            for row in reader:
                                if len(row) != w:
                                    row = (row + [None] * w)[:w]
                                cp.write_row(row)
                                total += 1
                    else:
                        sql = f"INSERT INTO {table} VALUES ({','.join('?' * w)})"
                        raw = connection.connection
                        batch = []
                        for row in reader:
                            if len(row) != w:
                                row = (row + [None] * w)[:w]
                            batch.append(row)
                            if len(batch) >= 50_000:
                                raw.executemany(sql, batch)
                                total += len(batch)
                                batch = []
                        if batch:
                            raw.executemany(sql, batch)
                            total += len(batch)
    return total


def settle() -> float:
    """Bring the freshly loaded city to rest, as a city's database is when a round starts (not counted):
    PostgreSQL vacuums it (else autovacuum makes its first pass over millions of just-copied rows during the
    timed round) and checkpoints; SQLite folds its write-ahead log into the database. Returns seconds."""
    from django.db import DatabaseError, connection

    t = time.perf_counter()
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("VACUUM (ANALYZE)")
            try:
                c.execute("CHECKPOINT")
            except DatabaseError:  # needs the pg_checkpoint role (or superuser)
                pass
        else:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - t


def server_counters() -> tuple[int, int] | None:
    """PostgreSQL: (WAL bytes written so far, checkpoints so far) of the whole server (other databases'
    writes count too); None on SQLite. Read before and after the round and the bare load."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as c:
        c.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
                  "checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        wal, ckpt = c.fetchone()
    return int(wal), int(ckpt)


def _delta(a, b) -> dict:
    return {} if a is None or b is None else {"wal_mb": round((b[0] - a[0]) / 1e6, 1), "checkpoints": b[1] - a[1]}


def run_round(files, day, progress: bool) -> dict:
    from cordon.screening import actions
    from cordon.screening.ingest import import_results, import_samples

    t = {}
    t0 = time.perf_counter()
    rnd = actions.do_create_round(name="全员核酸 bench", on=day, coverage="city", actor="bench")
    s = time.perf_counter()
    a = import_samples(files.samples, round=rnd, actor="bench", progress=progress).batch
    t["samples"] = time.perf_counter() - s
    s = time.perf_counter()
    b = import_results(files.results, actor="bench", progress=progress).batch
    t["results"] = time.perf_counter() - s
    s = time.perf_counter()
    c = import_samples(files.samples_late, round=rnd, actor="bench", progress=progress).batch
    t["late"] = time.perf_counter() - s
    s = time.perf_counter()
    rnd = actions.do_refresh_round(rnd, actor="bench")
    t["refresh"] = time.perf_counter() - s
    t["total"] = time.perf_counter() - t0
    return {"t": t, "round": rnd, "batches": (a, b, c)}


def _build(population: int, seed: int, pool: int, positive_rate: float, folder: Path, progress: bool):
    """Load the city into the database and write a round's files (run in a child process)."""
    from cordon.citygen import City
    from cordon.citygen.screening import write_round
    from cordon.places.bulk import load_city

    t = time.perf_counter()
    load_city(population, seed, progress=progress)
    t_city = time.perf_counter() - t
    t = time.perf_counter()
    city = City(population, seed=seed)
    files = write_round(city, folder, pool=pool, positive_rate=positive_rate, seed=seed)
    return t_city, time.perf_counter() - t, city.today, files


def _in_child(fn, *args):
    """``fn(*args)`` in a forked child process (database connections closed first; each side opens its own)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(fn, args)


def _cache(args) -> Path:
    from django.conf import settings

    return Path(settings.HOME) / "bench" / (f"screening-{args.population}-{args.seed}-{args.pool}-"
                                             f"{args.positive_rate}")


def _keep_city(args, vendor: str, built: tuple) -> None:
    """``--reuse-city``: the settled city database kept (a template database / a file) with what built it."""
    import pickle

    from cordon.bench.common import keep_database

    cache = _cache(args)
    keep_database(args.scratch, cache / "city.sqlite3")
    (cache / "city.pickle").write_bytes(pickle.dumps(built))


def _reused_city(args, vendor: str):
    """``--reuse-city``: (city seconds, files seconds, day, files) of the kept city, copied into the scratch
    database (then settled, and the resident index ready on disk as after a bulk load), or None."""
    import pickle

    from cordon.bench.common import restore_database
    from cordon.screening.ingest import ResidentIndex

    cache = _cache(args)
    try:
        built = pickle.loads((cache / "city.pickle").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    if not all(Path(f).is_file() for f in (built[3].samples, built[3].results, built[3].samples_late)):
        return None
    if not restore_database(args.scratch, cache / "city.sqlite3"):
        return None
    ResidentIndex.get()  # as the bulk load leaves it: on disk, mapped by the round's first import
    ResidentIndex._cache.clear()
    return built


def run(args) -> int:
    from cordon.bench.common import emit, peak_rss_mb, process_peak_rss_mb, reset_peak, scratch_database
    from cordon.screening.ingest.pipeline import SCAN_THREADS, _cpus
    from cordon.screening.models import RecallMember

    tmp = Path(tempfile.mkdtemp(prefix="cordon-screening-"))
    try:
        with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, where, _):
            print(f"screening bench: {args.population:,} residents, {vendor} at {where}", file=sys.stderr, flush=True)
            # the city and the files are built by a child process, so this process's peak memory is the
            # round's (memory freed after building millions of objects is not given back to the system)
            built = _reused_city(args, vendor) if args.reuse_city else None
            reused = built is not None
            if built is None:
                folder = _cache(args) / "files" if args.reuse_city else tmp
                built = _in_child(_build, args.population, args.seed, args.pool, args.positive_rate, folder,
                                  not args.no_progress)
                settle()
                if args.reuse_city:
                    _keep_city(args, vendor, built)
            else:
                print(f"reused the city and files of {_cache(args)}", file=sys.stderr, flush=True)
            t_city, t_files, day, files = built
            t_settle = settle()
            measured_from_round = reset_peak()
            print(f"files written in {t_files:.1f}s: {files.sample_rows:,} registration rows, "
                  f"{files.result_rows:,} result rows", file=sys.stderr, flush=True)

            if args.profile:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            cpu, c0 = time.process_time(), server_counters()
            out = run_round(files, day, progress=not args.no_progress)
            cpu_round, c1 = time.process_time() - cpu, server_counters()
            if args.profile:
                prof.disable()
                prof.dump_stats(args.profile)
            rnd = out["round"]
            recalled = RecallMember.objects.filter(task__round=rnd).count()
            rows_in = sum(b.rows_ok + b.rows_bad for b in out["batches"])

            t, cpu = time.perf_counter(), time.process_time()
            bare_rows = bare_load([files.samples, files.results, files.samples_late])
            bare, cpu_bare = time.perf_counter() - t, time.process_time() - cpu
            c2 = server_counters()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    tt = out["t"]
    seconds = tt["total"]
    ratio = seconds / bare if bare else 0
    a, b, c = out["batches"]
    peak = peak_rss_mb(children=False)  # the child that built the city is not the round
    rows = [
        ("database", f"{vendor} ({where})"),
        ("city loaded (not counted)", f"{args.population:,} residents in {t_city:.1f} s (with the resident index)"
                                      + (" by an earlier run, copied (--reuse-city)" if reused else "")),
        ("files generated (not counted)", f"{files.sample_rows + files.result_rows:,} rows in {t_files:.1f} s"),
        ("database settled (not counted)", f"{t_settle:.1f} s (vacuum/checkpoint after the bulk load)"),
        ("registrations", f"{a.rows_ok:,} kept, {a.rows_bad:,} bad ({a.rows_duplicate:,} dup) in {tt['samples']:.1f} s"),
        ("results", f"{b.rows_ok:,} kept, {b.rows_bad:,} bad ({b.rows_duplicate:,} dup) in {tt['results']:.1f} s"),
        ("late registrations", f"{c.rows_ok:,} kept, {c.rows_bad:,} bad in {tt['late']:.1f} s"),
        ("coverage + tubes + recall", f"{tt['refresh']:.1f} s"),
        ("round: due / sampled / missing", f"{rnd.due:,} / {rnd.sampled:,} / {rnd.missing:,}"),
        ("round: tubes / reported / positive", f"{rnd.tubes:,} / {rnd.tubes_reported:,} / {rnd.tubes_positive:,}"),
        ("people recalled", f"{recalled:,} (generator: {len(files.positive_people):,})"),
        ("round total", f"{seconds:.1f} s ({rows_in / seconds:,.0f} rows/s)"),
        ("importer threads", f"reading + writer + {SCAN_THREADS} scanning, on {_cpus()} cores"),
        ("bare load (same rows)", f"{bare_rows:,} rows in {bare:.1f} s ({bare_rows / bare:,.0f} rows/s)"),
        ("ratio round / bare", f"{ratio:.2f} (goal <= 1.5)"),
        ("this process's CPU: round / bare", f"{cpu_round:.1f} s / {cpu_bare:.1f} s (all its threads; the "
                                             f"database server's work is not in it)"),
        *([("server: WAL / checkpoints, round", "{wal_mb:,.0f} MB / {checkpoints}".format(**_delta(c0, c1))),
           ("server: WAL / checkpoints, bare load", "{wal_mb:,.0f} MB / {checkpoints}".format(**_delta(c1, c2)))]
          if c0 else []),
        ("peak memory (RSS)", f"{peak:,.0f} MB " + ("(from the round's start: the round and the bare load)"
                                                     if measured_from_round else "(whole process)")),
        ("  whole process", f"{process_peak_rss_mb():,.0f} MB (the city and its files are built by a child process)"),
    ]
    emit("screening", rows, {
        "seconds": round(seconds, 2), "peak_rss_mb": peak, "ratio": round(ratio, 3), "bare_seconds": round(bare, 2),
        "population": args.population, "database": vendor, "rows": rows_in, "sampled": rnd.sampled,
        "tubes": rnd.tubes, "positive_tubes": rnd.tubes_positive, "recalled": recalled,
        "timings": {k: round(v, 2) for k, v in tt.items()}, "cpu_round": round(cpu_round, 2),
        "cpu_bare": round(cpu_bare, 2), "server_round": _delta(c0, c1), "server_bare": _delta(c1, c2),
        "scan_threads": SCAN_THREADS, "cores": _cpus(),
        "reused_city": bool(args.reuse_city and reused),
    })
    return 0

"""Shared bench output: a readable table, then one JSON object as the very last line."""
from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb(children: bool = True) -> float:
    """Peak resident memory of this process (since ``reset_peak``, where the system keeps that count) and,
    unless ``children`` is False, of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            own = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        pass
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if children else 0
    return round(max(own, kids) / 1024, 1)


def process_peak_rss_mb() -> float:
    """Peak resident memory of this process over its whole life, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak() -> bool:
    """Start counting this process's peak memory again from now (Linux ``/proc/self/clear_refs``), so a bench
    reports the peak of the work it times, not of the data it built beforehand. False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def present_parts(names) -> list:
    """The part modules of a composed bench (``cordon.bench.<name>``) present in this tree, in order: a part
    another change adds later joins its bench without the bench changing."""
    import importlib

    found = []
    for name in names:
        try:
            found.append(importlib.import_module(f"cordon.bench.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"cordon.bench.{name}":
                raise
    return found


def run_composed(name: str, args, parts: list, measure) -> int:
    """A composed bench (``files``, ``keyworkers``): the city once, then ``measure(part, vendor, city)`` -> (table
    rows, JSON figures) of each part in turn; the table and the last-line JSON of every part's figures. Exit 1 when
    a figure named ``*_ok`` is False."""
    rows: list[tuple[str, str]] = []
    figures: dict = {}
    t0 = time.perf_counter()
    with city_database(args, f"{name} bench ({', '.join(p.__name__.rsplit('.', 1)[-1] for p in parts)})") \
            as (vendor, city, city_s):
        rows += [("database", vendor),
                 ("city", f"{args.population:,} residents, {city.get('units', 0):,} units, built in {city_s:.1f} s "
                          "(not counted)")]
        for part in parts:
            part_rows, part_figures = measure(part, vendor, city)
            rows += part_rows
            figures.update(part_figures)
    seconds = time.perf_counter() - t0 - city_s
    rows.append(("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"))
    emit(name, rows, {"seconds": round(seconds, 3), "peak_rss_mb": peak_rss_mb(), "database": vendor,
                      "population": args.population, **figures})
    return 0 if all(v is not False for k, v in figures.items() if k.endswith("_ok")) else 1


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join(out)


def city_arguments(p, scratch: str, population: int = 4_400_000) -> None:
    """The options of every bench that builds a synthetic city: its size and seed, the database (``DATABASE_URL``
    by default) and the scratch database made on it, kept afterwards with ``--keep``."""
    p.add_argument("--population", type=int, default=population)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database", default=None, help="database URL (default: the configured one, DATABASE_URL or SQLite under CORDON_HOME)")
    p.add_argument("--scratch", default=scratch, help="scratch database name on PostgreSQL")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")


def timed(fn, *args, **kwargs) -> tuple[object, float]:
    """``fn(*args, **kwargs)`` and the seconds it took."""
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


@contextlib.contextmanager
def city_database(args, what: str):
    """The scratch database of a bench's ``args`` (``city_arguments``) with the synthetic city bulk-loaded into it;
    yields ``(vendor, city statistics, seconds the load took)``. ``what`` names the run on stderr."""
    from cordon.places.bulk import load_city

    with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, _where, _migrate_s):
        print(f"{what}, {args.population:,} residents, {vendor}", file=sys.stderr, flush=True)
        city, city_s = timed(load_city, args.population, args.seed, progress=False)
        yield vendor, city, city_s


def calibration_s() -> float:
    """Seconds this machine takes, at this moment, for a fixed pure-Python loop (``s += i`` 20 M times): printed
    with every bench so figures from machines of one kind (or one machine on a busy day) can be compared."""
    t = time.perf_counter()
    s = 0
    for i in range(20_000_000):
        s += i
    return round(time.perf_counter() - t, 3)


def emit(name: str, rows: list[tuple], figures: dict, headers=("step", "value")) -> None:
    """Print the table and the closing JSON line: {"bench", "seconds", "peak_rss_mb", ..., "calibration_s"}."""
    out = {"bench": name}
    out.update(figures)
    out.setdefault("peak_rss_mb", peak_rss_mb())
    out["calibration_s"] = calibration_s()
    calib = ("calibration: 20 M-iteration Python loop (s)", out["calibration_s"])
    rows = [*rows, calib + ("",) * (len(headers) - len(calib))]
    print(table(rows, headers))
    sys.stdout.flush()
    print(json.dumps(out, ensure_ascii=False))


# ---------------------------------------------------------------------------------- scratch databases

def _settings_for(url: str | None) -> dict:
    """A DATABASES entry for ``url`` (None: the configured one), as the settings module builds it."""
    from django.conf import settings

    if not url:
        return dict(settings.DATABASES["default"])
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        from cordon.config import settings as conf

        return conf._database()
    finally:
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old


def _use(db: dict) -> None:
    """Point the ``default`` connection at ``db`` (before or after it was first used)."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"] = db
    connections.settings = connections.configure_settings(settings.DATABASES)
    try:
        del connections["default"]
    except AttributeError:
        pass


def _pg_admin(db: dict):
    import psycopg

    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                           dbname="postgres", autocommit=True)


@contextlib.contextmanager
def scratch_database(url: str | None = None, scratch: str = "cordon_bench", *, keep: bool = False):
    """A throwaway migrated database of the configured kind (or ``url``'s), used as ``default``.

    SQLite: a file in a temporary folder. PostgreSQL: database ``scratch`` on the same server, dropped and
    created through the ``postgres`` database. Yields (vendor, where, migrate_seconds); removed afterwards
    unless ``keep``. The configured database itself is never touched.
    """
    from django.core.management import call_command
    from django.db import connections

    db = _settings_for(url)
    tmpdir = None
    if db["ENGINE"].endswith("postgresql"):
        vendor = "postgresql"
        with _pg_admin(db) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{scratch}"')
        db = {**db, "NAME": scratch, "CONN_MAX_AGE": 0}
        where = f"postgresql://{db['HOST']}:{db['PORT']}/{scratch}"
    else:
        vendor = "sqlite"
        tmpdir = tempfile.mkdtemp(prefix="cordon-bench-")
        db = {**db, "NAME": os.path.join(tmpdir, "bench.sqlite3")}
        where = db["NAME"]
    _use(db)
    try:
        t = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        yield vendor, where, time.perf_counter() - t
    finally:
        connections.close_all()
        if not keep:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            else:
                with _pg_admin(db) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        else:
            print(f"kept the database at {where}", file=sys.stderr)


def keep_database(scratch: str, copy: Path) -> None:
    """Keep the ``default`` (scratch) database as it is now for a later run (``restore_database``): PostgreSQL as
    database ``SCRATCH_city`` (``CREATE DATABASE ... TEMPLATE``), SQLite as a copy of its file at ``copy``."""
    from django.db import connection, connections

    db = dict(connection.settings_dict)
    connections.close_all()
    if db["ENGINE"].endswith("postgresql"):
        with _pg_admin(db) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}_city" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{scratch}_city" TEMPLATE "{db["NAME"]}" STRATEGY FILE_COPY')
    else:
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(db["NAME"], copy)


def restore_database(scratch: str, copy: Path) -> bool:
    """The database kept by ``keep_database`` copied into the ``default`` (scratch) one; False when none is kept."""
    from django.db import connection, connections

    db = dict(connection.settings_dict)
    connections.close_all()
    if db["ENGINE"].endswith("postgresql"):
        with _pg_admin(db) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{scratch}_city"]).fetchone():
                return False
            admin.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{db["NAME"]}" TEMPLATE "{scratch}_city" STRATEGY FILE_COPY')
        return True
    if not copy.is_file():
        return False
    for tail in ("-wal", "-shm"):
        Path(db["NAME"] + tail).unlink(missing_ok=True)
    shutil.copyfile(copy, db["NAME"])
    return True


def database_size_mb() -> float:
    from django.db import connection

    if connection.vendor == "sqlite":
        return os.path.getsize(connection.settings_dict["NAME"]) / 1e6
    with connection.cursor() as c:
        c.execute("SELECT pg_database_size(current_database())")
        return c.fetchone()[0] / 1e6


# ---------------------------------------------------------------------------------- a served database


def database_url() -> str:
    """The URL of the ``default`` connection (a scratch database), for a server started on it."""
    import urllib.parse

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        return (f"postgres://{urllib.parse.quote(db['USER'])}:{urllib.parse.quote(db['PASSWORD'] or '')}"
                f"@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    return f"sqlite:///{db['NAME']}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(env: dict, workers: int, probe: str, started: dict | None = None):
    """``cordon serve --workers N`` on a free localhost port with ``env`` (the process environment plus these),
    on the ``default`` database; yields the port once ``probe`` (a path) answers 200; stopped afterwards.
    ``started["pid"]``, when given, is set to the server's process id (its session: master and workers)."""
    import http.client
    import signal
    import subprocess

    from django.db import connections

    url = database_url()
    connections.close_all()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, **env}
    env.pop("CORDON_DEBUG", None)
    server = subprocess.Popen([sys.executable, "-m", "cordon.cli", "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if started is not None:
        started["pid"] = server.pid
    try:
        deadline = time.time() + 120
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", probe)
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("the server did not start: " + (server.stderr.read() or b"").decode()[-2000:])
            time.sleep(0.3)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

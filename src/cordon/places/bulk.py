"""Bulk load of the synthetic city (``cordon.citygen``) into the configured database.

``load_city(population, seed)`` writes every Area, Household and Resident row with ids computed by the
generator (1-based ordinals), ancestor ids and ``Area.population`` already set:

- PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3, text format) in one transaction; the secondary indexes,
  unique and foreign-key constraints of the three tables (and foreign keys of other tables pointing at
  them) are dropped first and recreated afterwards; sequences are reset and the tables analysed. If
  anything fails the transaction rolls back, indexes included.
- SQLite: ``executemany`` in batches of ~40 k households' residents inside one transaction, with
  ``synchronous=OFF``, ``journal_mode=DELETE`` (instead of WAL: the load is written once, not twice), a
  256 MB page cache and in-memory temp store for the duration of the load; the previous settings are
  restored afterwards. Named secondary indexes are dropped and recreated (the inline UNIQUE ones on
  ``path`` and ``id_number`` cannot be), and so are the triggers that keep the name and phone search table in
  step; that table is rebuilt once after the load. A crash mid-load can leave a damaged file: for a trial database
  that one rebuilds with ``--reset``, not for a production database (use PostgreSQL there). When called
  inside an open transaction (e.g. a test), the pragmas are left alone.

Memory stays bounded: the generator keeps the tree and household arrays (~350 MB at 4.4 M residents) and
residents are written chunk by chunk. The city tables must be empty unless ``replace=True``, which empties
them first (and refuses while rows of other tables still point at them through a database constraint).
"""
from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
from django.db import connections, transaction

from cordon.citygen import AREA_FIELDS, HOUSEHOLD_FIELDS, RESIDENT_FIELDS, City
from cordon.core import stamps
from cordon.places import hooks

from .models import Area, Household, Resident
from .queries import FTS_TABLE

MODELS = (Area, Household, Resident)


class CityNotEmpty(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------- progress
class Progress:
    """A plain text progress bar on stderr (no dependency); redraws at most 5 times a second."""

    def __init__(self, total: int, enabled: bool = True, width: int = 30, stream=None):
        self.total = max(1, total)
        self.done = 0
        self.enabled = enabled
        self.width = width
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self._last = 0.0
        self.label = ""
        self._step = None
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())

    def update(self, n: int = 0, label: str | None = None, force: bool = False) -> None:
        self.done += n
        if label is not None:
            self.label = label
        if not self.enabled:
            return
        now = time.monotonic()
        frac = min(1.0, self.done / self.total)
        if not self.tty:  # a log file: one line per 10 % step or new phase, no carriage returns
            step = (int(frac * 10), self.label)
            if step == self._step and not force:
                return
            self._step = step
        elif not force and now - self._last < 0.2:
            return
        self._last = now
        fill = int(frac * self.width)
        bar = "#" * fill + "." * (self.width - fill)
        start, end = ("\r", "") if self.tty else ("", "\n")
        self.stream.write(f"{start}[{bar}] {frac * 100:5.1f}% {self.done:>10,}/{self.total:,} rows "
                          f"{now - self.t0:6.1f}s {self.label:<24}{end}")
        self.stream.flush()

    def close(self, label: str = "done") -> None:
        if self.enabled:
            self.update(0, label, force=True)
            if self.tty:
                self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------------------------- entry point
def load_city(population: int, seed: int = 1, *, progress: bool = True, today: dt.date | None = None,
              replace: bool = False, using: str = "default") -> dict:
    """Generate the city for ``(population, seed, today)`` and write it; returns figures (counts, seconds)."""
    _check_columns()
    conn = connections[using]
    t_start = time.perf_counter()
    _check_empty(using, replace)
    t = time.perf_counter()
    city = City(population, seed=seed, today=today)
    timings = {"tree": time.perf_counter() - t}
    total_rows = city.n_areas + city.n_households + city.population
    bar = Progress(total_rows, enabled=progress)
    bar.update(0, "tree", force=True)
    if conn.vendor == "postgresql":
        _load_postgres(conn, city, bar, timings, replace)
    elif conn.vendor == "sqlite":
        _load_sqlite(conn, city, bar, timings, replace)
    else:
        raise NotImplementedError(f"bulk load not implemented for {conn.vendor}")
    if using == "default":
        stamps.bump("residents")  # the raw bulk load sends no signals
        if not conn.in_atomic_block:
            # what the apps above build from a committed city (screening: its resident index, kept on disk
            # for the next process), here with the load rather than by their first use
            for name, fn in hooks.AFTER_LOAD:
                t = time.perf_counter()
                fn()
                timings[name] = time.perf_counter() - t
    bar.close()
    seconds = time.perf_counter() - t_start
    counts = city.counts()
    return {
        "vendor": conn.vendor, "population": city.population, "seed": city.seed, "today": city.today.isoformat(),
        "areas": city.n_areas, "households": city.n_households, "residents": city.population,
        "units": counts["unit"], "rows": total_rows, "seconds": round(seconds, 2),
        "rows_per_s": round(total_rows / seconds) if seconds else 0,
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }


def _check_columns() -> None:
    """The generator's row layouts must match the models' columns."""
    for model, fields in zip(MODELS, (AREA_FIELDS, HOUSEHOLD_FIELDS, RESIDENT_FIELDS)):
        cols = {f.column for f in model._meta.concrete_fields}
        if cols != set(fields):
            raise RuntimeError(f"{model.__name__} columns {sorted(cols)} differ from citygen's {sorted(fields)}")


def _references(using: str):
    """(model, field) of other models pointing at the city tables."""
    from django.apps import apps

    out = []
    for model in apps.get_models():
        if model in MODELS:
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in MODELS:
                out.append((model, f))
    return out


def _check_empty(using: str, replace: bool) -> None:
    nonempty = [m.__name__ for m in MODELS if m.objects.using(using).exists()]
    if not nonempty:
        return
    if not replace:
        raise CityNotEmpty(f"the city tables are not empty ({', '.join(nonempty)} have rows); "
                           "load into an empty database or pass replace=True to empty them first")
    blocking = [f"{m._meta.label}.{f.name}" for m, f in _references(using)
                if f.db_constraint and m._default_manager.using(using).filter(**{f"{f.name}__isnull": False}).exists()]
    if blocking:
        raise CityNotEmpty("cannot replace the city while rows point at it: " + ", ".join(blocking))


def _cols(fields) -> str:
    return ", ".join(f'"{c}"' for c in fields)


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _load_postgres(conn, city: City, bar: Progress, timings: dict, replace: bool) -> None:
    tables = [m._meta.db_table for m in MODELS]
    with transaction.atomic(using=conn.alias):
        with conn.cursor() as dj:
            cur = dj.cursor  # the psycopg cursor, inside Django's transaction
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cur.execute("SET LOCAL synchronous_commit = off")
            t = time.perf_counter()
            cur.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.contype IN ('u', 'f') AND (c.conrelid = ANY(%s::regclass[]) "
                "OR (c.contype = 'f' AND c.confrelid = ANY(%s::regclass[]))) ORDER BY c.contype DESC, c.conname",
                [tables, tables])
            constraints = cur.fetchall()
            for table, name, _ in sorted(constraints, key=lambda r: r[2].startswith("UNIQUE")):
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [tables])
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
            if replace:
                cur.execute("TRUNCATE " + ", ".join(tables))
            timings["drop_indexes"] = time.perf_counter() - t

            t = time.perf_counter()
            with cur.copy(f"COPY {tables[0]} ({_cols(AREA_FIELDS)}) FROM STDIN") as cp:
                for rows in city.areas():
                    cp.write("".join(_pg_line(r) for r in rows))
                    bar.update(len(rows), "areas")
            timings["areas"] = time.perf_counter() - t

            t = time.perf_counter()
            with cur.copy(f"COPY {tables[1]} ({_cols(HOUSEHOLD_FIELDS)}) FROM STDIN") as cp:
                anc_str = _unit_anc_strings(city)
                for ids, numbers, anc in city.household_chunks():
                    text = "".join(
                        f"{i}\t{num}\t{a}\n"
                        for i, num, a in zip(ids.tolist(), numbers.tolist(), anc_str[anc[:, 5]].tolist()))
                    cp.write(text)
                    bar.update(len(ids), "households")
            timings["households"] = time.perf_counter() - t

            t = time.perf_counter()
            with cur.copy(f"COPY {tables[2]} ({_cols(RESIDENT_FIELDS)}) FROM STDIN") as cp:
                for ch, text in _generated(city, lambda ch: _pg_residents(ch, anc_str), timings):
                    cp.write(text)
                    bar.update(len(ch), "residents")
            timings["residents"] = time.perf_counter() - t

            t = time.perf_counter()
            bar.update(0, "indexes", force=True)
            for _name, ddl in indexes:
                cur.execute(ddl)
                bar.update(0, "indexes")
            for table, name, ddl in constraints:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
                bar.update(0, "constraints")
            timings["indexes"] = time.perf_counter() - t
            t = time.perf_counter()
            from django.core.management.color import no_style

            for sql in conn.ops.sequence_reset_sql(no_style(), list(MODELS)):
                cur.execute(sql)
    with conn.cursor() as dj:
        bar.update(0, "analyze", force=True)
        for table in tables:
            dj.execute(f"ANALYZE {table}")
    timings["finish"] = time.perf_counter() - t


def _pg_text(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    return str(v)


def _pg_line(row) -> str:
    return "\t".join(map(_pg_text, row)) + "\n"


def _unit_anc_strings(city: City) -> np.ndarray:
    """For each unit id: its six ancestor ids joined by tabs (the tail of household and resident lines)."""
    out = np.empty(city.n_areas + 1, dtype=object)
    anc = city.area_anc[city.unit_ids]
    out[city.unit_ids] = ["\t".join(map(str, a)) for a in anc.tolist()]
    return out


_TF = np.array(["f", "t"], dtype=object)


def _generated(city, convert, timings: dict):
    """``(chunk, convert(chunk))`` for each chunk of the city's residents; the time spent generating and converting
    them (not writing them) is added up in ``timings["residents_generate"]``."""
    chunks = city.resident_chunks()
    timings["residents_generate"] = 0.0
    while True:
        g = time.perf_counter()
        ch = next(chunks, None)
        if ch is None:
            return
        out = convert(ch)
        timings["residents_generate"] += time.perf_counter() - g
        yield ch, out


def _pg_residents(ch, anc_str: np.ndarray) -> str:
    due = ["\\N" if d is None else d for d in ch.pregnant_due]
    cols = (ch.id.astype(str).tolist(), ch.household_id.astype(str).tolist(), ch.name, ch.id_number, ch.phone,
            ch.birth_date, ch.sex, _TF[ch.lives_alone.view(np.int8)].tolist(), due, ch.treatment,
            _TF[ch.disability.view(np.int8)].tolist(), _TF[ch.chronic_illness.view(np.int8)].tolist(),
            anc_str[ch.anc[:, 5]].tolist())
    return "\n".join(map("\t".join, zip(*cols))) + "\n"


def _insert_all(cur, table: str, fields, batches, bar: Progress, step: str, timings: dict) -> None:
    """SQLite: every ``(count, rows)`` batch inserted into ``table``; the seconds in ``timings[step]``."""
    t = time.perf_counter()
    sql = f'INSERT INTO "{table}" ({_cols(fields)}) VALUES ({",".join("?" * len(fields))})'
    for n, rows in batches:
        cur.executemany(sql, rows)
        bar.update(n, step)
    timings[step] = time.perf_counter() - t


# ---------------------------------------------------------------------------------------------- SQLite
def _load_sqlite(conn, city: City, bar: Progress, timings: dict, replace: bool) -> None:
    tables = [m._meta.db_table for m in MODELS]
    conn.ensure_connection()
    raw = conn.connection
    saved = {}
    tune = not conn.in_atomic_block
    if tune:
        for p in ("synchronous", "journal_mode", "cache_size", "temp_store", "foreign_keys"):
            saved[p] = raw.execute(f"PRAGMA {p}").fetchone()[0]
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -262144")
        raw.execute("PRAGMA temp_store = MEMORY")
        raw.execute("PRAGMA journal_mode = DELETE")
    try:
        with transaction.atomic(using=conn.alias):
            cur = raw.cursor()
            t = time.perf_counter()
            cur.execute(f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                        f"AND sql IS NOT NULL AND tbl_name IN ({','.join('?' * len(tables))})", tables)
            indexes = cur.fetchall()
            for kind, name, _ in indexes:
                cur.execute(f'DROP {kind.upper()} "{name}"')
            if replace:
                for table in reversed(tables):
                    cur.execute(f'DELETE FROM "{table}"')
            # AUTOINCREMENT keeps the highest id ever used, rows deleted since included (the tables are empty
            # here): start again from the loaded ids
            cur.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({','.join('?' * len(tables))})", tables)
            timings["drop_indexes"] = time.perf_counter() - t

            _insert_all(cur, tables[0], AREA_FIELDS, ((len(r), r) for r in city.areas()), bar, "areas", timings)
            _insert_all(cur, tables[1], HOUSEHOLD_FIELDS, ((len(r), r) for r in city.households()), bar, "households",
                        timings)
            _insert_all(cur, tables[2], RESIDENT_FIELDS,
                        ((len(ch), r) for ch, r in _generated(city, lambda ch: ch.rows(), timings)), bar, "residents",
                        timings)

            t = time.perf_counter()
            bar.update(0, "indexes", force=True)
            for _kind, _name, ddl in indexes:
                cur.execute(ddl)
            timings["indexes"] = time.perf_counter() - t
            # the search table over names and phones (migration 0003), whose triggers were dropped with the
            # indexes: read again from the loaded rows in one pass
            t = time.perf_counter()
            if cur.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [FTS_TABLE]).fetchone():
                bar.update(0, "search index", force=True)
                cur.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            timings["search_index"] = time.perf_counter() - t
    finally:
        if tune:
            t = time.perf_counter()
            raw.execute(f"PRAGMA journal_mode = {saved['journal_mode']}")
            raw.execute(f"PRAGMA synchronous = {saved['synchronous']}")
            raw.execute(f"PRAGMA cache_size = {saved['cache_size']}")
            raw.execute(f"PRAGMA temp_store = {saved['temp_store']}")
            raw.execute(f"PRAGMA foreign_keys = {saved['foreign_keys']}")
            timings["finish"] = time.perf_counter() - t
    bar.update(0, "analyze", force=True)
    with conn.cursor() as c:
        c.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: seconds instead of a full scan
        for table in tables:
            c.execute(f'ANALYZE "{table}"')

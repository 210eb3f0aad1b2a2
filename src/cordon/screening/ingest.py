"""Bulk ingestion of sample registrations and tube results (CSV files and API batches).

One pipeline for the CLI (``cordon import samples|results FILE``), the API and the demo:

- **Streaming.** The file is read in chunks of ``CHUNK_BYTES`` cut at a line end; memory does not grow with
  the file. Quoted fields are understood, but a quoted field may not contain a line break.
- **Validation per row.** A row that is not kept is stored as a ``RowError`` (line, field, reason); the error
  report CSV is written from those rows (``write_error_report``). Well-formed rows are recognised by one
  regular expression over the whole chunk (C speed); the others go through a field-by-field check that
  names the field and the reason.
- **Idempotent by batch.** A file's batch key is its sha256; an API batch brings its own key. A finished
  batch imported again changes nothing.
- **Crash-safe.** Each chunk is written in one transaction that also moves the batch's byte offset and line
  (compare-and-set on the offset, so two processes never write the same chunk). A killed import, rerun with
  the same file, continues at the offset: every row ends up stored exactly once.
- **No per-row queries.** ID numbers are resolved against an in-memory index of the residents (sorted
  17-digit keys as uint64, loaded once per process with a streaming read; ~17 bytes per resident; trusted
  while the residents' change stamp and id range stand still), so a chunk is resolved with one vectorised
  ``searchsorted``. People already registered in the round are a bitmap over resident ids (one byte per
  resident), read from the table when an import starts; a file small next to its round (late
  registrations) instead asks the table about each chunk's own people.
- **Two threads.** Outside a caller's transaction (the CLI, the demo, the benchmark) a file of several
  chunks is written by a second thread on its own connection while the next chunk is read and checked
  (``_Pipeline``); inside one (tests, API batches) everything runs on the caller's connection.
- **Bulk writes.** Registrations: ``COPY`` straight into the table on PostgreSQL (the vectorised path rewrites
  each line in place and puts the round and batch ids in front of it), ``executemany`` on SQLite; with each
  chunk, its rows counted per unit and day go to ``SampleTally`` in the same transaction (coverage reads
  those). After a large import the planner's statistics are refreshed (PostgreSQL).
  Results: ``COPY``/``executemany`` into a temporary staging table, then one ``INSERT ... SELECT ... ON
  CONFLICT DO NOTHING RETURNING line`` (the first report of a tube wins; the rest are duplicates).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import sys
import time
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
from django.db import connection, transaction
from django.db.models import F

from cordon.core import access, audit, clock, ids
from cordon.core.actions import ActionError

from .models import BatchKind, BatchStatus, ImportBatch, Round, RowError, Sample, SampleTally, TubeResult

CHUNK_BYTES = 8 << 20  # ~190 k registrations a chunk: the transient arrays of a chunk stay ~100 MB
MAX_FIELD = 80

SAMPLE_COLUMNS = {
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "barcode": ("barcode", "tube", "试管编码", "管码", "条码"),
    "site": ("site", "采样点"),
    "sampled_at": ("sampled_at", "采样时间"),
}
RESULT_COLUMNS = {
    "barcode": ("barcode", "tube", "试管编码", "管码", "条码"),
    "result": ("result", "检测结果", "结果"),
    "lab": ("lab", "检测机构", "实验室"),
    "reported_at": ("reported_at", "报告时间"),
}
REQUIRED = {"samples": ("id_number", "barcode", "sampled_at"), "results": ("barcode", "result", "reported_at")}
RESULT_WORDS = {"negative": "negative", "positive": "positive", "invalid": "invalid",
                "阴性": "negative", "阳性": "positive", "无效": "invalid"}

_TIME = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?"
_FREE = r"[^,\"\t\\\r\n]{0,80}"
_BARCODE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
_TIME_RE = re.compile(rf"^{_TIME}$")
# canonical column order, unquoted: one match per line; group 5 (or 5) catches lines needing the slow path
SAMPLE_ROW = re.compile(rf"^(?:(\d{{17}}[\dX]),([A-Za-z0-9-]{{4,32}}),({_FREE}),({_TIME})\r?|([^\n]*))$", re.M)
RESULT_ROW = re.compile(rf"^(?:([A-Za-z0-9-]{{4,32}}),(negative|positive|invalid),({_FREE}),({_TIME})\r?|([^\n]*))$",
                        re.M)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (missing, wrong type, missing columns)."""


class SimulatedCrash(RuntimeError):
    """Raised by ``stop_after`` (tests): the process 'dies' after N committed chunks."""


# ---------------------------------------------------------------------------------------------- resident index
class ResidentIndex:
    """ID number -> (resident id, unit id), as sorted numpy arrays; ancestor ids per unit."""

    _cache: dict = {}
    TTL = 300  # seconds a long-running process trusts its index (a resident who moved changes no count)

    def __init__(self, keys, chk, rid, unit, anc):
        self.keys, self.chk, self.rid, self.unit, self.anc = keys, chk, rid, unit, anc
        self.max_rid = int(rid.max()) if len(rid) else 0

    @classmethod
    def get(cls, fresh: bool = False) -> "ResidentIndex":
        """The index for the current database; reloaded when residents changed (newest id, ID number range,
        change stamp) or after ``TTL``."""
        from cordon.core import stamps
        from cordon.places.models import Resident

        # what identifies the residents' state cheaply: the newest id, the ID number range (index ends) and
        # the residents' change stamp (every save, delete and bulk write of residents bumps it); no count(*),
        # which scans millions of rows
        with connection.cursor() as c:
            t = Resident._meta.db_table
            # one aggregate per subquery: each is then read from an index end (SQLite scans the table for
            # several aggregates in one SELECT)
            c.execute(f"SELECT (SELECT max(id) FROM {t}), (SELECT min(id_number) FROM {t}), "
                      f"(SELECT max(id_number) FROM {t})")
            stamp = (connection.settings_dict["NAME"], *c.fetchone(), *stamps.read("residents"))
        hit = cls._cache.get("idx")
        if hit and hit[0] == stamp and not fresh and time.monotonic() - hit[2] < cls.TTL:
            return hit[1]
        cls._cache.clear()
        idx = cls.load(stamp[1] or 0)
        cls._cache["idx"] = (stamp, idx, time.monotonic())
        return idx

    @classmethod
    def load(cls, n: int) -> "ResidentIndex":
        from cordon.places.models import Area, Resident

        keys = np.empty(n, dtype=np.uint64)
        chk = np.empty(n, dtype=np.uint8)
        rid = np.empty(n, dtype=np.int64)
        unit = np.empty(n, dtype=np.int64)
        k = 0
        table = Resident._meta.db_table
        for idn, ri, un in _stream_residents(table):
            m = len(ri)
            if k + m > n:  # rows appeared meanwhile
                extra = k + m - n
                keys, chk, rid, unit = (np.resize(a, n + extra) for a in (keys, chk, rid, unit))
                n += extra
            kk, cc, ok = id_keys(idn)
            keys[k:k + m], chk[k:k + m], rid[k:k + m], unit[k:k + m] = kk, cc, ri, un
            # a malformed stored ID number can never match (key 0 is no valid ID)
            keys[k:k + m][~ok] = 0
            k += m
        keys, chk, rid, unit = keys[:k], chk[:k], rid[:k], unit[:k]
        order = np.argsort(keys, kind="stable")
        keys, chk, rid, unit = keys[order], chk[order], rid[order], unit[order]
        with connection.cursor() as c:
            c.execute(f"SELECT max(id) FROM {Area._meta.db_table}")
            n_areas = c.fetchone()[0] or 0
            anc = np.zeros((n_areas + 1, 6), dtype=np.int64)
            c.execute(f"SELECT id, district_id, street_id, community_id, compound_id, building_id, unit_id "
                      f"FROM {Area._meta.db_table} WHERE kind = 'unit'")
            while True:
                rows = c.fetchmany(50_000)
                if not rows:
                    break
                a = np.array([[v or 0 for v in r] for r in rows], dtype=np.int64)
                anc[a[:, 0]] = a[:, 1:]
        return cls(keys, chk, rid, unit, anc)

    def lookup(self, idn_bytes: np.ndarray):
        """(found mask, resident ids, unit ids) for an array of 18-byte ID numbers."""
        kk, cc, ok = id_keys(idn_bytes)
        if not len(self.keys):
            z = np.zeros(len(kk), dtype=np.int64)
            return np.zeros(len(kk), dtype=bool), z, z
        pos = np.searchsorted(self.keys, kk).clip(0, len(self.keys) - 1)
        found = ok & (self.keys[pos] == kk) & (self.chk[pos] == cc)
        return found, self.rid[pos], self.unit[pos]




def id_keys(idn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint64 key of the first 17 digits, the check byte ('x' as 'X'), and a well-formed mask."""
    arr = np.ascontiguousarray(idn, dtype="S18")
    b = arr.view(np.uint8).reshape(-1, 18)
    ok = np.ones(len(b), dtype=bool)
    keys = np.zeros(len(b), dtype=np.uint64)
    for i in range(17):  # column by column: 17 vector operations, no (n, 17) int64 matrix
        d = b[:, i] - np.uint8(48)  # wraps below '0', so one comparison checks both ends
        ok &= d <= 9
        keys *= np.uint64(10)
        keys += np.minimum(d, 9)
    chk = b[:, 17].copy()
    chk[chk == ord("x")] = ord("X")
    return keys, chk, ok


_RES_ROW = np.dtype([("idn", "S18"), ("id", ">i8"), ("unit", ">i4")])


def _records(data: bytes):
    """(id numbers, ids, unit ids) of a range's binary records (``_stream_residents_pg``)."""
    rec = np.frombuffer(data, dtype=_RES_ROW)
    return rec["idn"], rec["id"].astype(np.int64), rec["unit"].astype(np.int64)


def _stream_residents(table: str, batch: int = 500_000):
    """(id_number bytes array, ids, unit ids) per id range of residents, without holding them as objects.

    One row per id range, the columns aggregated by the database (aggregates of one query see the rows in
    the same order): a few round trips and vectorised parsing instead of a driver round and a Python tuple
    per resident. PostgreSQL sends each range as one binary string of fixed 30-byte records, two ranges at
    a time on two connections (the server's aggregation is the slow part). ID numbers that are not 18 bytes
    are left out (they can never match)."""
    with connection.cursor() as c:
        c.execute(f"SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM {table}")
        lo, hi = c.fetchone()
    ranges = list(range(lo, hi + 1, batch))
    if connection.vendor == "postgresql":
        yield from _stream_residents_pg(table, ranges, batch)
        return
    with connection.cursor() as c:
        for a in ranges:  # SQLite
            c.execute(f"SELECT group_concat(id_number, ''), group_concat(id, ','), group_concat(coalesce(unit_id, 0), "
                      f"',') FROM {table} WHERE id >= %s AND id < %s AND length(CAST(id_number AS BLOB)) = 18",
                      [a, a + batch])
            idn, ri, un = c.fetchone()
            if not idn:
                continue
            yield (np.frombuffer(idn.encode("utf-8"), dtype="S18"), np.fromstring(ri, dtype=np.int64, sep=","),
                   np.fromstring(un, dtype=np.int64, sep=","))


def _stream_residents_pg(table: str, ranges: list[int], batch: int):
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    sql = (f"SELECT string_agg(convert_to(id_number, 'UTF8') || int8send(id) || int4send(coalesce(unit_id, 0)::int), "
           f"''::bytea) FROM {table} WHERE id >= %s AND id < %s AND octet_length(id_number) = 18")
    if connection.in_atomic_block:  # inside a caller's transaction only its own connection sees its rows
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cur:
            for a in ranges:
                cur.execute(sql, [a, a + batch], binary=True)
                data = cur.fetchone()[0]
                if data:
                    yield _records(data)
        return
    params = connection.get_connection_params()
    conns = [connection.get_new_connection(params) for _ in range(2)]
    for conn in conns:
        # each range is read by the primary key (a planner estimating 10 % of the table would otherwise scan
        # all of it for each range, in parallel workers); the two connections are the parallelism
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET max_parallel_workers_per_gather = 0")
    free = list(conns)

    def fetch(a: int) -> bytes:
        conn = free.pop()
        try:
            with psycopg.Cursor(conn) as cur:  # Django's default cursor class cannot return binary results
                cur.execute(sql, [a, a + batch], binary=True)
                return cur.fetchone()[0] or b""
        finally:
            free.append(conn)

    try:
        with ThreadPoolExecutor(max_workers=len(conns)) as pool:
            for data in pool.map(fetch, ranges):
                if data:
                    yield _records(data)
    finally:
        for conn in conns:
            conn.close()


# ---------------------------------------------------------------------------------------------- helpers
def id_in(column: str, values: list[int]) -> tuple[str, object]:
    """SQL condition ``column`` in ``values`` with a single parameter (an array on PostgreSQL, a JSON list
    read by ``json_each`` on SQLite): no statement with thousands of placeholders."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", list(values)
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(list(values))


@dataclass
class Outcome:
    batch: ImportBatch
    already: bool = False          # the batch was finished before: nothing changed
    seconds: float = 0.0


@dataclass
class _Prep:
    """A chunk ready to write: rows kept, duplicates, the vectorised part and the field-by-field part."""

    ok: int = 0
    dup: int = 0
    fast: object = None
    slow: object = None
    fast_days: object = None  # registrations: city-time day (ordinal) of each row of ``fast``
    tally: list = None        # registrations: (round, unit, day, n) rows for ``SampleTally``


def _utf8(buf: bytes) -> bool:
    try:
        buf.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _digits(x: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded."""
    p = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((x.astype(np.int64)[:, None] // p) % 10 + 48).astype(np.uint8)


class _SqlitePragmas:
    """A bigger page cache while a batch is written (the indexes of a big table stay in memory)."""

    def __init__(self):
        self.saved = None

    def begin(self):
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            raw = connection.connection
            self.saved = raw.execute("PRAGMA cache_size").fetchone()[0]
            raw.execute("PRAGMA cache_size = -131072")

    def end(self):
        if self.saved is not None:
            connection.connection.execute(f"PRAGMA cache_size = {int(self.saved)}")
            self.saved = None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Times:
    """Validates and converts 'YYYY-MM-DD HH:MM[:SS]' (city time) to the database's text form, cached:
    a round has few distinct minutes."""

    def __init__(self, lo: dt.datetime | None = None, hi: dt.datetime | None = None):
        self.tz = clock.tz()
        self.pg = connection.vendor == "postgresql"
        self.cache: dict[str, str | None] = {}
        self.lo, self.hi = lo, hi
        self.why: dict[str, str] = {}

    def __call__(self, s: str):
        v = self.cache.get(s, 0)
        if v != 0:
            return v
        if len(self.cache) > 500_000:
            self.cache.clear()
        try:
            d = dt.datetime.fromisoformat(s.replace("T", " "))
        except ValueError:
            self.why[s] = f"not a real date and time: {s}"
            self.cache[s] = None
            return None
        d = d.replace(tzinfo=self.tz) if d.tzinfo is None else d.astimezone(self.tz)
        if (self.lo and d < self.lo) or (self.hi and d > self.hi):
            self.why[s] = f"{s} is outside the round's window ({self.lo:%Y-%m-%d} to {self.hi:%Y-%m-%d})"
            self.cache[s] = None
            return None
        v = d.isoformat(sep=" ") if self.pg else d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        self.cache[s] = v
        return v


def _header(line: str, kind: str) -> tuple[list[int], bool]:
    """Positions of the canonical columns in the header; True when the layout is the canonical one."""
    cols = SAMPLE_COLUMNS if kind == "samples" else RESULT_COLUMNS
    cells = next(csv.reader([line.lstrip("\ufeff")]), [])
    lookup = {a.lower(): c for c, aliases in cols.items() for a in aliases}
    pos: dict[str, int] = {}
    for i, h in enumerate(cells):
        c = lookup.get(h.strip().lower())
        if c and c not in pos:
            pos[c] = i
    missing = [c for c in REQUIRED[kind] if c not in pos]
    if missing:
        raise ImportFileError("missing columns: " + ", ".join(missing) + " (found: " + ", ".join(cells) + ")")
    order = [pos.get(c, -1) for c in cols]
    return order, order == list(range(len(cols))) and len(cells) == len(cols)


def _check_sample(f: list[str]):
    """Field checks of one registration row -> (field, reason) or None. ``f``: id, barcode, site, time."""
    idn, bc, site, t = f
    if not idn:
        return "id_number", "required"
    err = ids.id_number_error(idn)
    if err:
        return "id_number", err
    if not bc:
        return "barcode", "required"
    if not _BARCODE.match(bc):
        return "barcode", "4 to 32 letters, digits or '-'"
    if len(site) > MAX_FIELD or any(ch in site for ch in "\t\\\r\n"):
        return "site", f"at most {MAX_FIELD} characters, no tabs or backslashes"
    if not t:
        return "sampled_at", "required"
    if not _TIME_RE.match(t):
        return "sampled_at", "expected YYYY-MM-DD HH:MM[:SS]"
    return None


def _check_result(f: list[str]):
    bc, res, lab, t = f
    if not bc:
        return "barcode", "required"
    if not _BARCODE.match(bc):
        return "barcode", "4 to 32 letters, digits or '-'"
    if res.lower() not in RESULT_WORDS:
        return "result", f"must be negative, positive or invalid (阴性/阳性/无效), got {res[:20]!r}"
    if len(lab) > MAX_FIELD or any(ch in lab for ch in "\t\\\r\n"):
        return "lab", f"at most {MAX_FIELD} characters, no tabs or backslashes"
    if not t:
        return "reported_at", "required"
    if not _TIME_RE.match(t):
        return "reported_at", "expected YYYY-MM-DD HH:MM[:SS]"
    return None


def _slow_rows(kind: str, items, order: list[int], errors: list):
    """Field-by-field parse of (line, text) pairs -> good rows [(line, f1, f2, f3, f4)]."""
    width = len(order)
    check = _check_sample if kind == "samples" else _check_result
    good = []
    for line, text in items:
        try:
            cells = next(csv.reader([text]))
        except (csv.Error, StopIteration):
            errors.append((line, "row", "not a CSV row"))
            continue
        need = max(order) + 1
        if len(cells) < need or (len(cells) > need and any(c.strip() for c in cells[need:])):
            errors.append((line, "row", f"expected {need} fields, got {len(cells)}"))
            continue
        f = [cells[i].strip() if i >= 0 else "" for i in order][:width]
        if kind == "samples":
            f[0] = f[0].upper()
        else:
            f[1] = RESULT_WORDS.get(f[1].lower(), f[1])
        bad = check(f)
        if bad:
            errors.append((line, *bad))
            continue
        good.append((line, *f))
    return good


def _parse_text(kind: str, text: str, line0: int, order: list[int], canonical: bool, errors: list):
    """Rows of a chunk of text -> columns (lines, c1, c2, c3, c4); line0 = line number of the first row."""
    if canonical:
        rx = SAMPLE_ROW if kind == "samples" else RESULT_ROW
        found = rx.findall(text)
        if text.endswith("\n"):
            found = found[:-1] if found and found[-1] == ("", "", "", "", "") else found
        slow_items = [(line0 + i, t[4]) for i, t in enumerate(found) if t[0] == "" and t[4].strip()]
        if not slow_items and all(t[0] for t in found):
            lines = range(line0, line0 + len(found))
            cols = list(zip(*found))[:4] if found else [(), (), (), ()]
            return [list(lines), *cols]
        good = [(line0 + i, t[0], t[1], t[2], t[3]) for i, t in enumerate(found) if t[0]]
        good += _slow_rows(kind, slow_items, order, errors)
        good.sort()
    else:
        items = [(line0 + i, ln) for i, ln in enumerate(text.split("\n")) if ln.strip()]
        good = _slow_rows(kind, items, order, errors)
    if not good:
        return [[], [], [], [], []]
    return [list(c) for c in zip(*good)]


def _read_chunks(path: Path, offset: int, chunk_bytes: int):
    """(start offset, end offset, bytes) per chunk, each ending at a line end (the last may not)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        pos = offset
        rest = b""
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                if rest:
                    yield pos, pos + len(rest), rest
                return
            data = rest + block
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            body, rest = data[: cut + 1], data[cut + 1:]
            yield pos, pos + len(body), body
            pos += len(body)


class Progress:
    """Bytes of the file done, on stderr (a bar on a terminal, a line per 10 % in a log)."""

    def __init__(self, total: int, label: str, enabled: bool = True, stream=None):
        self.total, self.label, self.enabled = max(1, total), label, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self._last, self._step = 0.0, -1

    def show(self, done: int, rows: int, bad: int, final: bool = False) -> None:
        if not self.enabled:
            return
        frac = min(1.0, done / self.total)
        now = time.monotonic()
        if self.tty:
            if not final and now - self._last < 0.2:
                return
        else:
            step = int(frac * 10)
            if step == self._step and not final:
                return
            self._step = step
        self._last = now
        bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
        start, end = ("\r", "\n" if final else "") if self.tty else ("", "\n")
        self.stream.write(f"{start}{self.label} [{bar}] {frac * 100:5.1f}% {rows:>10,} rows kept {bad:>7,} bad "
                          f"{now - self.t0:6.1f}s{end}")
        self.stream.flush()


# ---------------------------------------------------------------------------------------------- batches
def _open_batch(kind: str, key: str, *, rnd: Round | None, source: str, size: int, actor, community_id=None):
    """The batch for ``key`` (created on first sight). Returns (batch, already_done)."""
    with transaction.atomic():
        b, created = ImportBatch.objects.get_or_create(kind=kind, key=key, defaults=dict(
            round=rnd, source=source[:200], size=size, started=clock.now(), actor=audit.actor_name(actor),
            community_id=community_id))
    if not created:
        if kind == BatchKind.SAMPLES and rnd is not None and b.round_id != rnd.pk:
            raise ActionError(f"this file was already imported into round {b.round_id}", field="round")
        if b.status == BatchStatus.DONE:
            return b, True
        if b.status == BatchStatus.FAILED:
            ImportBatch.objects.filter(pk=b.pk).update(status=BatchStatus.RUNNING)
            b.status = BatchStatus.RUNNING
    return b, False


def _finish(b: ImportBatch, actor, seconds: float) -> None:
    with transaction.atomic():
        n = ImportBatch.objects.filter(pk=b.pk, status=BatchStatus.RUNNING).update(
            status=BatchStatus.DONE, finished=clock.now())
        b.refresh_from_db()
        if n:
            scope = None
            if b.round_id:
                from .models import RoundArea

                ra = RoundArea.objects.filter(round_id=b.round_id).select_related("area")
                scope = ra[0].area if b.round and b.round.coverage != "city" and len(ra) == 1 else None
            audit.record(f"screening.import_{b.kind}", actor=actor, object_type="importbatch", object_id=b.pk,
                         object_repr=b.source or b.key[:16], scope=scope,
                         after={"key": b.key, "round": b.round_id, "rows_ok": b.rows_ok, "rows_bad": b.rows_bad,
                                "rows_duplicate": b.rows_duplicate, "seconds": round(seconds, 2)})


def _commit_chunk(b: ImportBatch, start: int, end: int, lines_done: int, ok: int, dup: int,
                  errors: list, write) -> None:
    """One transaction: move the batch's offset (compare-and-set), write the rows and the errors."""
    with transaction.atomic():
        n = ImportBatch.objects.filter(pk=b.pk, offset=b.offset, status=BatchStatus.RUNNING).update(
            offset=end, line=lines_done, rows_ok=F("rows_ok") + ok, rows_bad=F("rows_bad") + len(errors),
            rows_duplicate=F("rows_duplicate") + dup)
        if n != 1:
            raise ActionError("another process is importing this batch (its offset moved); rerun to continue",
                              field="batch")
        write()
        if errors:
            RowError.objects.bulk_create([RowError(batch_id=b.pk, line=ln, field=f, reason=r[:200])
                                          for ln, f, r in errors], batch_size=2000)
    b.offset, b.line = end, lines_done
    b.rows_ok += ok
    b.rows_bad += len(errors)
    b.rows_duplicate += dup


def write_error_report(batch: ImportBatch, path) -> int:
    """The batch's bad rows as CSV (line, field, reason), streamed; returns the number of rows."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["line", "field", "reason"])
        for e in RowError.objects.filter(batch=batch).order_by("line").values_list(
                "line", "field", "reason").iterator(chunk_size=5000):
            w.writerow(e)
            n += 1
    return n


# ---------------------------------------------------------------------------------------------- vectorised scan
def _table(chars: bytes) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    t[np.frombuffer(chars, dtype=np.uint8)] = True
    return t


_DIGIT = _table(b"0123456789")
_BC_OK = _table(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
# bytes that send a line to the field-by-field path: quotes, and what COPY's text format would escape
_SPECIAL = _table(b'"\t\\\r\x00')
_AR = np.arange(32, dtype=np.int64)
#: positions of digits in 'YYYY-MM-DD HH:MM:SS'
_T_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15], dtype=np.int64)


def _within(pos: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many of the sorted positions ``pos`` fall in [lo, hi) per line."""
    return np.searchsorted(pos, hi) - np.searchsorted(pos, lo)


class _Scan:
    """A chunk of a canonical file as line arrays: starts, ends (no line break), the three commas of a
    4-field line, and ``ok``: the line has 4 fields and nothing that needs the field-by-field path."""

    def __init__(self, buf: bytes):
        a = self.a = np.frombuffer(buf, dtype=np.uint8)
        n = self.n = len(a)
        nl = np.flatnonzero(a == 10)
        ends = nl if (n and len(nl) and nl[-1] == n - 1) or not n else np.append(nl, n)
        starts = np.empty_like(ends)
        if len(ends):
            starts[0] = 0
            starts[1:] = ends[:-1] + 1
        self.cr = bool(len(ends)) and b"\r" in buf
        if self.cr:  # CRLF: the CR belongs to the line end
            ends = ends - ((ends > starts) & (a[np.maximum(ends - 1, 0)] == 13))
        self.starts, self.ends = starts, ends
        special = np.flatnonzero(_SPECIAL[a])
        commas = np.flatnonzero(a == 44)
        self.blank = ends == starts
        ok = (_within(commas, starts, ends) == 3) & ~self.blank
        if len(special):
            ok &= _within(special, starts, ends) == 0
        if len(commas) >= 3:
            fi = np.searchsorted(commas, starts).clip(0, max(0, len(commas) - 3))
            self.c1, self.c2, self.c3 = commas[fi], commas[fi + 1], commas[fi + 2]
        else:
            ok[:] = False
            self.c1 = self.c2 = self.c3 = starts
        self.ok = ok

    def gather(self, pos: np.ndarray, width: int) -> np.ndarray:
        """(lines, width) bytes from ``pos`` on (clipped at the chunk's end)."""
        return self.a[np.minimum(pos[:, None] + _AR[:width], max(0, self.n - 1))]

    def check_token(self, lo, hi, table, lmin, lmax) -> np.ndarray:
        """Field [lo, hi) is lmin..lmax bytes, all in ``table``."""
        ln = hi - lo
        ok = (ln >= lmin) & (ln <= lmax)
        bad = np.flatnonzero(~table[self.a])
        return ok & (_within(bad, lo, hi) == 0)

    def chars(self, lo, hi) -> np.ndarray:
        """UTF-8 characters in [lo, hi) (the chunk is valid UTF-8)."""
        cont = np.flatnonzero((self.a & 0xC0) == 0x80)
        return (hi - lo) - _within(cont, lo, hi)

    def check_time(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """'YYYY-MM-DD HH:MM[:SS]' in [lo, hi): (well-formed mask, S19 keys)."""
        ln = hi - lo
        b = self.gather(lo, 19)
        ok = (ln == 16) | (ln == 19)
        ok &= _DIGIT[b[:, _T_DIGITS[:10]]].all(axis=1)
        ok &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 32) | (b[:, 10] == 84)) & (b[:, 13] == 58)
        long = ln == 19
        ok &= ~long | ((b[:, 16] == 58) & _DIGIT[b[:, 17]] & _DIGIT[b[:, 18]])
        b[~long, 16:] = 0
        return ok, np.ascontiguousarray(b).view("S19").ravel()

    def text(self, i: int) -> str:
        return bytes(self.a[self.starts[i]:self.ends[i]]).decode("utf-8", errors="replace")

    def runs(self, keep: np.ndarray, data=None) -> bytes:
        """The kept lines (indices, ascending) of ``data`` (default the chunk) joined, one per line."""
        if not len(keep):
            return b""
        mv = memoryview(self.a if data is None else data)
        if self.cr:
            s, e = self.starts[keep], self.ends[keep]
        else:
            brk = np.flatnonzero(np.diff(keep) != 1)
            s = self.starts[keep[np.concatenate(([0], brk + 1))]]
            e = self.ends[keep[np.concatenate((brk, [len(keep) - 1]))]]
        return b"\n".join([mv[x:y] for x, y in zip(s.tolist(), e.tolist())]) + b"\n"


# ---------------------------------------------------------------------------------------------- samples
def tally_rows(round_id: int, units: np.ndarray, days: np.ndarray) -> list[tuple]:
    """A chunk's registrations counted per (unit, day): rows (round, unit, day, n) for ``SampleTally``."""
    if not len(units):
        return []
    base = int(days.min())
    key = units.astype(np.int64) * 65536 + (days - base)
    uk, counts = np.unique(key, return_counts=True)
    return list(zip(repeat(round_id), (uk // 65536).tolist(),
                    (dt.date.fromordinal(base + int(d)) for d in uk % 65536), counts.tolist()))


def write_tally(rows: list[tuple]) -> None:
    """Add a chunk's counts (``tally_rows``) to ``SampleTally`` (one bulk insert, in the chunk's transaction)."""
    if not rows:
        return
    table = SampleTally._meta.db_table
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            text = "".join([f"{r}\t{u}\t{d.isoformat()}\t{n}\n" for r, u, d, n in rows])
            with c.cursor.copy(f"COPY {table} (round_id, unit_id, day, n) FROM STDIN") as cp:
                cp.write(text.encode("ascii"))
        else:
            c.executemany(f"INSERT INTO {table} (round_id, unit_id, day, n) VALUES (%s, %s, %s, %s)", rows)


class _SampleWriter:
    """Resolves and writes registration rows for one batch of one round."""

    def __init__(self, rnd: Round, batch: ImportBatch, actor):
        self.round, self.batch = rnd, batch
        self.idx = ResidentIndex.get()
        self.pg = connection.vendor == "postgresql"
        day0 = dt.datetime.combine(rnd.on, dt.time(0), tzinfo=clock.tz())
        self.times = _Times(day0 - dt.timedelta(days=1), day0 + dt.timedelta(days=3))
        self.scope = None
        if actor is not None and not isinstance(actor, str):
            sc = access.scope_for(actor, access.WRITE)
            if not sc.everything:
                self.scope = sc
        self.seen = self._load_seen()
        # the vectorised path writes "resident(9)\tunit(8)\t" over each line's "id_number(18),"
        self.fast_ok = (self.idx.max_rid < 10 ** 9 and len(self.idx.anc) < 10 ** 8 and rnd.pk < 10 ** 7
                        and batch.pk < 10 ** 7)
        self._pragmas = _SqlitePragmas()

    def begin(self):
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    #: bytes of a registrations file per row, about (to weigh the file against the round)
    ROW_BYTES = 60

    def _load_seen(self) -> np.ndarray:
        """People registered in the round before this import, as a bitmap over resident ids: read from the
        table when the round is small next to the file; otherwise (a late file for a round of millions)
        left empty and each chunk asks the table about its own people (``self.probe``)."""
        seen = np.zeros(self.idx.max_rid + 2, dtype=bool)
        self.probe = False
        table = Sample._meta.db_table
        with connection.cursor() as c:
            c.execute(f"SELECT coalesce(sum(n), 0) FROM {SampleTally._meta.db_table} WHERE round_id = %s",
                      [self.round.pk])
            registered = int(c.fetchone()[0])
        if not registered:
            return seen
        if registered > 4 * max(0, self.batch.size - self.batch.offset) // self.ROW_BYTES:
            self.probe = True
            return seen
        agg = "string_agg(resident_id::text, ',')" if self.pg else "group_concat(resident_id, ',')"
        # by resident id ranges, aggregated by the database into one string each (no driver round per row)
        with connection.cursor() as c:
            c.execute(f"SELECT min(resident_id), max(resident_id) FROM {table} WHERE round_id = %s",
                      [self.round.pk])
            lo, hi = c.fetchone()
            if lo is None:
                return seen
            for a in range(lo, hi + 1, 1_000_000):
                c.execute(f"SELECT {agg} FROM {table} WHERE round_id = %s "
                          f"AND resident_id >= %s AND resident_id < %s", [self.round.pk, a, a + 1_000_000])
                txt = c.fetchone()[0]
                if txt:
                    r = np.array(txt.split(","), dtype=np.int64)
                    seen[r[r < len(seen)]] = True
        return seen

    def _ask(self, rid: np.ndarray) -> None:
        """Probe mode: mark those of ``rid`` registered in the round (committed by other imports) as seen."""
        rid = rid[~self.seen[rid]]
        if not len(rid):
            return
        table = Sample._meta.db_table
        with connection.cursor() as c:
            for i in range(0, len(rid), 100_000):
                cond, param = id_in("resident_id", rid[i:i + 100_000].tolist())
                c.execute(f"SELECT resident_id FROM {table} WHERE round_id = %s AND {cond}", [self.round.pk, param])
                found = np.array([r for (r,) in c.fetchall()], dtype=np.int64)
                if len(found):
                    self.seen[found] = True

    def prepare(self, cols, errors: list):
        """Resolve a chunk's columns; returns (rows to write as columns, duplicates)."""
        lines, idn, bc, site, t = cols
        n = len(lines)
        if not n:
            return None, 0
        found, rid, unit = self.idx.lookup(np.array(idn, dtype="S18"))
        ts = [self.times(x) for x in t]
        ts_ok = np.fromiter((x is not None for x in ts), dtype=bool, count=n)
        keep = found & ts_ok
        if self.scope is not None:
            out = found & ts_ok & self._outside(unit)
            for i in np.flatnonzero(out).tolist():
                errors.append((lines[i], "id_number", "person lives outside your jurisdiction"))
            keep &= ~out
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                why = ids.id_number_error(idn[i])
                errors.append((lines[i], "id_number", why or "no resident with this ID number"))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                errors.append((lines[i], "sampled_at", self.times.why.get(t[i], "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        return sel, rid, unit, bc, site, ts, ndup

    def _dedupe(self, sel, rid, lines, errors):
        """Drop people registered before in this round, or earlier in this chunk -> (sel, duplicates)."""
        r = rid[sel]
        if self.probe:
            self._ask(r)
        first = np.zeros(len(sel), dtype=bool)
        _, first_idx = np.unique(r, return_index=True)
        first[first_idx] = True
        dup = self.seen[r] | ~first
        ndup = int(dup.sum())
        if ndup:
            first_line = {}
            for i, rr in zip(sel[first].tolist(), r[first].tolist()):
                first_line[rr] = lines[i]
            for i, rr, before in zip(sel[dup].tolist(), r[dup].tolist(), self.seen[r[dup]].tolist()):
                reason = ("person already registered in this round" if before
                          else f"duplicate: same person as line {first_line[rr]}")
                errors.append((lines[i], "id_number", reason))
            sel = sel[~dup]
        return sel, ndup

    def _outside(self, unit: np.ndarray) -> np.ndarray:
        """Mask of units outside the uploader's write scope (None: no limit)."""
        a = self.idx.anc[unit]
        inside = np.zeros(len(unit), dtype=bool)
        for li, lv in enumerate(access.LEVELS):  # the columns of ``ResidentIndex.anc``
            s = self.scope.by_level.get(lv)
            if s:
                inside |= np.isin(a[:, li], np.fromiter(s, dtype=np.int64))
        return ~inside

    def prepare_chunk(self, buf: bytes, line0: int, order, canonical: bool, errors: list) -> _Prep:
        """A chunk of the file -> _Prep. Canonical layout and valid UTF-8: vectorised; else field by field."""
        if canonical and self.fast_ok and buf and _utf8(buf):
            prep = self._prepare_fast(buf, line0, order, errors)
        else:
            cols = _parse_text("samples", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
            p = self.prepare(cols, errors)
            prep = _Prep() if p[0] is None else _Prep(ok=len(p[0]), dup=p[-1], slow=p)
        prep.tally = self._tally_of(prep)  # all but the database work is done on the reading thread
        return prep

    def _tally_of(self, prep: _Prep) -> list[tuple]:
        units, days = [], []
        if prep.fast is not None:
            units.append(prep.fast[1])
            days.append(prep.fast_days)
        if prep.slow is not None:
            sel, unit, ts = prep.slow[0], prep.slow[2], prep.slow[5]
            if len(sel):
                units.append(unit[sel])
                days.append(np.array([self._day(ts[i]) for i in sel.tolist()], dtype=np.int64))
        return tally_rows(self.round.pk, np.concatenate(units), np.concatenate(days)) if units else []

    def _prepare_fast(self, buf: bytes, line0: int, order, errors: list) -> _Prep:
        sc = _Scan(buf)
        st, en, c1, c2, c3 = sc.starts, sc.ends, sc.c1, sc.c2, sc.c3
        ok = sc.ok & ((c1 - st) == 18)
        idb = sc.gather(st, 18)
        last = idb[:, 17]
        ok &= _DIGIT[idb[:, :17]].all(axis=1) & (_DIGIT[last] | (last == 88) | (last == 120))
        ok &= sc.check_token(c1 + 1, c2, _BC_OK, 4, 32)
        ok &= sc.chars(c2 + 1, c3) <= MAX_FIELD
        tok, tkeys = sc.check_time(c3 + 1, en)
        ok &= tok
        fast = np.flatnonzero(ok)
        slow = np.flatnonzero(~ok & ~sc.blank)
        lines = line0 + fast
        found, rid, unit = self.idx.lookup(np.ascontiguousarray(idb[fast]).view("S18").ravel())
        uniq, inv = np.unique(tkeys[fast], return_inverse=True)
        tvals = [self.times(u.decode("ascii")) for u in uniq.tolist()]
        tgood = np.array([v is not None for v in tvals], dtype=bool)
        ts_ok = tgood[inv] if len(fast) else np.zeros(0, dtype=bool)
        keep = found & ts_ok
        if self.scope is not None and len(fast):
            out = found & ts_ok & self._outside(unit)
            for i in np.flatnonzero(out).tolist():
                errors.append((int(lines[i]), "id_number", "person lives outside your jurisdiction"))
            keep &= ~out
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                idn = bytes(idb[fast[i]]).decode("ascii")
                errors.append((int(lines[i]), "id_number", ids.id_number_error(idn) or "no resident with this ID number"))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                t = uniq[inv[i]].decode("ascii")
                errors.append((int(lines[i]), "sampled_at", self.times.why.get(t, "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        kl = fast[sel]
        rk, uk = rid[sel], unit[sel]
        # city-time day of each kept row (the file's times are city time): for the tally
        uday = np.array([dt.date.fromisoformat(u[:10].decode("ascii")).toordinal() if v is not None else 0
                         for u, v in zip(uniq.tolist(), tvals)], dtype=np.int64)
        days = uday[inv[sel]] if len(sel) else np.zeros(0, dtype=np.int64)
        if self.pg:
            data = sc.a.copy()
            data[data == 44] = 9
            if len(kl):
                pre = np.empty((len(kl), 19), dtype=np.uint8)
                pre[:, :9] = _digits(rk, 9)
                pre[:, 9] = 9
                pre[:, 10:18] = _digits(uk, 8)
                pre[:, 18] = 9
                data[st[kl][:, None] + _AR[:19]] = pre
            fastp = (rk, uk, self._with_prefix(sc.runs(kl, data)), None)
        else:
            tsv = np.array(tvals, dtype=object)
            fastp = (rk, uk, sc.runs(kl), tsv[inv[sel]].tolist() if len(sel) else [])
        slowp = None
        nok, nd = len(sel), ndup
        if len(slow):
            items = [(line0 + int(i), t) for i in slow.tolist() if (t := sc.text(i)).strip()]
            good = _slow_rows("samples", items, order, errors)
            if good:
                cols = [list(c) for c in zip(*good)]
                # people kept by the vectorised part count as seen for the rest of the chunk
                mark = rk[~self.seen[rk]]
                self.seen[mark] = True
                try:
                    slowp = self.prepare(cols, errors)
                finally:
                    self.seen[mark] = False
                if slowp[0] is not None:
                    nok += len(slowp[0])
                    nd += slowp[-1]
                else:
                    slowp = None
        return _Prep(ok=nok, dup=nd, fast=fastp if len(sel) else None, slow=slowp, fast_days=days)

    def write(self, prep: _Prep) -> None:
        """Write a chunk's rows and their tally (inside the chunk's transaction)."""
        if prep.fast is not None:
            self._write_fast(prep.fast)
        if prep.slow is not None:
            self._write_slow(prep.slow)
        write_tally(self._tally_of(prep) if prep.tally is None else prep.tally)

    def _day(self, ts: str) -> int:
        """City-time day (ordinal) of a converted time (PostgreSQL: city time text; SQLite: UTC text)."""
        d = dt.datetime.fromisoformat(ts)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.timezone.utc)
        return d.astimezone(clock.tz()).date().toordinal()

    COLUMNS = "round_id, batch_id, resident_id, unit_id, barcode, site, sampled_at"
    INSERT = f"INSERT INTO {Sample._meta.db_table} ({COLUMNS}) VALUES (?,?,?,?,?,?,?)"  # SQLite, raw connection

    def _write_fast(self, fastp) -> None:
        rk, uk, payload, tss = fastp
        table = Sample._meta.db_table
        if self.pg:
            # the lines (see ``_with_prefix``) are copied straight into the table, the times read as city time
            with connection.cursor() as c:
                c.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [str(clock.tz())])
                was = c.fetchone()[0]
                with c.cursor.copy(f"COPY {table} ({self.COLUMNS}) FROM STDIN") as cp:
                    cp.write(payload)
                c.execute("SELECT set_config('TimeZone', %s, true)", [was])
            return
        f = payload.decode("utf-8").replace("\n", ",").split(",")
        rows = zip(repeat(self.round.pk), repeat(self.batch.pk), rk.tolist(), uk.tolist(), f[1::4], f[2::4], tss)
        connection.ensure_connection()
        connection.connection.executemany(self.INSERT, rows)

    def _with_prefix(self, payload: bytes) -> bytes:
        """Each payload line is "resident(9)\tunit(8)\tbarcode\tsite\ttime"; the round and batch ids go in
        front of every line (fixed width, inserted in one vectorised pass): the COPY text of the chunk."""
        if not payload:
            return payload
        pre = np.frombuffer(f"{self.round.pk:07d}\t{self.batch.pk:07d}\t".encode("ascii"), dtype=np.uint8)
        body = np.frombuffer(payload, dtype=np.uint8)
        starts = np.concatenate(([0], np.flatnonzero(body == 10)[:-1] + 1))
        return np.insert(body, np.repeat(starts, len(pre)), np.tile(pre, len(starts))).tobytes()

    def _write_slow(self, prep) -> None:
        sel, rid, unit, bc, site, ts, _ = prep
        if not len(sel):
            return
        r = rid[sel].tolist()
        u = unit[sel].tolist()
        s = sel.tolist()
        if len(s) == len(bc):
            bcs, sites, tss = bc, site, ts
        else:
            bcs = [bc[i] for i in s]
            sites = [site[i] for i in s]
            tss = [ts[i] for i in s]
        table = Sample._meta.db_table
        if self.pg:
            with connection.cursor() as dj:
                with dj.cursor.copy(f"COPY {table} ({self.COLUMNS}) FROM STDIN") as cp:
                    for row in zip(repeat(self.round.pk), repeat(self.batch.pk), r, u, bcs, sites, tss):
                        cp.write_row(row)
        else:
            connection.ensure_connection()
            connection.connection.executemany(
                self.INSERT, zip(repeat(self.round.pk), repeat(self.batch.pk), r, u, bcs, sites, tss))

    def claim(self, prep: _Prep) -> None:
        """Mark a prepared chunk's people as registered in the round (later chunks see them as duplicates)."""
        if prep.fast is not None:
            self.seen[prep.fast[0]] = True
        if prep.slow is not None:
            sel, rid = prep.slow[0], prep.slow[1]
            if len(sel):
                self.seen[rid[sel]] = True


def import_samples(path, *, round: Round, actor=None, progress: bool = False, chunk_bytes: int = CHUNK_BYTES,
                   stop_after: int | None = None) -> Outcome:
    """Import a registrations CSV into ``round``; see the module docstring. Safe to rerun at any point."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() not in (".csv", ".txt"):
        raise ImportFileError(f"{path.name}: use a CSV file (UTF-8)")
    t0 = time.perf_counter()
    b, done = _open_batch(BatchKind.SAMPLES, sha256_of(path), rnd=round, source=path.name,
                          size=path.stat().st_size, actor=actor)
    if done:
        return Outcome(b, already=True)
    return _run_file(path, "samples", b, _SampleWriter(round, b, actor), actor, progress, chunk_bytes,
                     stop_after, t0)


def _run_file(path: Path, kind: str, b: ImportBatch, writer, actor, progress, chunk_bytes, stop_after, t0):
    with open(path, "rb") as fh:
        head = fh.readline()
    if b"\x00" in head:
        raise ImportFileError(f"{path.name}: binary data, not a CSV text file")
    order, canonical = _header(head.decode("utf-8", errors="replace").rstrip("\r\n"), kind)
    offset, lines_done = (b.offset, b.line) if b.offset else (len(head), 1)
    bar = Progress(b.size, f"{kind} {path.name}", enabled=progress)
    chunks = 0
    sink = (_Pipeline if _pipelined(b.size - offset, chunk_bytes) else _Inline)(b, writer)
    try:
        for start, end, buf in _read_chunks(path, offset, chunk_bytes):
            errors: list = []
            nlines = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
            prep = writer.prepare_chunk(buf, lines_done + 1, order, canonical, errors)
            # the chunk's people count as registered for the chunks after it (if its commit fails, the
            # import stops and a rerun reads what was committed)
            writer.claim(prep)
            sink.put(start, end, lines_done + nlines, prep, errors)
            lines_done += nlines
            chunks += 1
            bar.show(end, b.rows_ok, b.rows_bad)
            if stop_after is not None and chunks >= stop_after:
                sink.close()
                raise SimulatedCrash(f"stopped after {chunks} chunks (test)")
        sink.close()
    finally:
        sink.abort()
    _analyze_after(kind, b.rows_ok)
    seconds = time.perf_counter() - t0
    _finish(b, actor, seconds)
    bar.show(b.size, b.rows_ok, b.rows_bad, final=True)
    return Outcome(b, seconds=seconds)


#: Files (what is left of them) of at least this many chunks are written by a second thread (PostgreSQL).
PIPELINE_CHUNKS = 3


def _pipelined(remaining: int, chunk_bytes: int) -> bool:
    """Write on a second connection while the next chunk is read and checked: PostgreSQL (the server
    writes on its own core), not inside a caller's transaction (a second connection would not see it)."""
    if connection.in_atomic_block or remaining < PIPELINE_CHUNKS * chunk_bytes:
        return False
    return connection.vendor == "postgresql" or (connection.vendor == "sqlite" and not connection.is_in_memory_db())


def _commit_prepared(b: ImportBatch, writer, start, end, lines_done, prep: _Prep, errors) -> None:
    _commit_chunk(b, start, end, lines_done, prep.ok, prep.dup, errors,
                  (lambda: writer.write(prep)) if prep.ok else (lambda: None))


class _Inline:
    """Each prepared chunk is committed at once, on this thread's connection."""

    def __init__(self, b: ImportBatch, writer):
        self.b, self.writer = b, writer
        writer.begin()

    def put(self, *item) -> None:
        _commit_prepared(self.b, self.writer, *item)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.writer.end()


class _Pipeline:
    """Prepared chunks are committed in order by a writer thread on its own connection, while the reading
    thread checks the next chunk (numpy and the database server work meanwhile; at most one chunk waits).
    Each chunk is still one transaction that moves the batch's offset, so a crash loses nothing and a
    rerun continues where the committed chunks end. An error in the writer stops the import."""

    def __init__(self, b: ImportBatch, writer):
        import queue
        import threading

        self.b, self.writer = b, writer
        self.q: "queue.Queue" = queue.Queue(maxsize=1)
        self._full = queue.Full
        self.error: BaseException | None = None
        self.stop = False
        self.thread = threading.Thread(target=self._run, name="cordon-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.db import connections

        try:
            self.writer.begin()
            try:
                while not self.stop:
                    item = self.q.get()
                    if item is None or self.stop:
                        break
                    _commit_prepared(self.b, self.writer, *item)
            finally:
                self.writer.end()
        except BaseException as e:  # handed to the reading thread
            self.error = e
        finally:
            connections.close_all()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error
        if not self.thread.is_alive():
            raise RuntimeError("the import's writer thread stopped")

    def put(self, *item) -> None:
        self._put(item)

    def _put(self, item) -> None:
        while True:
            self._check()
            try:
                self.q.put(item, timeout=0.2)
                return
            except self._full:
                continue

    def close(self) -> None:
        """Wait until every chunk handed over is committed (raises the writer's error)."""
        if self.thread.is_alive():
            self._put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        if self.thread.is_alive():
            self.stop = True
            try:
                self.q.put_nowait(None)
            except self._full:
                pass
            self.thread.join()


#: Rows after which an import refreshes the planner's statistics of the tables it wrote (PostgreSQL): a city
#: round grows the registrations by millions, and stale statistics turn the recall's barcode join (a dozen
#: index probes) into a scan of every registration.
ANALYZE_AFTER = 100_000


def _analyze_after(kind: str, rows: int) -> None:
    if connection.vendor != "postgresql" or rows < ANALYZE_AFTER:
        return
    tables = [Sample, SampleTally] if kind == "samples" else [TubeResult]
    with connection.cursor() as c:
        for m in tables:
            c.execute(f"ANALYZE {m._meta.db_table}")


# ---------------------------------------------------------------------------------------------- results
class _ResultWriter:
    def __init__(self, batch: ImportBatch):
        self.batch = batch
        self.pg = connection.vendor == "postgresql"
        self.times = _Times()
        self._pragmas = _SqlitePragmas()

    def begin(self):
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    def prepare_chunk(self, buf: bytes, line0: int, order, canonical: bool, errors: list) -> _Prep:
        cols = _parse_text("results", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
        p = self.prepare(cols, errors)
        return _Prep(ok=len(p[0]), slow=p) if p[0] else _Prep()

    def prepare(self, cols, errors: list):
        lines, bc, res, lab, t = cols
        if not lines:
            return None, 0
        ts = [self.times(x) for x in t]
        rows = []
        for ln, b_, r_, l_, t_, raw in zip(lines, bc, res, lab, ts, t):
            if t_ is None:
                errors.append((ln, "reported_at", self.times.why.get(raw, "invalid time")))
            else:
                rows.append((ln, b_, r_, l_, t_))
        return rows, 0

    def write(self, prep: _Prep) -> None:
        rows = prep.slow[0] if prep.slow else None
        if not rows:
            return
        table = TubeResult._meta.db_table
        stage = "screening_stage_result"
        with connection.cursor() as c:
            if self.pg:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (line int, barcode text, result text, lab text, "
                          f"reported_at timestamptz) ON COMMIT DELETE ROWS")
                with c.cursor.copy(f"COPY {stage} (line, barcode, result, lab, reported_at) FROM STDIN") as cp:
                    cp.write("".join(f"{a}\t{b_}\t{r_}\t{l_}\t{t_}\n" for a, b_, r_, l_, t_ in rows))
            else:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (line int, barcode text, result text, lab text, "
                          f"reported_at text)")
                c.execute(f"DELETE FROM {stage}")
                connection.connection.executemany(f"INSERT INTO {stage} VALUES (?,?,?,?,?)", rows)
            c.execute(f"INSERT INTO {table} (barcode, result, lab, reported_at, batch_id, line) "
                      f"SELECT barcode, result, lab, reported_at, %s, line FROM {stage} WHERE true ORDER BY line "
                      f"ON CONFLICT (barcode) DO NOTHING RETURNING line", [self.batch.pk])
            kept = {r[0] for r in c.fetchall()}
        dups = [(ln, "barcode", "tube already has a result (first report kept)") for ln, *_ in rows
                if ln not in kept]
        self.kept = len(kept)
        if dups:
            RowError.objects.bulk_create([RowError(batch_id=self.batch.pk, line=ln, field=f, reason=r)
                                          for ln, f, r in dups], batch_size=2000)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                rows_ok=F("rows_ok") - len(dups), rows_bad=F("rows_bad") + len(dups),
                rows_duplicate=F("rows_duplicate") + len(dups))
            self.batch.rows_ok -= len(dups)
            self.batch.rows_bad += len(dups)
            self.batch.rows_duplicate += len(dups)

    def claim(self, prep) -> None:
        pass


def import_results(path, *, actor=None, progress: bool = False, chunk_bytes: int = CHUNK_BYTES,
                   stop_after: int | None = None) -> Outcome:
    """Import a lab's results CSV (tubes of any round; registrations may come later)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() not in (".csv", ".txt"):
        raise ImportFileError(f"{path.name}: use a CSV file (UTF-8)")
    t0 = time.perf_counter()
    b, done = _open_batch(BatchKind.RESULTS, sha256_of(path), rnd=None, source=path.name,
                          size=path.stat().st_size, actor=actor)
    if done:
        return Outcome(b, already=True)
    return _run_file(path, "results", b, _ResultWriter(b), actor, progress, chunk_bytes, stop_after, t0)


# ---------------------------------------------------------------------------------------------- API batches
def import_rows(kind: str, key: str, rows: list[dict], *, round: Round | None, actor) -> Outcome:
    """An API batch: ``rows`` are dicts with the canonical column names; line = position + 1 (1-based).
    The whole batch is one transaction; the same key again changes nothing."""
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise ActionError("a batch key of 1 to 80 characters is required", field="batch_key")
    cols = list(SAMPLE_COLUMNS if kind == "samples" else RESULT_COLUMNS)
    t0 = time.perf_counter()
    b, done = _open_batch(kind, key, rnd=round, source="api", size=len(rows), actor=actor)
    if done:
        return Outcome(b, already=True)
    errors: list = []
    items = []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="")
    for i, r in enumerate(rows, start=1):
        buf.seek(0)
        buf.truncate()
        w.writerow([str(r.get(c, "") or "") for c in cols])
        items.append((i, buf.getvalue()))
    good = _slow_rows(kind, items, list(range(len(cols))), errors)
    colsv = [list(c) for c in zip(*good)] if good else [[], [], [], [], []]
    writer = _SampleWriter(round, b, actor) if kind == "samples" else _ResultWriter(b)
    p = writer.prepare(colsv, errors)
    ok = len(p[0]) if p and p[0] is not None else 0
    dup = p[-1] if kind == "samples" and p and p[0] is not None else 0
    prep = _Prep(ok=ok, dup=dup, slow=p if ok else None)
    with transaction.atomic():
        _commit_chunk(b, 0, len(rows), len(rows), ok, dup, errors,
                      (lambda: writer.write(prep)) if ok else (lambda: None))
        _finish(b, actor, time.perf_counter() - t0)
    return Outcome(b, seconds=time.perf_counter() - t0)

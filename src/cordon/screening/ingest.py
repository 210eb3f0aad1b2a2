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
  17-digit keys as uint64; ~25 bytes per resident), built from the database by a streaming read and kept
  per process and on disk for the next process (``ResidentIndex``: trusted while the residents' change
  stamp, id range and the index's token stand still; the bulk load of a city builds it), so a chunk is
  resolved with one vectorised ``searchsorted``. People already registered in the round are a bitmap over
  resident ids, read from the round's ``Registered`` blocks when an import starts.
- **Threads.** Outside a caller's transaction (the CLI, the demo, the benchmark) a file of several chunks is
  written by a second thread on its own connection while the next chunks are read and checked
  (``_Pipeline``), the chunk-only checks of a registrations file running ahead on ``SCAN_THREADS`` more
  (``_scanned_ahead``; numpy lets go of the interpreter lock); inside a caller's transaction (tests, API
  batches) everything runs on the caller's connection.
- **Bulk writes.** Registrations are stored per tube (``Sample``: a run of lines with the same barcode, site
  and time becomes one row listing its people): ``COPY`` text assembled for the whole chunk in a few
  vectorised passes on PostgreSQL, ``executemany`` on SQLite. With each chunk, in the same transaction: its
  people set in the round's ``Registered`` bitmaps (blocks locked, so two imports into one round never both
  register a person) and its rows counted per unit and day in ``SampleTally`` (coverage reads those). After
  a large import the planner's statistics are refreshed (PostgreSQL).
  Results (``_ResultWriter``): the first report of a tube wins, the rest are duplicates. A canonical chunk
  is checked in vectorised passes (``_Scan``); its tubes are checked in memory against the chunk and the
  batch's earlier chunks, and against the table by one read of the chunk's barcode range (or a probe by
  its barcodes); only new tubes are written, straight into the table: binary ``COPY`` assembled in a few
  vectorised passes on PostgreSQL, ``executemany`` on SQLite. A unique violation (another import stored a
  tube meanwhile) undoes that write in a savepoint and writes the chunk again through a staging table with
  ``INSERT ... ON CONFLICT DO NOTHING RETURNING line``.
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
from types import SimpleNamespace

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext

from cordon import tabular
from cordon.core import access, audit, clock, ids
from cordon.core.actions import ActionError

from .models import (BLOCK, BatchKind, BatchStatus, ImportBatch, Registered, Round, RowError, Sample, SampleTally,
                     TubeResult, encode_ids)

CHUNK_BYTES = 8 << 20  # ~190 k registrations a chunk: the transient arrays of a chunk stay ~100 MB
MAX_FIELD = 80
NO_RESIDENT = "no resident with this ID number in your jurisdiction"

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


class ImportFileError(tabular.FileError):
    """The file as a whole cannot be imported (missing, wrong type, not text in an accepted encoding, missing
    columns): refused before a batch is opened. ``str``: ``FILE:LINE: reason``."""


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
        change stamp) or after ``TTL``. Kept in memory per process, and on disk for the next process
        (``_path``, under CORDON_HOME): a file is used only while the database's residents stamp, id range and
        the random token written with the file (into the database) are the ones it was built for, and for
        ``DISK_TTL``."""
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
            sd = connection.settings_dict
            stamp = (connection.vendor, str(sd.get("HOST") or ""), str(sd.get("PORT") or ""), str(sd["NAME"]),
                     *c.fetchone(), *stamps.read("residents", cls.TOKEN))
        hit = cls._cache.get("idx")
        if hit and hit[0] == stamp and not fresh and time.monotonic() - hit[2] < cls.TTL:
            return hit[1]
        cls._cache.clear()
        idx = None if fresh else cls._from_disk(stamp)
        if idx is None:
            idx = cls.load(stamp[4] or 0)
            stamp = cls._to_disk(idx, stamp)
        cls._cache["idx"] = (stamp, idx, time.monotonic())
        return idx

    #: the stamp naming the index file last written for this database (a random number)
    TOKEN = "residents-index"
    DISK_TTL = 3600  # seconds a file is trusted (changes made by raw SQL outside the stamped paths)

    @staticmethod
    def _path() -> Path:
        from django.conf import settings

        return Path(settings.HOME) / "cache" / "resident-index.bin"

    ARRAYS = ("keys", "chk", "rid", "unit", "anc")

    @classmethod
    def _from_disk(cls, stamp: tuple) -> "ResidentIndex | None":
        """The index file of ``stamp``, its arrays mapped from the file (read on demand, shared between
        processes through the page cache), or None."""
        path = cls._path()
        try:
            if not stamp[-1] or time.time() - path.stat().st_mtime > cls.DISK_TTL:
                return None
            with open(path, "rb") as fh:
                head = json.loads(fh.readline())
            if head.get("stamp") != json.loads(json.dumps(stamp)):
                return None
            arrays = [np.memmap(path, dtype=np.dtype(dt_), mode="r", offset=off, shape=tuple(shape))
                      if np.prod(shape) else np.zeros(shape, dtype=dt_) for dt_, shape, off in head["arrays"]]
            return cls(*arrays)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def _to_disk(cls, idx: "ResidentIndex", stamp: tuple) -> tuple:
        """Write the index for the next process with a new token (committed at once); returns the stamp.
        Not inside a caller's transaction (the token would not be seen by others, or be rolled back).
        The file: one JSON line (stamp; dtype, shape and offset of each array), then the arrays' bytes."""
        import os
        import secrets

        from cordon.core.models import Stamp

        if connection.in_atomic_block:
            return stamp
        token = secrets.randbelow(2 ** 62) + 1
        stamp = (*stamp[:-1], token)
        path = cls._path()
        arrays = [np.ascontiguousarray(getattr(idx, k)) for k in cls.ARRAYS]
        meta, off = [], 4096  # the header fits in the first page
        for arr in arrays:
            meta.append((arr.dtype.str, list(arr.shape), off))
            off += -(-arr.nbytes // 4096) * 4096
        head = json.dumps({"stamp": stamp, "arrays": meta}).encode("utf-8") + b"\n"
        if len(head) > 4096:
            return stamp
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(head)
                for arr, (_, _, at) in zip(arrays, meta):
                    fh.seek(at)
                    fh.write(arr.tobytes())
            os.replace(tmp, path)
        except OSError:
            return stamp
        if not Stamp.objects.filter(name=cls.TOKEN).update(n=token):
            Stamp.objects.get_or_create(name=cls.TOKEN, defaults={"n": token})
        return stamp

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
    """A chunk ready to write: rows kept, duplicates, what to write and (registrations) its people."""

    ok: int = 0
    dup: int = 0
    fast: object = None       # vectorised rows: COPY text (PostgreSQL) or rows for executemany (SQLite)
    slow: object = None       # field-by-field rows
    people: object = None     # registrations: resident ids kept (for ``Registered`` and duplicates)
    units: object = None      # registrations: unit of each person kept
    days: object = None       # registrations: city-time day (ordinal) of each person kept
    tally: list = None        # registrations: (round, unit, day, n) rows for ``SampleTally``


def _utf8(buf: bytes) -> bool:
    """A chunk of a file is UTF-8: ``_checked_file`` validated every byte of the file (or made a UTF-8 copy)
    before the import began, and chunks end at line ends, so no chunk is decoded a second time here."""
    return True


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
    if len(site) > MAX_FIELD or any(ch in site for ch in "\t\\\r\n\x00"):
        return "site", f"at most {MAX_FIELD} characters, no tabs, backslashes or NUL bytes"
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
    if len(lab) > MAX_FIELD or any(ch in lab for ch in "\t\\\r\n\x00"):
        return "lab", f"at most {MAX_FIELD} characters, no tabs, backslashes or NUL bytes"
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
            raise ActionError(gettext("this file was already imported into round %(round_id)s")
                              % {"round_id": b.round_id}, field="round")
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
            raise ActionError(gettext("another process is importing this batch (its offset moved); rerun to continue"),
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
# barcode bytes, and 0: the padding of a gathered field (``_Scan.field``; a real 0 byte sends a line to the
# field-by-field path)
_BC_OK0 = _table(b"\x00ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_HEX = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)  # byte -> its 2 hex digits
# bytes that send a line to the field-by-field path: quotes, and what COPY's text format would escape
_SPECIAL_BYTES = (b'"', b"\t", b"\\", b"\r", b"\x00")
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
        self._pad = None  # the chunk and some zero bytes (``gather``)
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
        # bytes that send a line to the field-by-field path: most chunks have none (a quick test first)
        special = (np.flatnonzero((a == 34) | (a == 9) | (a == 92) | (a == 13) | (a == 0))
                   if any(c in buf for c in _SPECIAL_BYTES) else np.zeros(0, dtype=np.int64))
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

    def field(self, pos: np.ndarray, length: np.ndarray, width: int) -> np.ndarray:
        """(lines, width) bytes of a field of ``length`` bytes from ``pos``, zero past its end. The bytes of a
        valid field (4..32 letters, digits, '-') never include 0, so the rows compare as keys."""
        width = max(1, width)
        out = self.gather(pos, width)
        out *= np.arange(width)[None, :] < length[:, None]
        return out

    def gather(self, pos: np.ndarray, width: int) -> np.ndarray:
        """(lines, width) bytes from ``pos`` on (zero past the chunk's end): rows of a sliding window over the
        chunk, copied row by row (no index array of lines x width)."""
        if self._pad is None or len(self._pad) < self.n + width:
            self._pad = np.concatenate([self.a, np.zeros(max(64, width), dtype=np.uint8)])
        return np.lib.stride_tricks.sliding_window_view(self._pad, width)[np.clip(pos, 0, self.n)]

    def barcode(self, pos: np.ndarray, length: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A barcode field (``length`` bytes from ``pos``) of each line: ``ok`` and the field is 4 to 32 of
        [A-Za-z0-9-]; and its bytes (``field``: zero past its end, as wide as the longest of the ``ok`` lines)."""
        ok = ok & (length >= 4) & (length <= 32)
        key = self.field(pos, length, int(length[ok].max()) if ok.any() else 4)
        return ok & _BC_OK0[key].all(axis=1), key

    def short_text(self, lo: np.ndarray, hi: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """``ok`` and the text field [lo, hi) has at most ``MAX_FIELD`` characters (counted only where it has
        more bytes than that)."""
        ok = ok.copy()
        long = np.flatnonzero(ok & (hi - lo > MAX_FIELD))
        if len(long):
            ok[long] &= self.chars(lo[long], hi[long]) <= MAX_FIELD
        return ok

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
    off = uk % 65536
    day = [dt.date.fromordinal(base + d) for d in range(int(off.max()) + 1)]  # a round spans a few days
    return list(zip(repeat(round_id), (uk // 65536).tolist(), map(day.__getitem__, off.tolist()), counts.tolist()))


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
            sc = access.scope_for(actor, access.SCREENING_WRITE)
            if not sc.everything:
                self.scope = sc
        self.seen = self._load_seen()
        # the vectorised path writes the round and batch ids as 7 digits
        self.fast_ok = rnd.pk < 10 ** 7 and batch.pk < 10 ** 7
        self._pragmas = _SqlitePragmas()

    def begin(self):
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    def _load_seen(self) -> np.ndarray:
        """People registered in the round before this import (committed by any import), as a bitmap over
        resident ids, read from the round's ``Registered`` blocks."""
        seen = np.zeros(self.idx.max_rid + 2, dtype=bool)
        with connection.cursor() as c:
            c.execute(f"SELECT block, bits FROM {Registered._meta.db_table} WHERE round_id = %s", [self.round.pk])
            for block, bits in c.fetchall():
                lo = block * BLOCK
                if lo < len(seen):
                    got = np.unpackbits(np.frombuffer(bytes(bits), dtype=np.uint8), bitorder="little").view(bool)
                    seen[lo:lo + BLOCK] |= got[:len(seen) - lo]
        return seen

    def prepare(self, cols, errors: list):
        """Resolve a chunk's columns; returns (kept row positions, resident ids, unit ids, barcodes, sites,
        times, duplicates)."""
        lines, idn, bc, site, t = cols
        n = len(lines)
        if not n:
            return None, 0
        found, rid, unit = self.idx.lookup(np.array(idn, dtype="S18"))
        ts = [self.times(x) for x in t]
        ts_ok = np.fromiter((x is not None for x in ts), dtype=bool, count=n)
        if self.scope is not None:
            # A person living outside the uploader's jurisdiction is answered exactly as a person who is not a
            # resident at all (the same field and reason, no other check first): no existence oracle.
            found = found & ~self._outside(unit)
        keep = found & ts_ok
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                why = ids.id_number_error(idn[i])
                errors.append((lines[i], "id_number", why or NO_RESIDENT))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                errors.append((lines[i], "sampled_at", self.times.why.get(t[i], "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        return sel, rid, unit, bc, site, ts, ndup

    def _dedupe(self, sel, rid, lines, errors):
        """Drop people registered before in this round, or earlier in this chunk -> (sel, duplicates)."""
        r = rid[sel]
        first = np.zeros(len(sel), dtype=bool)
        _, first_idx = np.unique(r, return_index=True)
        first[first_idx] = True
        dup = self.seen[r] | ~first
        ndup = int(dup.sum())
        if ndup:
            # the line of the first row of each person repeated within the chunk (for the reason)
            again = first & np.isin(r, r[~first])
            first_line = {rr: lines[i] for i, rr in zip(sel[again].tolist(), r[again].tolist())}
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
        """A chunk of the file -> _Prep. Canonical layout and valid UTF-8: vectorised (``scan_chunk`` then
        ``finish_chunk``); else field by field."""
        if canonical:
            return self.finish_chunk(self.scan_chunk(buf, line0, order), errors)
        cols = _parse_text("samples", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
        p = self.prepare(cols, errors)
        prep = _Prep() if p[0] is None else self._slow_prep(p)
        prep.tally = self._tally_of(prep)  # all but the database work is done on the reading thread
        return prep

    def _slow_prep(self, p, prep: _Prep | None = None) -> _Prep:
        """Add field-by-field rows (``prepare``'s result) to ``prep``: their tubes, people, units and days."""
        prep = prep or _Prep()
        sel, rid, unit, bc, site, ts, ndup = p
        prep.ok += len(sel)
        prep.dup += ndup
        if not len(sel):
            return prep
        s = sel.tolist()
        people = rid[sel]
        tubes, run, key = [], [], None
        for i, r in zip(s, people.tolist()):
            k = (bc[i], site[i], ts[i])
            if k != key:
                if run:
                    tubes.append((*key, run))
                key, run = k, []
            run.append(r)
        tubes.append((*key, run))
        prep.slow = tubes
        prep.people = np.concatenate([prep.people, people]) if prep.people is not None else people
        days = np.array([self._day(ts[i]) for i in s], dtype=np.int64)
        prep.units = np.concatenate([prep.units, unit[sel]]) if prep.units is not None else unit[sel]
        prep.days = np.concatenate([prep.days, days]) if prep.days is not None else days
        return prep

    def _tally_of(self, prep: _Prep) -> list[tuple]:
        if prep.units is None or not len(prep.units):
            return []
        return tally_rows(self.round.pk, prep.units, prep.days)

    def scan_chunk(self, buf: bytes, line0: int, order):
        """The part of preparing a chunk that depends on nothing but the chunk (checks, ID numbers resolved,
        times): run for the next chunks by other threads while this one is finished (``finish_chunk``)."""
        x = SimpleNamespace(errors=[], line0=line0, order=order, buf=buf, sc=None)
        if not (self.fast_ok and buf and _utf8(buf)):
            return x
        sc = x.sc = _Scan(buf)
        st, en, c1, c2, c3 = sc.starts, sc.ends, sc.c1, sc.c2, sc.c3
        ok = sc.ok & ((c1 - st) == 18)
        idb = sc.gather(st, 18)
        last = idb[:, 17]
        ok &= _DIGIT[idb[:, :17]].all(axis=1) & (_DIGIT[last] | (last == 88) | (last == 120))
        ok, bkey = sc.barcode(c1 + 1, c2 - c1 - 1, ok)  # the barcode's bytes are also the tubes' key below
        slen = c3 - c2 - 1
        ok = sc.short_text(c2 + 1, c3, ok)
        tok, tkeys = sc.check_time(c3 + 1, en)
        ok &= tok
        fast = x.fast = np.flatnonzero(ok)
        slow = np.flatnonzero(~ok & ~sc.blank)
        x.lines = line0 + fast
        x.idb = idb[fast]
        x.found, x.rid, x.unit = self.idx.lookup(np.ascontiguousarray(x.idb).view("S18").ravel())
        if self.pg:  # each person's part of the COPY text: the id's 8 bytes (little-endian) in hex
            x.rec = _HEX[np.where(x.found, x.rid, 0).astype("<i8").view(np.uint8)].view(np.uint8).reshape(-1, 16)
        x.tkeys = tkeys[fast]
        x.tnum = _time_numbers(x.tkeys)  # distinct times by number (sorting numbers, not strings)
        _, first, x.inv = np.unique(x.tnum, return_index=True, return_inverse=True)
        x.uniq = x.tkeys[first]
        x.tvals = [self.times(u.decode("ascii")) for u in x.uniq.tolist()]
        tgood = np.array([v is not None for v in x.tvals], dtype=bool)
        x.ts_ok = tgood[x.inv] if len(fast) else np.zeros(0, dtype=bool)
        x.bkey = bkey[fast]
        x.slen = slen[fast]
        x.site_key = sc.field(c2[fast] + 1, x.slen, int(x.slen.max()) if len(fast) else 1)
        x.good = None
        if len(slow):
            items = [(line0 + int(i), t) for i in slow.tolist() if (t := sc.text(i)).strip()]
            x.good = _slow_rows("samples", items, order, x.errors)
        return x

    def finish_chunk(self, x, errors: list) -> _Prep:
        """A scanned chunk (``scan_chunk``) -> _Prep: the steps that depend on the chunks before it (people
        already registered), in file order."""
        errors.extend(x.errors)
        if x.sc is None:
            cols = _parse_text("samples", x.buf.decode("utf-8", errors="replace"), x.line0, x.order, True, errors)
            p = self.prepare(cols, errors)
            prep = _Prep() if p[0] is None else self._slow_prep(p)
            prep.tally = self._tally_of(prep)
            return prep
        sc, fast, lines, found, rid, unit = x.sc, x.fast, x.lines, x.found, x.rid, x.unit
        uniq, inv, tvals, ts_ok = x.uniq, x.inv, x.tvals, x.ts_ok
        if self.scope is not None and len(fast):
            found = found & ~self._outside(unit)  # outside the jurisdiction = not a resident (see prepare)
        keep = found & ts_ok
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                idn = bytes(x.idb[i]).decode("ascii")
                errors.append((int(lines[i]), "id_number", ids.id_number_error(idn) or NO_RESIDENT))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                t = uniq[inv[i]].decode("ascii")
                errors.append((int(lines[i]), "sampled_at", self.times.why.get(t, "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        kl = fast[sel]
        rk, uk = rid[sel], unit[sel]
        # city-time day of each kept row (the file's times are city time): for the tally
        uday = np.array([dt.date.fromisoformat(u[:10].decode("ascii")).toordinal() if v is not None else 0
                         for u, v in zip(uniq.tolist(), tvals)], dtype=np.int64)
        prep = _Prep(ok=len(sel), dup=ndup, people=rk, units=uk,
                     days=uday[inv[sel]] if len(sel) else np.zeros(0, dtype=np.int64))
        if len(sel):
            tube0 = _tube_starts(x.bkey[sel], x.site_key[sel], x.tnum[sel])
            if self.pg:
                prep.fast = self._copy_text(sc, kl, x.rec[sel], tube0)
            else:
                tsv = np.array(tvals, dtype=object)
                prep.fast = self._sqlite_rows(sc, kl, rk, tube0, tsv[inv[sel][tube0]].tolist())
        if x.good:
            cols = [list(c) for c in zip(*x.good)]
            # people kept by the vectorised part count as seen for the rest of the chunk
            mark = rk[~self.seen[rk]]
            self.seen[mark] = True
            try:
                p = self.prepare(cols, errors)
            finally:
                self.seen[mark] = False
            if p[0] is not None:
                self._slow_prep(p, prep)
        prep.tally = self._tally_of(prep)
        return prep

    def _copy_text(self, sc: "_Scan", kl: np.ndarray, rec: np.ndarray, tube0: np.ndarray) -> bytes:
        """COPY text of the chunk's tubes, built in a few vectorised passes: per tube
        "round(7)\tbatch(7)\tbarcode\tsite\ttime\t\\x<people>\n" (barcode, site and time copied from the
        tube's first line, commas turned into tabs; ``rec``: each person's id as 16 hex digits, the people
        column being bytea; the backslash doubled as COPY's text format wants). Each line starts at a
        multiple of 8 bytes, and so do its people (the bytea input allows spaces between the hex pairs, and
        the line is padded with them), so the people are placed 8 bytes at a time."""
        n, nt = len(kl), len(tube0)
        size = np.diff(np.append(tube0, n))                    # people per tube
        first = kl[tube0]
        src0 = sc.c1[first] + 1                                # "barcode,site,time" of the tube's first line
        tlen = sc.ends[first] - src0
        head = 16 + tlen + 4                                   # prefix, the tail, "\t\\x"
        head8 = head + (-head) % 8                             # then spaces up to a multiple of 8
        length = head8 + 16 * size + 8                         # the people, 7 spaces and "\n"
        off = np.zeros(nt, dtype=np.int64)
        np.cumsum(length[:-1], out=off[1:])
        out = np.full(int(length.sum()), 32, dtype=np.uint8)
        pre = np.frombuffer(f"{self.round.pk:07d}\t{self.batch.pk:07d}\t".encode("ascii"), dtype=np.uint8)
        out[off[:, None] + np.arange(16)] = pre
        within = np.arange(int(tlen.sum())) - np.repeat(np.cumsum(tlen) - tlen, tlen)
        tail = sc.a[np.repeat(src0, tlen) + within]
        tail[tail == 44] = 9
        out[np.repeat(off + 16, tlen) + within] = tail
        out[off + head - 4] = 9
        out[off + head - 3] = 92                               # a backslash, doubled, and "x"
        out[off + head - 2] = 92
        out[off + head - 1] = 120
        # each person's 16 hex digits are two 8-byte words, at an 8-byte boundary
        word = np.repeat((off + head8) // 8 - 2 * tube0, size) + 2 * np.arange(n)
        out64 = out.view(np.uint64)
        pair = np.ascontiguousarray(rec).view(np.uint64)
        out64[word] = pair[:, 0]
        out64[word + 1] = pair[:, 1]
        out[off + length - 1] = 10
        return out.tobytes()

    def _sqlite_rows(self, sc: "_Scan", kl: np.ndarray, people: np.ndarray, tube0: np.ndarray, times: list):
        """Rows (round, batch, barcode, site, time, people as int64 bytes) of the chunk's tubes."""
        f = sc.runs(kl[tube0]).decode("utf-8").replace("\n", ",").split(",")
        blob = encode_ids(people)
        ends = np.append(tube0[1:], len(kl)) * 8
        parts = [blob[a:b] for a, b in zip((tube0 * 8).tolist(), ends.tolist())]
        return list(zip(repeat(self.round.pk), repeat(self.batch.pk), f[1::4], f[2::4], times, parts))

    def write(self, prep: _Prep) -> None:
        """Write a chunk's tubes, register its people and add its tally (inside the chunk's transaction)."""
        if prep.people is not None and len(prep.people):
            self._register(prep.people)
        if prep.fast is not None:
            self._write_fast(prep.fast)
        if prep.slow:
            self._write_slow(prep.slow)
        write_tally(self._tally_of(prep) if prep.tally is None else prep.tally)

    def _register(self, people: np.ndarray) -> None:
        """Set the chunk's people in the round's ``Registered`` bitmaps. The touched blocks are locked (created
        first when new), so an import of another file into the same round waits; a person it registered
        after this import started stops this chunk (nothing of it is kept) and the import asks for a rerun,
        which reads the bitmaps again and reports them as duplicates."""
        table = Registered._meta.db_table
        people = np.sort(people)
        blocks = np.unique(people // BLOCK)
        empty = bytes(BLOCK // 8)
        cond, param = id_in("block", blocks.tolist())
        with connection.cursor() as c:
            c.executemany(f"INSERT INTO {table} (round_id, block, bits) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                          [(self.round.pk, b, empty) for b in blocks.tolist()])
            lock = " ORDER BY block FOR UPDATE" if self.pg else ""
            c.execute(f"SELECT block, bits FROM {table} WHERE round_id = %s AND {cond}{lock}", [self.round.pk, param])
            have = {b: np.frombuffer(bytes(bits), dtype=np.uint8) for b, bits in c.fetchall()}
            cut = np.searchsorted(people // BLOCK, blocks, side="right")
            rows, lo = [], 0
            for b, hi in zip(blocks.tolist(), cut.tolist()):
                mask = np.zeros(BLOCK, dtype=bool)
                mask[people[lo:hi] - b * BLOCK] = True
                lo = hi
                new = np.packbits(mask, bitorder="little")
                old = have[b]
                if (old & new).any():
                    raise ActionError(gettext("people of this file were registered in the round by another import "
                                              "at the same time; run the import again to continue (they will be "
                                              "reported as duplicates)"), field="batch")
                rows.append(((old | new).tobytes(), self.round.pk, b))
            c.executemany(f"UPDATE {table} SET bits = %s WHERE round_id = %s AND block = %s", rows)

    def _day(self, ts: str) -> int:
        """City-time day (ordinal) of a converted time (PostgreSQL: city time text; SQLite: UTC text)."""
        d = dt.datetime.fromisoformat(ts)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.timezone.utc)
        return d.astimezone(clock.tz()).date().toordinal()

    COLUMNS = "round_id, batch_id, barcode, site, sampled_at, people"
    INSERT = f"INSERT INTO {Sample._meta.db_table} ({COLUMNS}) VALUES (?,?,?,?,?,?)"  # SQLite, raw connection

    def _copy(self, write) -> None:
        """COPY into the tubes table with times read as city time (PostgreSQL)."""
        with connection.cursor() as c:
            c.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [str(clock.tz())])
            was = c.fetchone()[0]
            with c.cursor.copy(f"COPY {Sample._meta.db_table} ({self.COLUMNS}) FROM STDIN") as cp:
                write(cp)
            c.execute("SELECT set_config('TimeZone', %s, true)", [was])

    def _write_fast(self, payload) -> None:
        if self.pg:
            self._copy(lambda cp: cp.write(payload))
            return
        connection.ensure_connection()
        connection.connection.executemany(self.INSERT, payload)

    def _write_slow(self, tubes: list) -> None:
        """Tubes of the field-by-field rows: (barcode, site, converted time, [people])."""
        rows = [(self.round.pk, self.batch.pk, bc, site, ts, encode_ids(people)) for bc, site, ts, people in tubes]
        if not self.pg:
            self._write_fast(rows)  # SQLite: the fast path's payload is rows of the same shape
            return
        # converted times carry their offset, so the session's time zone does not matter for them
        def write(cp):
            for row in rows:
                cp.write_row(row)
        self._copy(write)

    def claim(self, prep: _Prep) -> None:
        """Mark a prepared chunk's people as registered in the round (later chunks see them as duplicates)."""
        if prep.people is not None:
            self.seen[prep.people] = True


#: weights of the digits of 'YYYY-MM-DD HH:MM:SS' (``_T_DIGITS`` and the seconds) in one number
_T_ALL = np.append(_T_DIGITS, [17, 18])
_T_POW = 10 ** np.arange(len(_T_ALL) - 1, -1, -1, dtype=np.int64)


def _time_numbers(keys: np.ndarray) -> np.ndarray:
    """Well-formed time keys (``_Scan.check_time``: S19, seconds zero when absent) as numbers YYYYMMDDHHMMSS."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    d = keys.view(np.uint8).reshape(-1, 19)[:, _T_ALL].astype(np.int64) - 48
    np.maximum(d, 0, out=d)
    return d @ _T_POW


def _tube_starts(*keys: np.ndarray) -> np.ndarray:
    """Positions where a new tube run starts among kept lines (in file order): any of the lines' keys
    (barcode, site, time: fixed-width rows of bytes, zero past the field's end) differs from the line
    before it."""
    n = len(keys[0])
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for k in keys:
        v = np.ascontiguousarray(k).view(f"V{k.shape[1]}").ravel() if k.ndim == 2 else k
        new[1:] |= v[1:] != v[:-1]
    return np.flatnonzero(new)


def import_samples(path, *, round: Round, actor=None, progress: bool = False, chunk_bytes: int = CHUNK_BYTES,
                   stop_after: int | None = None, encoding: str | None = None) -> Outcome:
    """Import a registrations CSV into ``round``; see the module docstring. Safe to rerun at any point.
    ``encoding``: as declared by the operator (default: detected over the whole file)."""
    path = Path(path)
    t0 = time.perf_counter()
    enc, src = _checked_file(path, "samples", encoding)
    try:
        b, done = _open_batch(BatchKind.SAMPLES, enc.sha256, rnd=round, source=path.name,
                              size=path.stat().st_size, actor=actor)
        if done:
            return Outcome(b, already=True)
        return _run_file(src, "samples", b, _SampleWriter(round, b, actor), actor, progress, chunk_bytes,
                         stop_after, t0)
    finally:
        if src != path:
            import shutil

            shutil.rmtree(src.parent, ignore_errors=True)


def _checked_file(path: Path, kind: str, encoding: str | None) -> tuple[tabular.Encoding, Path]:
    """What can refuse a file as a whole, checked before its batch is opened (a refused file leaves nothing):
    type, encoding (over every byte, ``core.tabular``), header. Returns the encoding (with the sha256, from
    the same read) and the file to read: ``path`` itself when it is UTF-8, else a UTF-8 copy (the byte-level
    reading stays as it is; GB18030 and UTF-16 files are stored as their text, never as replacement marks)."""
    if not path.is_file():
        raise ImportFileError("no such file", path=path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise ImportFileError("use a CSV file (UTF-8, GB18030/GBK or UTF-16)", path=path)
    enc = tabular.detect(path, encoding, digest=True, error=ImportFileError, nul_everywhere=False)
    src = path if enc.utf8 else tabular.transcode_to_utf8(path, enc)
    try:
        with open(src, "rb") as fh:
            head = fh.readline()
        try:
            _header(head.decode("utf-8").rstrip("\r\n"), kind)
        except ImportFileError as exc:
            raise ImportFileError(exc.reason, path=path, line=1) from None
    except BaseException:
        if src != path:
            import shutil

            shutil.rmtree(src.parent, ignore_errors=True)
        raise
    return enc, src


def _run_file(path: Path, kind: str, b: ImportBatch, writer, actor, progress, chunk_bytes, stop_after, t0):
    with open(path, "rb") as fh:
        head = fh.readline()
    if b"\x00" in head:
        raise ImportFileError(f"{path.name}: binary data, not a CSV text file")
    order, canonical = _header(head.decode("utf-8", errors="replace").rstrip("\r\n"), kind)
    offset, lines_done = (b.offset, b.line) if b.offset else (len(head), 1)
    bar = Progress(b.size, f"{kind} {path.name}", enabled=progress)
    chunks = 0
    pipelined = _pipelined(b.size - offset, chunk_bytes)
    sink = (_Pipeline if pipelined else _Inline)(b, writer)
    chunks_in = _read_chunks(path, offset, chunk_bytes)
    # registrations in the canonical layout: the chunk-only part of preparing (checks, ID numbers, times) runs
    # ahead on other threads (numpy lets go of the interpreter lock), the rest here in file order
    ahead = _scanned_ahead(writer, chunks_in, lines_done, order) if (
        canonical and pipelined and hasattr(writer, "scan_chunk")) else None
    try:
        for start, end, buf in (ahead or chunks_in):
            errors: list = []
            if ahead is not None:
                nlines, x = buf
                prep = writer.finish_chunk(x, errors)
            else:
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
        if ahead is not None:
            ahead.close()
        sink.abort()
    _analyze_after(kind, b.rows_ok)
    seconds = time.perf_counter() - t0
    _finish(b, actor, seconds)
    bar.show(b.size, b.rows_ok, b.rows_bad, final=True)
    return Outcome(b, seconds=seconds)


#: Threads scanning the next chunks of a registrations file (``_scanned_ahead``).
SCAN_THREADS = 2


def _scanned_ahead(writer, chunks, lines_done: int, order):
    """(start, end, (lines, scanned chunk)) per chunk, in order, the scans (``writer.scan_chunk``) running on
    ``SCAN_THREADS`` threads at most that many chunks ahead."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="cordon-import-scan") as pool:
        todo: deque = deque()
        try:
            for start, end, buf in chunks:
                nlines = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
                todo.append((start, end, nlines, pool.submit(writer.scan_chunk, buf, lines_done + 1, order)))
                lines_done += nlines
                if len(todo) > SCAN_THREADS:
                    start, end, nlines, fut = todo.popleft()
                    yield start, end, (nlines, fut.result())
            while todo:
                start, end, nlines, fut = todo.popleft()
                yield start, end, (nlines, fut.result())
        finally:
            for *_, fut in todo:
                fut.cancel()


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
#: PostgreSQL's binary COPY: signature, flags and header extension; the end marker; its time zero (UTC)
_COPY_HEAD = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_END = b"\xff\xff"
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _pg_micros(ts: str) -> int:
    """A converted time (``_Times`` on PostgreSQL: city time with its UTC offset) as PostgreSQL stores a
    timestamptz: microseconds since 2000-01-01 UTC."""
    return (dt.datetime.fromisoformat(ts) - _PG_EPOCH) // dt.timedelta(microseconds=1)


def _be(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) bytes: ``values`` as big-endian integers of ``width`` bytes."""
    return values.astype(f">i{width}").view(np.uint8).reshape(-1, width)


def _runs(marks: tuple, counts: np.ndarray) -> np.ndarray:
    """A mask made of runs: for each row of ``counts`` (n, k), counts[i, j] times marks[j], row after row."""
    return np.repeat(np.tile(np.array(marks, dtype=bool), len(counts)), counts.ravel())


@dataclass
class _Tubes:
    """A chunk's results for tubes new to the table, ready to write (``_ResultWriter``)."""

    lines: np.ndarray              # line of each row (duplicates found when written are reported by line)
    barcodes: np.ndarray           # the rows' barcodes (sorted, S32): claimed by the batch for later chunks
    copy: bytes = b""              # PostgreSQL: binary COPY data (``_ResultWriter.COLUMNS``)
    flat: list = None              # SQLite: barcode, result, lab, UTC time, line of each row, one list

    def rows(self, batch_id: int):
        f = self.flat
        return zip(f[0::5], f[1::5], f[2::5], f[3::5], repeat(batch_id), f[4::5])


_WORDS = [np.frombuffer(w, dtype=np.uint64)[0] for w in (b"negative", b"positive", b"invalid,")]


class _ResultWriter:
    """Checks and writes tube results for one batch. The first report of a tube wins: a chunk's rows are
    checked in memory against the chunk itself and the batch's earlier chunks, and against the table (one
    read of the chunk's barcode range, or a probe by the chunk's barcodes); only tubes new to the table are
    written, straight into it (binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite). Should another
    import store one of them meanwhile (unique violation), the chunk is written again, in a savepoint,
    through a staging table with ``ON CONFLICT DO NOTHING`` (what it keeps decides the duplicates)."""

    DUPLICATE = "tube already has a result (first report kept)"
    COLUMNS = "barcode, result, lab, reported_at, batch_id, line"
    ROWS_PER_INSERT = 200  # SQLite (1000 parameters a statement)

    def __init__(self, batch: ImportBatch):
        self.batch = batch
        self.pg = connection.vendor == "postgresql"
        self.times = _Times()
        self._pragmas = _SqlitePragmas()
        self.claimed: list[np.ndarray] = []   # sorted barcodes (S32) written by this run's earlier chunks
        self._bytewise = None

    def begin(self):
        connection.ensure_connection()  # the writer thread connects while the first chunk is checked
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    # ------------------------------------------------------------------------------------- reading thread
    def prepare_chunk(self, buf: bytes, line0: int, order, canonical: bool, errors: list) -> _Prep:
        """A chunk of the file -> _Prep (``fast``: the new tubes as ``_Tubes``). Canonical layout and valid
        UTF-8: vectorised, the other lines field by field; else all field by field."""
        fast = None
        if canonical and buf and _utf8(buf):
            fast, slow_items = self._scan(buf, line0, errors)
            rows = self.prepare(_columns(_slow_rows("results", slow_items, order, errors)), errors)[0]
        else:
            cols = _parse_text("results", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
            rows = self.prepare(cols, errors)[0]
        return self._select(fast, rows or [], errors)

    def prepare(self, cols, errors: list):
        """Field-by-field rows (columns) -> ([(line, barcode, result, lab, converted time)], 0)."""
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

    def _scan(self, buf: bytes, line0: int, errors: list):
        """Vectorised check of a canonical chunk -> ((scan, line indices, lines, barcodes, time of each row
        as an index into the converted times, converted times), other lines as (line, text)). A line is
        taken here when it has ``RESULT_ROW``'s fast form and a real time; any other goes field by field."""
        sc = _Scan(buf)
        st, en, c1, c2, c3 = sc.starts, sc.ends, sc.c1, sc.c2, sc.c3
        ok, g = sc.barcode(st, c1 - st, sc.ok)
        w = np.ascontiguousarray(sc.gather(c1 + 1, 8)).view(np.uint64).ravel()  # "invalid" with its comma
        ok &= (((w == _WORDS[0]) | (w == _WORDS[1])) & (c2 - c1 == 9)) | (w == _WORDS[2])
        ok = sc.short_text(c2 + 1, c3, ok)
        tok, tkeys = sc.check_time(c3 + 1, en)
        ok &= tok
        fast = np.flatnonzero(ok)
        slow = np.flatnonzero(~ok & ~sc.blank)
        slow_items = [(line0 + int(i), t) for i in slow.tolist() if (t := sc.text(i)).strip()]
        # times: converted once per distinct value (a file has few distinct minutes); 'T' or ' ', seconds
        # or not, the same value converts the same
        tk = tkeys[fast]
        _, first, inv = np.unique(_time_numbers(tk), return_index=True, return_inverse=True)
        inv = inv.ravel()
        tvals = [self.times(tk[i].decode("ascii")) for i in first.tolist()]
        good = np.array([v is not None for v in tvals], dtype=bool)
        if len(fast) and not good.all():
            bad = ~good[inv]
            for i in np.flatnonzero(bad).tolist():
                t = tk[i].decode("ascii")
                self.times(t)
                errors.append((line0 + int(fast[i]), "reported_at", self.times.why.get(t, "invalid time")))
            fast, inv = fast[~bad], inv[~bad]
        bcs = np.ascontiguousarray(g[fast]).view(f"S{g.shape[1]}").ravel().astype("S32")
        return (sc, fast, line0 + fast, bcs, inv, tvals), slow_items

    def _select(self, fast, rows: list, errors: list) -> _Prep:
        """Keep the first report of each tube new to the table -> _Prep; the others are duplicates."""
        nf = len(fast[1]) if fast is not None else 0
        if not nf and not rows:
            return _Prep()
        lines = fast[2] if nf else np.zeros(0, dtype=np.int64)
        bcs = fast[3] if nf else np.zeros(0, dtype="S32")
        if rows:  # the field-by-field rows join in, in line order
            lines = np.concatenate([lines, np.array([r[0] for r in rows], dtype=np.int64)])
            bcs = np.concatenate([bcs, np.array([r[1].encode("ascii") for r in rows], dtype="S32")])
            order = np.argsort(lines, kind="stable")
            uniq, first, inv = np.unique(bcs[order], return_index=True, return_inverse=True)
            first = order[first]
            inv = inv.ravel()[np.argsort(order)]
        else:
            uniq, first, inv = np.unique(bcs, return_index=True, return_inverse=True)
            inv = inv.ravel()
        known = self._claimed(uniq)
        if not known.all():
            known[~known] = self._stored(uniq[~known])
        dup = known[inv]
        later = np.ones(len(lines), dtype=bool)
        later[first] = False
        dup |= later
        ndup = int(dup.sum())
        if ndup:
            errors.extend((ln, "barcode", self.DUPLICATE) for ln in lines[dup].tolist())
        keep = ~dup
        n = len(lines) - ndup
        if not n:
            return _Prep(dup=ndup)
        tubes = _Tubes(lines=lines[keep], barcodes=uniq[~known])
        slow = [r for r, k in zip(rows, keep[nf:].tolist()) if k]
        kf = keep[:nf]
        sc, idx, flines, tinv, tvals = (fast[0], fast[1][kf], fast[2][kf], fast[4][kf], fast[5]) if nf else \
            (None, np.zeros(0, dtype=np.int64), None, None, [])
        if self.pg:
            tubes.copy = b"".join([_COPY_HEAD, self._copy_binary(sc, idx, flines, tinv, tvals),
                                   *(self._binary_row(*r) for r in slow), _COPY_END])
        else:
            flat = [None] * (5 * n)
            k = len(idx)
            if k:
                f = sc.runs(idx).decode("utf-8").replace("\n", ",").split(",")
                flat[0:5 * k:5], flat[1:5 * k:5], flat[2:5 * k:5] = f[0:4 * k:4], f[1:4 * k:4], f[2:4 * k:4]
                flat[3:5 * k:5] = np.array(tvals, dtype=object)[tinv].tolist()
                flat[4:5 * k:5] = flines.tolist()
            for i, (ln, bc, res, lab, ts) in enumerate(slow, start=k):
                flat[5 * i:5 * i + 5] = bc, res, lab, ts, ln
            tubes.flat = flat
        return _Prep(ok=n, dup=ndup, fast=tubes)

    def _copy_binary(self, sc, idx: np.ndarray, lines: np.ndarray, tinv, tvals: list) -> bytes:
        """Binary COPY rows of the vectorised lines, built in a few vectorised passes: the barcode, result
        and lab bytes go from the chunk to their places, with the lengths, time, batch and line around
        them."""
        n = len(idx)
        if not n:
            return b""
        st, c1, c2, c3 = sc.starts[idx], sc.c1[idx], sc.c2[idx], sc.c3[idx]
        bl, rl, ll = c1 - st, c2 - c1 - 1, c3 - c2 - 1
        size = 42 + bl + rl + ll  # 6 fields: count, 6 lengths, the three texts, 8 + 4 + 4 bytes of numbers
        o = np.zeros(n, dtype=np.int64)
        np.cumsum(size[:-1], out=o[1:])
        out = np.empty(int(o[-1] + size[-1]), dtype=np.uint8)
        # the three texts of each line (the chunk's bytes but the commas and what lies between the lines)...
        cnt = np.empty((n, 6), dtype=np.int64)
        cnt[:, 0], cnt[:, 1], cnt[:, 2], cnt[:, 3], cnt[:, 4] = bl, 1, rl, 1, ll
        cnt[:-1, 5] = st[1:] - c3[:-1]
        cnt[-1, 5] = sc.n - c3[-1]
        src = _runs((1, 0, 1, 0, 1, 0), cnt)
        # ...go to their places in the rows: after 6 bytes, 4 and 4, with 28 to follow
        cnt = np.empty((n, 7), dtype=np.int64)
        cnt[:, 0], cnt[:, 1], cnt[:, 2], cnt[:, 3], cnt[:, 4], cnt[:, 5], cnt[:, 6] = 6, bl, 4, rl, 4, ll, 28
        dst = _runs((0, 1, 0, 1, 0, 1, 0), cnt)
        out[dst] = sc.a[st[0]:][src]
        # the rest of each row, in row order: field count and barcode length, result length, lab length,
        # then the time, batch and line with their lengths
        micros = np.array([_pg_micros(v) if v is not None else 0 for v in tvals], dtype=np.int64)
        fixed = np.empty((n, 42), dtype=np.uint8)
        fixed[:, 0:2] = (0, 6)
        fixed[:, 2:6] = _be(bl, 4)
        fixed[:, 6:10] = _be(rl, 4)
        fixed[:, 10:14] = _be(ll, 4)
        fixed[:, 14:18] = (0, 0, 0, 8)
        fixed[:, 18:26] = _be(micros[tinv], 8)
        fixed[:, 26:30] = (0, 0, 0, 4)
        fixed[:, 30:34] = np.frombuffer(int(self.batch.pk).to_bytes(4, "big", signed=True), dtype=np.uint8)
        fixed[:, 34:38] = (0, 0, 0, 4)
        fixed[:, 38:42] = _be(lines, 4)
        out[~dst] = fixed.ravel()
        return out.tobytes()

    def _binary_row(self, ln: int, bc: str, res: str, lab: str, ts: str) -> bytes:
        """One binary COPY row (``COLUMNS``) of a field-by-field row."""
        b, r, la = bc.encode("utf-8"), res.encode("utf-8"), lab.encode("utf-8")
        return b"".join((b"\x00\x06", len(b).to_bytes(4, "big"), b, len(r).to_bytes(4, "big"), r,
                         len(la).to_bytes(4, "big"), la, b"\x00\x00\x00\x08",
                         _pg_micros(ts).to_bytes(8, "big", signed=True), b"\x00\x00\x00\x04",
                         int(self.batch.pk).to_bytes(4, "big", signed=True), b"\x00\x00\x00\x04",
                         int(ln).to_bytes(4, "big", signed=True)))

    def _claimed(self, uniq: np.ndarray) -> np.ndarray:
        """Which of the sorted barcodes this run's earlier chunks hold."""
        hit = np.zeros(len(uniq), dtype=bool)
        for part in self.claimed:
            i = np.searchsorted(part, uniq).clip(0, len(part) - 1)
            hit |= part[i] == uniq
        return hit

    def _stored(self, uniq: np.ndarray) -> np.ndarray:
        """Which of the sorted barcodes already have a result in the table (committed by any import). A
        file's barcodes come mostly in order, so the rows in the chunk's barcode range are few and read at
        once (when the column sorts as bytes); otherwise the table is probed with the barcodes themselves."""
        if not len(uniq):
            return np.zeros(0, dtype=bool)
        table = TubeResult._meta.db_table
        have = None
        with connection.cursor() as c:
            if self._ordered(c):
                limit = 2 * len(uniq) + 1000
                c.execute(f"SELECT barcode FROM {table} WHERE barcode >= %s AND barcode <= %s LIMIT %s",
                          [uniq[0].decode("ascii"), uniq[-1].decode("ascii"), limit])
                got = c.fetchall()
                if len(got) < limit:
                    have = [r[0] for r in got]
            if have is None:
                have, values = [], [u.decode("ascii") for u in uniq.tolist()]
                for i in range(0, len(values), 100_000):
                    cond, param = id_in("barcode", values[i:i + 100_000])
                    c.execute(f"SELECT barcode FROM {table} WHERE {cond}", [param])
                    have += [r[0] for r in c.fetchall()]
        if not have:
            return np.zeros(len(uniq), dtype=bool)
        return np.isin(uniq, np.array([h.encode("utf-8") for h in have]))

    def _ordered(self, c) -> bool:
        """Does the barcode column sort barcodes ([A-Za-z0-9-]) as bytes (so a byte-order range of them is a
        range of the index)? SQLite: yes (BINARY). PostgreSQL: asked once (C-like collations do). A wrong
        answer costs speed, not correctness: a tube missed here fails the chunk's COPY, written again."""
        if self._bytewise is None:
            if not self.pg:
                self._bytewise = True
            else:
                sample = ["-", "-0", "0", "0-", "09", "0A", "0a", "9", "A", "A-", "AA", "Aa", "B", "Z", "a", "a-",
                          "aB", "ab", "b", "z"]
                c.execute("SELECT array_agg(x ORDER BY x) FROM unnest(%s::varchar[]) AS x", [sample])
                self._bytewise = list(c.fetchone()[0]) == sorted(sample)
        return self._bytewise

    def claim(self, prep: _Prep) -> None:
        """The chunk's new tubes count as reported for the chunks after it. The claimed barcodes are kept
        as a few sorted arrays of growing size (a part is merged into the one before it once that one is no
        longer twice its size): a chunk is looked up in a handful of arrays, and no array is sorted again."""
        if prep.fast is None or not len(prep.fast.barcodes):
            return
        parts = self.claimed
        parts.append(prep.fast.barcodes)
        while len(parts) > 1 and len(parts[-2]) <= 2 * len(parts[-1]):
            new = parts.pop()  # disjoint from the others: only barcodes no part held were claimed
            parts[-1] = np.insert(parts[-1], np.searchsorted(parts[-1], new), new)

    # ------------------------------------------------------------------------------------- writing
    def write(self, prep: _Prep) -> None:
        """Write a chunk's new tubes (inside the chunk's transaction); API batches: ``prep.slow``."""
        if prep.fast is not None:
            db = connection.Database
            # another import's tubes: stored since the chunk was checked (unique violation), or being stored
            # in another order (a deadlock, this side chosen to give way)
            clash = (IntegrityError, db.IntegrityError) + ((db.errors.DeadlockDetected,) if self.pg else ())
            try:
                with transaction.atomic():  # a savepoint: a clash undoes only this
                    self._insert(prep.fast)
            except clash:
                self._insert_on_conflict(prep.fast)
        if prep.slow and prep.slow[0]:
            self._insert_on_conflict(self._tubes_of(prep.slow[0]))

    def _tubes_of(self, rows: list) -> _Tubes:
        """API batches: field-by-field rows as they are (duplicates are left to ``_insert_on_conflict``)."""
        t = _Tubes(lines=np.array([r[0] for r in rows], dtype=np.int64), barcodes=np.zeros(0, dtype="S32"))
        if self.pg:
            t.copy = b"".join([_COPY_HEAD, *(self._binary_row(*r) for r in rows), _COPY_END])
        else:
            t.flat = [x for ln, bc, res, lab, ts in rows for x in (bc, res, lab, ts, ln)]
        return t

    def _insert(self, t: _Tubes) -> None:
        table = TubeResult._meta.db_table
        if self.pg:
            sql = f"COPY {table} ({self.COLUMNS}) FROM STDIN (FORMAT binary)"
            with connection.cursor() as c, c.cursor.copy(sql) as cp:
                cp.write(t.copy)
            return
        # SQLite: many rows a statement (the statements, not the rows, cost most)
        connection.ensure_connection()
        raw, flat, k = connection.connection, t.flat, self.ROWS_PER_INSERT
        n = len(flat) // 5
        head = f"INSERT INTO {table} (barcode, result, lab, reported_at, line, batch_id) VALUES "
        one = f"(?,?,?,?,?,{int(self.batch.pk)})"
        m = n // k * k
        if m:
            raw.executemany(head + ",".join([one] * k), (flat[i:i + 5 * k] for i in range(0, 5 * m, 5 * k)))
        if m < n:
            raw.execute(head + ",".join([one] * (n - m)), flat[5 * m:])

    def _insert_on_conflict(self, t: _Tubes) -> None:
        """Write through a staging table, keeping what does not conflict (the first line of a tube within
        ``t``); the rest become duplicates of the batch."""
        table = TubeResult._meta.db_table
        stage = "screening_stage_tube"
        with connection.cursor() as c:
            if self.pg:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (barcode text, result text, lab text, "
                          f"reported_at timestamptz, batch_id int, line int) ON COMMIT DELETE ROWS")
                c.execute(f"TRUNCATE {stage}")
                with c.cursor.copy(f"COPY {stage} ({self.COLUMNS}) FROM STDIN (FORMAT binary)") as cp:
                    cp.write(t.copy)
            else:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (barcode text, result text, lab text, "
                          f"reported_at text, batch_id int, line int)")
                c.execute(f"DELETE FROM {stage}")
                connection.connection.executemany(f"INSERT INTO {stage} ({self.COLUMNS}) VALUES (?,?,?,?,?,?)",
                                                  t.rows(self.batch.pk))
            c.execute(f"INSERT INTO {table} ({self.COLUMNS}) SELECT {self.COLUMNS} FROM {stage} WHERE true "
                      f"ORDER BY barcode, line ON CONFLICT (barcode) DO NOTHING RETURNING line")
            kept = {r[0] for r in c.fetchall()}
        dups = [ln for ln in t.lines.tolist() if ln not in kept]
        if dups:
            RowError.objects.bulk_create([RowError(batch_id=self.batch.pk, line=ln, field="barcode",
                                                   reason=self.DUPLICATE) for ln in dups], batch_size=2000)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                rows_ok=F("rows_ok") - len(dups), rows_bad=F("rows_bad") + len(dups),
                rows_duplicate=F("rows_duplicate") + len(dups))
            self.batch.rows_ok -= len(dups)
            self.batch.rows_bad += len(dups)
            self.batch.rows_duplicate += len(dups)


def _columns(rows: list) -> list:
    """Rows [(line, f1, f2, f3, f4)] -> columns [lines, c1, c2, c3, c4]."""
    return [list(c) for c in zip(*rows)] if rows else [[], [], [], [], []]


#: Results are read in smaller chunks than registrations (~60 k rows): the writer thread waits only for the
#: first chunk's checks, and a chunk is still big enough for its transaction to cost little.
RESULT_CHUNK_BYTES = 4 << 20


def import_results(path, *, actor=None, progress: bool = False, chunk_bytes: int = RESULT_CHUNK_BYTES,
                   stop_after: int | None = None, encoding: str | None = None) -> Outcome:
    """Import a lab's results CSV (tubes of any round; registrations may come later)."""
    path = Path(path)
    t0 = time.perf_counter()
    enc, src = _checked_file(path, "results", encoding)
    try:
        b, done = _open_batch(BatchKind.RESULTS, enc.sha256, rnd=None, source=path.name,
                              size=path.stat().st_size, actor=actor)
        if done:
            return Outcome(b, already=True)
        return _run_file(src, "results", b, _ResultWriter(b), actor, progress, chunk_bytes, stop_after, t0)
    finally:
        if src != path:
            import shutil

            shutil.rmtree(src.parent, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- API batches
def import_rows(kind: str, key: str, rows: list[dict], *, round: Round | None, actor) -> Outcome:
    """An API batch: ``rows`` are dicts with the canonical column names; line = position + 1 (1-based).
    The whole batch is one transaction; the same key again changes nothing."""
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise ActionError(gettext("a batch key of 1 to 80 characters is required"), field="batch_key")
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
    if kind == "samples":
        prep = writer._slow_prep(p) if p[0] is not None else _Prep()
    else:
        ok = len(p[0]) if p and p[0] is not None else 0
        prep = _Prep(ok=ok, slow=p if ok else None)
    with transaction.atomic():
        _commit_chunk(b, 0, len(rows), len(rows), prep.ok, prep.dup, errors,
                      (lambda: writer.write(prep)) if prep.ok else (lambda: None))
        _finish(b, actor, time.perf_counter() - t0)
    return Outcome(b, seconds=time.perf_counter() - t0)

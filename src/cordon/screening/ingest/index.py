"""The resident index: ID number -> (resident id, unit id) as sorted numpy arrays, with each unit's ancestors.

Built from the database by a streaming read (one aggregated string per id range; two connections on
PostgreSQL), kept per process and on disk for the next process (trusted while the residents' change stamp,
id range and the index's token stand still; the bulk load of a city builds it). A chunk of ID numbers is
resolved with one vectorised ``searchsorted`` (``ResidentIndex.lookup``)."""
from __future__ import annotations

import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection

from cordon.core import stamps
from cordon.core.models import Stamp
from cordon.places.models import Area, Resident


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

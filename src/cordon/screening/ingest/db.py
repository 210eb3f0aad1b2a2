"""Database helpers of the importers: a one-parameter ``IN`` condition, SQLite's page cache while a batch is
written, the planner's statistics refreshed after a large import, and the pieces of PostgreSQL's binary
``COPY`` that the writers assemble with numpy."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
from django.db import connection

from ..models import Sample, SampleTally, TubeResult


def id_in(column: str, values: list[int]) -> tuple[str, object]:
    """SQL condition ``column`` in ``values`` with a single parameter (an array on PostgreSQL, a JSON list
    read by ``json_each`` on SQLite): no statement with thousands of placeholders."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", list(values)
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(list(values))


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

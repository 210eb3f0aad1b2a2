"""Import batches: opened once per file (or API key) and finished with an audit row; each chunk committed in
one transaction that moves the batch's byte offset (compare-and-set), so a killed import continues where its
committed chunks end; the error report; what a chunk carries from checking to writing (``_Prep``); the
progress line."""
from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext

from cordon.core import audit, clock
from cordon.core.actions import ActionError

from .. import hooks
from ..models import BatchKind, BatchStatus, ImportBatch, Round, RoundArea, RoundStatus, RowError


class SimulatedCrash(RuntimeError):
    """Raised by ``stop_after`` (tests): the process 'dies' after N committed chunks."""


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


def _refuse_closed(round_id: int | None) -> None:
    """Registrations go only into an open round: ActionError for a closed one. Inside a chunk's transaction the
    round's row is read with a share lock (PostgreSQL), so a close waits for the chunks being written and every
    chunk after it is refused."""
    if round_id is None:
        return
    share = " FOR SHARE" if connection.vendor == "postgresql" and connection.in_atomic_block else ""
    with connection.cursor() as c:
        c.execute(f"SELECT name, status FROM {Round._meta.db_table} WHERE id = %s{share}", [round_id])
        row = c.fetchone()
    if row is not None and row[1] == RoundStatus.CLOSED:
        raise ActionError(gettext("round %(name)s is closed: it takes no more registrations (reopen it with a "
                                  "reason first)") % {"name": row[0]}, field="round")


def _open_batch(kind: str, key: str, *, rnd: Round | None, source: str, size: int, actor, community_id=None):
    """The batch for ``key`` (created on first sight). Returns (batch, already_done)."""
    if kind == BatchKind.SAMPLES and rnd is not None:
        _refuse_closed(rnd.pk)
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
                ra = RoundArea.objects.filter(round_id=b.round_id).select_related("area")
                scope = ra[0].area if b.round and b.round.coverage != "city" and len(ra) == 1 else None
            audit.record(f"screening.import_{b.kind}", actor=actor, object_type="importbatch", object_id=b.pk,
                         object_repr=b.source or b.key[:16], scope=scope,
                         after={"key": b.key, "round": b.round_id, "rows_ok": b.rows_ok, "rows_bad": b.rows_bad,
                                "rows_duplicate": b.rows_duplicate, "seconds": round(seconds, 2)})
            for _name, fn in hooks.AFTER_BATCH:  # in the batch's finishing transaction: a rerun calls them again
                fn(b)


def _commit_chunk(b: ImportBatch, start: int, end: int, lines_done: int, ok: int, dup: int,
                  errors: list, write) -> None:
    """One transaction: move the batch's offset (compare-and-set), write the rows and the errors.

    Its own transaction on PostgreSQL does not wait for the WAL to reach the disk (``synchronous_commit``
    off, this transaction only): a commit would otherwise wait for each chunk's flush, longest when a
    checkpoint is writing. Should the server crash, the chunks it lost lose their offset with them (one
    transaction), so a rerun writes them again; the batch's finishing commit (``_finish``) waits as usual,
    and flushes every chunk before it."""
    own = not connection.in_atomic_block
    with transaction.atomic():
        if own and connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("SET LOCAL synchronous_commit = off")
        n = ImportBatch.objects.filter(pk=b.pk, offset=b.offset, status=BatchStatus.RUNNING).update(
            offset=end, line=lines_done, rows_ok=F("rows_ok") + ok, rows_bad=F("rows_bad") + len(errors),
            rows_duplicate=F("rows_duplicate") + dup)
        if n != 1:
            raise ActionError(gettext("another process is importing this batch (its offset moved); rerun to continue"),
                              field="batch")
        if b.kind == BatchKind.SAMPLES:
            _refuse_closed(b.round_id)
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

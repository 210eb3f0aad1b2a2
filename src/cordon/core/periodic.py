"""The named periodic jobs, run under leases by ``cordon worker``.

Each job has a period key (the day-start tick: the date; deadline escalations: the five-minute slot) and one
``JobRun`` row per (job, key). A worker claims the row with an expiry (``lease_until``) and a heartbeat thread
extends it while the job runs. A job is a list of steps; each step commits together with a compare-and-set
checkpoint on the row (its result stored, the lease extended, and only if this worker still holds the lease),
so a step is applied once even when a run is taken over:

- a worker that is killed or loses its database leaves the row ``running`` with a lease that runs out; any
  worker then takes it over (a compare-and-set on ``attempts``) and goes on from the first step not done;
- a step that raises marks the row ``retry`` with the error and a backoff (doubling per attempt), and writes a
  ``job.fail`` audit row; any worker retries it after the backoff, up to ``max_attempts``, then it is
  ``failed`` (the error and the audit rows say why; ``cordon tick`` runs the day start by hand);
- a ``done`` row is never run again, so a period's job completes once.

Times here are wall-clock (``timezone.now()``), not ``core.clock`` (which a scenario or test may pin).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import sys
import threading
import time
import traceback
import uuid

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cordon.core import audit, clock, jobs
from cordon.core.models import JobRun

ACTOR = "worker"
MAX_BACKOFF = 3600.0
# A hook for tests of killed workers: "JOB:STEP:WHEN:SECONDS" makes a run print a line and sleep at that point;
# WHEN is "after" (the step and its checkpoint committed) or "uncommitted" (the step done, not yet committed).
PAUSE_ENV = "CORDON_JOB_TEST_PAUSE"


class LeaseLost(Exception):
    """Another worker took the run over (this one's lease ran out): this worker stops and commits nothing more."""


@dataclasses.dataclass
class Config:
    lease: float = 120.0          # seconds a claim holds without a heartbeat
    max_attempts: int = 5         # runs of one job and key, the first included
    retry_after: float = 60.0     # backoff after the first failure; doubles per attempt, at most an hour
    owner: str = dataclasses.field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    @property
    def heartbeat(self) -> float:
        return max(self.lease / 3.0, 0.05)


def _wall() -> dt.datetime:
    return timezone.now()


def _slot(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:") + f"{now.minute // 5 * 5:02d}"


def due(now: dt.datetime) -> list[tuple[str, str]]:
    """The (job, key) pairs due at ``now`` (city time)."""
    return [("day_start", now.date().isoformat()), *((name, _slot(now)) for name in jobs.NOW_JOBS)]


def steps_of(name: str, key: str) -> list[tuple[str, object]] | None:
    """The steps of job ``name`` for period ``key`` (None for a job this version does not know)."""
    if name == "day_start":
        return jobs.day_start_steps(dt.date.fromisoformat(key), actor=ACTOR)
    if name in jobs.NOW_JOBS:
        fn = jobs.resolve(jobs.NOW_JOBS[name])
        return [("escalated", lambda: fn(clock.now(), actor=ACTOR))]
    return None


def _first_result(name: str, key: str) -> dict:
    return {"date": key} if name == "day_start" else {}


# ------------------------------------------------------------------------------------------ claims

def _held(run, cfg: Config):
    """The run's row while this worker holds it (compare-and-set: owner, attempt and status unchanged)."""
    return JobRun.objects.filter(pk=run.pk, owner=cfg.owner, attempts=run.attempts, status=JobRun.RUNNING)


def claim(name: str, key: str, cfg: Config):
    """Take the run of ``name`` for ``key``: a new row, or one whose lease or backoff has run out and that has
    attempts left. Returns the claimed row, or None (done, failed, held by another worker, or waiting)."""
    now = _wall()
    lease_until = now + dt.timedelta(seconds=cfg.lease)
    row = JobRun.objects.filter(name=name, key=key).first()
    if row is None:
        try:
            with transaction.atomic():
                return JobRun.objects.create(name=name, key=key, status=JobRun.RUNNING, attempts=1,
                                             owner=cfg.owner, lease_until=lease_until, heartbeat=now,
                                             result=_first_result(name, key))
        except IntegrityError:
            return None  # another worker inserted it first
    if row.status not in (JobRun.RUNNING, JobRun.RETRY):
        return None
    if row.lease_until is not None and row.lease_until > now:
        return None  # held, or backing off
    crashed = row.status == JobRun.RUNNING
    note = (f"attempt {row.attempts}: its lease ran out ({row.owner} stopped or lost the database)"
            if crashed else row.error)
    if row.attempts >= cfg.max_attempts:
        _give_up(row, note)
        return None
    took = JobRun.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=now)).update(
        status=JobRun.RUNNING, attempts=F("attempts") + 1, owner=cfg.owner, lease_until=lease_until,
        heartbeat=now, error=note)
    if not took:
        return None  # another worker took it over first
    row.refresh_from_db()
    if crashed:
        _audit_failure(row, note, retry_at=None, final=False, attempt=row.attempts - 1)
    return row


def _give_up(row, note: str) -> None:
    """A run whose last attempt's lease ran out: failed, said once (compare-and-set)."""
    with transaction.atomic():
        if JobRun.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
                status=JobRun.FAILED, error=note, lease_until=None, finished=_wall()):
            _audit_failure(row, note, retry_at=None, final=True)


def _audit_failure(row, error: str, *, retry_at, final: bool, attempt: int | None = None) -> None:
    after = {"job": row.name, "key": row.key, "attempt": attempt or row.attempts, "error": error[-1000:]}
    if final:
        after["gave_up"] = True
    elif retry_at is not None:
        after["retry_at"] = retry_at.isoformat()
    audit.record("job.fail", actor=ACTOR, object_type="jobrun", object_id=row.pk,
                 object_repr=f"{row.name} {row.key}", after=after,
                 reason="gave up after the last attempt" if final else "")


# ------------------------------------------------------------------------------------------ running

class Heartbeat(threading.Thread):
    """Extends a lease every ``cfg.heartbeat`` seconds on its own connection while a run goes on: ``extend(now,
    until)`` updates the lease row while this worker holds it and returns how many rows it updated (0: lost)."""

    def __init__(self, label: str, cfg: Config, extend):
        super().__init__(daemon=True, name=f"lease-{label}")
        self.cfg, self.extend = cfg, extend
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        from django.db import connection as conn

        try:
            while not self.stopped.wait(self.cfg.heartbeat):
                now = _wall()
                try:
                    n = self.extend(now, now + dt.timedelta(seconds=self.cfg.lease))
                except DatabaseError:
                    conn.close()  # the next beat reconnects; the lease still runs until it expires
                    continue
                if not n:
                    self.lost = True
                    return
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


def _job_heartbeat(run, cfg: Config) -> Heartbeat:
    """The heartbeat of a claimed ``JobRun``."""
    return Heartbeat(str(run.pk), cfg, lambda now, until: _held(run, cfg).update(lease_until=until, heartbeat=now))


def _pause(name: str, step: str, when: str) -> None:
    spec = os.environ.get(PAUSE_ENV, "")
    if not spec:
        return
    job, at, w, seconds = spec.split(":")
    if (job, at, w) == (name, step, when):
        print(f"cordon worker: pausing {name} at {step} ({when})", flush=True)
        time.sleep(float(seconds))


def _connection_down(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def close_connection() -> None:
    """Drop this thread's database connection (not inside a test's enclosing transaction)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass


def run_claimed(run, cfg: Config) -> dict:
    """Run the steps of a claimed row not done yet. Returns ``{"job", "key"}`` with ``"result"`` (done),
    ``"failed"`` (the attempt that failed, recorded for a retry or given up) or ``"lost": True`` (another worker
    took the run over). A database that went away raises (OperationalError/InterfaceError) for the caller to
    wait and reconnect; the run's lease then runs out and it is taken over."""
    out = {"job": run.name, "key": run.key}
    steps = steps_of(run.name, run.key)
    result = dict(run.result or _first_result(run.name, run.key))
    beat = None
    if not connection.in_atomic_block:  # a test's enclosing transaction: no other connection sees the row
        beat = _job_heartbeat(run, cfg)
        beat.start()
    try:
        for step, fn in steps:
            if step in result:
                continue  # committed by an earlier attempt
            if beat is not None and beat.lost:
                raise LeaseLost
            with transaction.atomic():
                result[step] = fn()
                _pause(run.name, step, "uncommitted")
                now = _wall()
                if not _held(run, cfg).update(result=result, heartbeat=now,
                                              lease_until=now + dt.timedelta(seconds=cfg.lease)):
                    raise LeaseLost  # rolls the step back: the worker that took over applies it
            _pause(run.name, step, "after")
        if beat is not None:
            beat.stop()
            beat = None
        if not _held(run, cfg).update(status=JobRun.DONE, finished=_wall(), lease_until=None, result=result):
            raise LeaseLost
        return {**out, "result": result}
    except LeaseLost:
        print(f"cordon worker: {run.name} {run.key}: lease lost; another worker goes on with it",
              file=sys.stderr, flush=True)
        return {**out, "lost": True}
    except Exception as exc:
        if beat is not None:
            beat.stop()
            beat = None
        error = "".join(traceback.format_exception_only(exc)).strip()
        detail = "".join(traceback.format_exception(exc))[-4000:]
        if _connection_down(exc):
            close_connection()  # recording the failure reconnects; if the database is away that raises
        _record_failure(run, cfg, detail)
        print(f"cordon worker: {run.name} {run.key} attempt {run.attempts} failed: {error}",
              file=sys.stderr, flush=True)
        return {**out, "failed": run.attempts, "error": error}
    finally:
        if beat is not None:
            beat.stop()


def _record_failure(run, cfg: Config, detail: str) -> None:
    final = run.attempts >= cfg.max_attempts
    now = _wall()
    retry_at = None if final else now + dt.timedelta(
        seconds=min(cfg.retry_after * 2 ** (run.attempts - 1), MAX_BACKOFF))
    with transaction.atomic():
        if _held(run, cfg).update(status=JobRun.FAILED if final else JobRun.RETRY, error=detail,
                                  lease_until=retry_at, finished=now if final else None):
            _audit_failure(run, detail, retry_at=retry_at, final=final)


def pending(cfg: Config) -> list[tuple[str, str]]:
    """Runs of earlier periods left running with an expired lease, or waiting for a retry that is due."""
    return list(JobRun.objects.filter(status__in=[JobRun.RUNNING, JobRun.RETRY]).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=_wall())).order_by("started", "pk")
        .values_list("name", "key"))


def run_due_jobs(cfg: Config | None = None) -> list[dict]:
    """One pass: every run left over whose lease or backoff ran out, then the jobs due now. Returns what ran
    (``run_claimed``'s answers)."""
    cfg = cfg or Config()
    out = []
    todo = pending(cfg)
    todo += [jk for jk in due(clock.now()) if jk not in todo]
    for name, key in todo:
        if steps_of(name, key) is None:
            continue
        run = claim(name, key, cfg)
        if run is not None:
            out.append(run_claimed(run, cfg))
    return out


"""The task queue as ``cordon worker`` runs it: Django's tasks framework (``django.tasks``) with the database
backend of ``django_tasks_db`` (its ``DBTaskResult`` rows are the queue; docs/architecture.md, "The task queue").

``django_tasks_db`` claims a ready task with ``SELECT ... FOR UPDATE SKIP LOCKED`` (an exclusive transaction on
SQLite), so several workers never start one task twice; but a worker killed while it runs a task leaves it
``RUNNING`` for ever. Here the claim also writes a ``TaskLease`` (in the same transaction) that a heartbeat
extends while the task runs; a lease that has run out is a worker that stopped, and any worker puts its task
back in the queue (``recover``, a compare-and-set on the lease), audited. The tasks themselves go on from where
the killed run's commits end (the periodic jobs: ``core.periodic``'s step checkpoints; uploads: the
importers' checkpoints), so a task taken over applies each change once.
"""
from __future__ import annotations

import datetime as dt
import sys
import threading
import traceback

from django.db import connection, transaction
from django.tasks.base import TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from cordon.core import audit, periodic
from cordon.core.models import TaskLease
from cordon.core.periodic import Config, Heartbeat

ACTOR = "worker"
BACKEND = "default"

_local = threading.local()


def current_config() -> Config:
    """The configuration of the worker running the current task (a task run outside a worker: the defaults)."""
    return getattr(_local, "cfg", None) or Config()


class LeaseLost(Exception):
    """The running task's lease was taken over (this worker stopped answering for longer than the lease): what it
    was about to commit is rolled back; the worker that took the task over goes on with it."""


def check_held() -> None:
    """Inside a task's transaction (an importer's chunk): raise ``LeaseLost`` unless this worker still holds the
    task's lease, and hold the lease row until the transaction ends (no take-over can slip in between), so a
    task taken over never commits twice. Outside a worker's task (the CLI, a task called directly): nothing."""
    row, cfg = getattr(_local, "row", None), getattr(_local, "cfg", None)
    if row is None or cfg is None:
        return
    held = _held(row, cfg)
    if not (held.select_for_update() if connection.in_atomic_block else held).exists():
        raise LeaseLost(f"task {row.pk}: lease lost")


def _now() -> dt.datetime:
    return periodic._wall()


def ready():
    return DBTaskResult.objects.ready().filter(backend_name=BACKEND)


def take(cfg: Config, pk=None):
    """Claim the next ready task (highest priority, oldest first), or the task ``pk`` if it is still waiting,
    with a lease; None when there is none."""
    now = _now()
    with exclusive_transaction():
        row = (ready() if pk is None else ready().filter(pk=pk)).get_locked()
        if row is None:
            return None
        row.claim(cfg.owner[:64])
        TaskLease.objects.update_or_create(task_id=row.pk, defaults=dict(
            owner=cfg.owner, lease_until=now + dt.timedelta(seconds=cfg.lease), heartbeat=now))
    return row


def recover(cfg: Config) -> int:
    """Put back in the queue every running task whose lease has run out (its worker was killed or lost the
    database); each is said in the audit log. Returns how many."""
    n = 0
    now = _now()
    for lease in TaskLease.objects.filter(lease_until__lte=now):
        with transaction.atomic():
            if not TaskLease.objects.filter(pk=lease.pk, owner=lease.owner, lease_until=lease.lease_until).delete()[0]:
                continue  # extended meanwhile, or recovered by another worker
            row = DBTaskResult.objects.filter(pk=lease.task_id, status=TaskResultStatus.RUNNING).first()
            if row is None:
                continue
            DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None)
            audit.record("task.takeover", actor=ACTOR, object_type="task", object_id=str(row.pk),
                         object_repr=row.task_path.rsplit(".", 1)[-1],
                         after={"task": row.task_path, "args": row.args_kwargs, "owner": lease.owner,
                                "taken_by": cfg.owner})
            n += 1
    return n


def _held(row, cfg: Config):
    return TaskLease.objects.filter(pk=row.pk, owner=cfg.owner)


def _settle(row, cfg: Config, value=None, exc: BaseException | None = None) -> bool:
    """Record the task's end while this worker still holds it (a task taken over is the new holder's)."""
    with transaction.atomic():
        if not _held(row, cfg).delete()[0]:
            return False
        if exc is None:
            row.set_successful(value)
        else:
            row.set_failed(exc)
    return True


def run_task(row, cfg: Config):
    """Run one claimed task under its lease; returns its value (None when it failed or was taken over)."""
    beat = None
    if not connection.in_atomic_block:  # a test's enclosing transaction: no other connection sees the lease
        beat = Heartbeat(str(row.pk), cfg, lambda now, until: _held(row, cfg).update(lease_until=until,
                                                                                     heartbeat=now))
        beat.start()
    _local.cfg, _local.row = cfg, row
    task = row.task
    backend = type(task.get_backend())
    try:
        task_started.send(sender=backend, task_result=row.task_result)
        value = task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    except Exception as exc:
        if beat is not None:
            beat.stop()
            beat = None
        print(f"cordon worker: task {row.task_path} {row.pk} failed: "
              f"{''.join(traceback.format_exception_only(exc)).strip()}", file=sys.stderr, flush=True)
        if periodic._connection_down(exc):
            periodic.close_connection()
        _settle(row, cfg, exc=exc)
        task_finished.send(sender=backend, task_result=row.task_result)
        return None
    finally:
        _local.cfg = _local.row = None
        if beat is not None:
            beat.stop()
    if not _settle(row, cfg, value=value):
        print(f"cordon worker: task {row.pk}: lease lost; another worker goes on with it", file=sys.stderr,
              flush=True)
        return None
    task_finished.send(sender=backend, task_result=row.task_result)
    return value


def drain(cfg: Config, stop: dict | None = None, limit: int | None = None) -> list:
    """Recover tasks of stopped workers, then run ready tasks until the queue is empty (or ``stop["now"]``, or
    ``limit`` tasks). Returns the tasks' values."""
    recover(cfg)
    out = []
    while not (stop or {}).get("now") and (limit is None or len(out) < limit):
        row = take(cfg)
        if row is None:
            break
        out.append(run_task(row, cfg))
    return out


def run_now(pk, cfg: Config | None = None):
    """Run the task ``pk`` here and now if no worker has taken it yet (a small upload, imported while its page
    loads); returns its value, or None when a worker has it."""
    cfg = cfg or Config()
    row = take(cfg, pk)
    return None if row is None else run_task(row, cfg)


#: Finished tasks (their results) are kept this long, then removed by ``prune`` (the audit log keeps what
#: they did; uploads keep their own records).
KEEP_FINISHED = dt.timedelta(days=7)


def prune(keep: dt.timedelta = KEEP_FINISHED) -> int:
    """Remove the queue's finished tasks older than ``keep``; returns how many."""
    cutoff = _now() - keep
    return DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff).delete()[0]

"""The tasks of the queue (``django.tasks``; ``core.queue`` runs them under ``cordon worker``). Each is safe to
run again after a crash: it goes on from the commits of the run before."""
from __future__ import annotations

from django.tasks import task


@task()
def run_job(name: str, key: str) -> dict:
    """One periodic job for one period (``core.periodic``): claimed under its lease and run step by step; a
    job already done, held by another worker or waiting for its retry answers ``{"skipped": True}``."""
    from cordon.core import periodic, queue

    cfg = queue.current_config()
    run = periodic.claim(name, key, cfg)
    if run is None:
        return {"job": name, "key": key, "skipped": True}
    return periodic.run_claimed(run, cfg)


@task()
def run_upload(upload_id: int) -> dict:
    """Import an uploaded file (``core.uploads``), or go on with one a stopped worker left unfinished."""
    from cordon.core import uploads

    return uploads.run(upload_id)


def enqueue_due(cfg=None) -> list[tuple[str, str]]:
    """Put on the task queue (``core.tasks.run_job``) each run left over whose lease or backoff ran out and each
    job due now, unless its period is done, failed, held or backing off, or a task for it is already waiting or
    running. Returns what was enqueued."""
    from django_tasks_db.models import DBTaskResult

    from cordon.core import clock
    from cordon.core.models import JobRun
    from cordon.core.periodic import Config, _wall, due, pending, steps_of

    cfg = cfg or Config()
    todo = pending(cfg)
    todo += [jk for jk in due(clock.now()) if jk not in todo]
    now = _wall()
    queued = {tuple(a["args"]) for a in DBTaskResult.objects.filter(
        task_path=run_job.module_path, status__in=["READY", "RUNNING"]).values_list("args_kwargs", flat=True)}
    out = []
    for name, key in todo:
        if (name, key) in queued or steps_of(name, key) is None:
            continue
        row = JobRun.objects.filter(name=name, key=key).first()
        if row is not None and (row.status in (JobRun.DONE, JobRun.FAILED)
                                or (row.lease_until is not None and row.lease_until > now)):
            continue
        run_job.enqueue(name, key)
        out.append((name, key))
    return out


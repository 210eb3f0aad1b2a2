"""The task queue (``django.tasks`` with ``django_tasks_db``, run by ``core.queue`` under ``cordon worker``): a
task runs end to end on the configured database (SQLite or PostgreSQL: the suite runs on both); the periodic
jobs are enqueued once per period; a task whose worker's lease ran out goes back to the queue, audited; and a
worker process killed (SIGKILL) in the middle of an upload leaves it to a new worker, which finishes it with
every row counted once."""
from __future__ import annotations

import csv
import datetime as dt
import json
import signal

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cordon.core import clock, ids, queue, tasks
from cordon.core.models import AuditEntry, JobRun, TaskLease
from cordon.core.periodic import Config
from tests.conftest import UNIT_A
from tests.core.test_worker import DAY, Proc, Target, Wall

QUEUE = DBTaskResult._meta.db_table


@pytest.mark.django_db
def test_a_task_runs_end_to_end_on_the_queue():
    result = tasks.run_job.enqueue("escalate", "2022-11-16T09:00")
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY and row.backend_name == "default"
    with clock.frozen(DAY):
        out = queue.drain(Config(owner="w1"))
    assert out == [{"job": "escalate", "key": "2022-11-16T09:00", "result": {"escalated": 0}}]
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == out[0] and row.worker_ids == ["w1"]
    assert not TaskLease.objects.exists()
    assert JobRun.objects.get(name="escalate").status == JobRun.DONE
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == out[0]


#: The periodic jobs due at any moment (the day start and core.jobs.NOW_JOBS).
JOBS = {"day_start", "escalate", "hotline_escalate", "screening_close", "upload_files", "notify", "orders_escalate"}


@pytest.mark.django_db
def test_due_jobs_are_enqueued_once_per_period():
    cfg = Config(owner="w1")
    with clock.frozen(DAY):
        first = tasks.enqueue_due(cfg)
        assert {n for n, _k in first} == JOBS
        assert tasks.enqueue_due(cfg) == []  # already waiting
        done = [v for v in queue.drain(cfg) if "result" in v]
        assert {d["job"] for d in done} == JOBS
        assert tasks.enqueue_due(cfg) == []  # done for this period
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == len(JOBS)


@pytest.mark.django_db
def test_a_task_whose_lease_ran_out_goes_back_to_the_queue(monkeypatch):
    wall = Wall(monkeypatch)
    a, b = Config(lease=30, owner="a"), Config(lease=30, owner="b")
    tasks.run_job.enqueue("escalate", "2022-11-16T09:00")
    row = queue.take(a)  # a claims it, then stops (killed): nothing more happens on its side
    assert row is not None and queue.take(b) is None
    wall.advance(29)
    assert queue.recover(b) == 0
    wall.advance(2)
    assert queue.recover(b) == 1
    taken = AuditEntry.objects.get(action="task.takeover")
    assert taken.after["owner"] == "a" and taken.after["taken_by"] == "b"
    with clock.frozen(DAY):
        assert queue.drain(b)[0]["result"] == {"escalated": 0}
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids == ["a", "b"]
    assert queue._settle(row, a, value={}) is False  # a's late answer is not recorded


@pytest.mark.django_db
def test_a_failing_task_is_recorded_failed(monkeypatch):
    from cordon.core import periodic

    def boom(name, key, cfg):
        raise RuntimeError("no such job table")

    monkeypatch.setattr(periodic, "claim", boom)
    r = tasks.run_job.enqueue("escalate", "k")
    assert queue.drain(Config(owner="w")) == [None]
    row = DBTaskResult.objects.get(pk=r.id)
    assert row.status == TaskResultStatus.FAILED and "no such job table" in row.traceback


# ------------------------------------------------------------------------------------------ a killed worker

def _residents_file(path, n: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "id_number", "address", "household"])
        for i in range(n):
            w.writerow([f"居民{i}", ids.make_id_number("620102", dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000),
                                                     1000 + i, "MF"[i % 2]), UNIT_A, str(100 + i % 50)])
            if i % 1000 == 999:
                w.writerow(["坏行", "not-an-id", UNIT_A, "1"])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_upload_leaves_it_to_another_which_counts_each_row_once(tmp_path, worker, settings):
    from django.core.files import File

    from cordon.core.actions import do_create_upload
    from cordon.places.models import Resident

    settings.HOME = tmp_path
    n = 5000  # three chunks of the residents importer (2000 rows each)
    src = tmp_path / "residents.csv"
    _residents_file(src, n)
    with open(src, "rb") as fh:
        u = do_create_upload(File(fh, name="residents.csv"), kind="residents", actor=worker)
    before = Resident.objects.count()
    t = Target(tmp_path)

    first = Proc(t.env(CORDON_UPLOAD_TEST_PAUSE="120"), "--lease", "1")
    try:
        first.wait_for("pausing upload")
    finally:
        first.kill()
    status, done, cp = t.one("SELECT status, done, checkpoint FROM core_upload WHERE id = ?", u.pk)
    cp = json.loads(cp) if isinstance(cp, str) else cp
    assert status == "running" and cp["line"] > 0 and 0 < done < n
    assert t.one(f"SELECT status FROM {QUEUE} WHERE task_path = ?", tasks.run_upload.module_path)[0] == "RUNNING"

    second = Proc(t.env(), "--lease", "5")
    try:
        second.wait_for(f"upload {u.pk}: done", timeout=120)
    finally:
        assert second.stop() == 0
    status, counts, errors, report = t.one("SELECT status, counts, errors, report FROM core_upload WHERE id = ?", u.pk)
    counts = json.loads(counts) if isinstance(counts, str) else counts
    assert status == "done" and counts["created"] == n and counts["rows"] == n + n // 1000 and errors == n // 1000
    assert t.one("SELECT count(*) FROM places_resident")[0] == before + n
    rows = list(csv.reader(open(report, encoding="utf-8-sig")))
    assert rows[0] == ["line", "field", "reason"] and len(rows) == 1 + n // 1000
    assert len({r[0] for r in rows[1:]}) == n // 1000  # each bad line reported once
    assert t.one("SELECT count(*) FROM core_auditentry WHERE action = 'task.takeover'")[0] == 1
    assert t.one(f"SELECT status FROM {QUEUE} WHERE task_path = ?", tasks.run_upload.module_path)[0] == "SUCCESSFUL"
    created = t.one("SELECT count(*) FROM core_auditentry WHERE action = 'resident.import_rows'")[0]
    assert created == 3  # one audit row per committed chunk, none twice


@pytest.mark.django_db
def test_an_upload_whose_lease_was_taken_over_commits_nothing_more(monkeypatch, worker, settings, tmp_path):
    """A worker that stopped answering (its lease ran out and another took the task) is refused at its next
    chunk: the chunk is rolled back and the upload left to the new holder."""
    from django.core.files import File

    from cordon.core.actions import do_create_upload
    from cordon.core.models import Upload
    from cordon.places.models import Resident

    settings.HOME = tmp_path
    src = tmp_path / "r.csv"
    _residents_file(src, 3000)
    with open(src, "rb") as fh:
        u = do_create_upload(File(fh, name="r.csv"), kind="residents", actor=worker)
    wall = Wall(monkeypatch)
    a, b = Config(lease=30, owner="a"), Config(lease=30, owner="b")
    row = queue.take(a)
    wall.advance(31)
    assert queue.recover(b) == 1  # b found a's lease run out; a goes on regardless
    before = Resident.objects.count()
    assert queue.run_task(row, a) is None  # refused at its first chunk
    u.refresh_from_db()
    assert u.status == "running" and u.checkpoint == {} and Resident.objects.count() == before
    out = queue.drain(b)
    assert out[0]["status"] == "done" and out[0]["counts"]["created"] == 3000
    assert Upload.objects.get(pk=u.pk).counts["rows"] == 3003  # and 3 bad lines


@pytest.mark.django_db
def test_finished_tasks_are_pruned_after_a_week(monkeypatch):
    wall = Wall(monkeypatch)
    tasks.run_job.enqueue("escalate", "2022-11-16T09:00")
    waiting = tasks.run_job.enqueue("escalate", "2022-11-16T09:05")
    with clock.frozen(DAY):
        queue.drain(Config(owner="w"), limit=1)
    DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).update(finished_at=wall.t)
    wall.advance(6 * 86400)
    assert queue.prune() == 0
    wall.advance(2 * 86400)
    assert queue.prune() == 1
    assert list(DBTaskResult.objects.values_list("id", flat=True)) == [waiting.db_result.pk]  # waiting: kept


@pytest.mark.django_db
def test_a_resumed_residents_import_still_reports_repeats_of_lines_before_its_checkpoint(tmp_path):
    from cordon.places.importer import ImportReport, import_residents

    a = ids.make_id_number("620102", dt.date(1960, 1, 1), 11, "M")
    b = ids.make_id_number("620102", dt.date(1961, 1, 1), 12, "F")
    f = tmp_path / "r.csv"
    f.write_text(f"name,id_number,address,household\n甲,{a},{UNIT_A},1\n乙,{b},{UNIT_A},1\n丙,{a},{UNIT_A},2\n",
                 encoding="utf-8")
    cps = []
    rep = import_residents(f, after_line=3, report=ImportReport(file="r.csv", rows=2, created=2),
                           checkpoint=lambda r, line: cps.append(line))
    assert [(e.line, e.field) for e in rep.errors] == [(4, "id_number")] and "line 2" in rep.errors[0].reason
    assert (rep.rows, rep.created, cps) == (3, 2, [4])

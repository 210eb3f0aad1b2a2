"""``cordon worker``: periodic jobs under leases. A failing job is retried after its backoff and then succeeds,
or is given up after its last attempt (audited); a run whose worker's lease ran out is taken over and the old
worker commits nothing more; real worker processes killed mid-tick (SIGKILL) leave the day's tick to another
worker, which completes it with each change applied once; a dropped database connection does not stop one."""
from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import OperationalError, connection

from cordon.core import clock, periodic
from cordon.core.models import AuditEntry, JobRun
from cordon.core.periodic import Config, claim, run_claimed, run_due_jobs
from cordon.zones import actions as za
from cordon.zones.models import Designation

D0 = dt.date(2022, 11, 8)
DAY = D0 + dt.timedelta(days=8)  # the high -> medium change falls due
UNIT = "城关区/皋兰路街道/五泉社区/五泉小区/{}号楼/1单元"


def _designate(n: int) -> None:
    from cordon.places.actions import do_ensure_area

    with clock.frozen(D0):
        for i in range(n):
            d = za.do_designate(do_ensure_area(UNIT.format(i + 1), actor="test"), "high", on=D0, reason="P1",
                                actor="test")
            za.do_record_round(d, on=D0 + dt.timedelta(days=7), result="negative", actor="test")


class Wall:
    """The workers' wall clock (leases, backoff), moved by hand."""

    def __init__(self, monkeypatch):
        self.t = dt.datetime(2022, 11, 16, 1, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(periodic, "_wall", lambda: self.t)

    def advance(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


def _count_calls(monkeypatch, module, name, fail_first: int = 0, fail_always: bool = False) -> list:
    calls = []
    real = getattr(module, name)

    def wrapped(*a, **kw):
        calls.append(a)
        if fail_always or len(calls) <= fail_first:
            raise RuntimeError("the supplies ledger is unreachable")
        return real(*a, **kw)

    monkeypatch.setattr(module, name, wrapped)
    return calls


@pytest.mark.django_db
def test_failing_job_is_recorded_retried_after_backoff_then_succeeds(db, monkeypatch):
    from cordon.supplies import actions as sa
    from cordon.zones import actions as zones

    _designate(2)
    wall = Wall(monkeypatch)
    ticks = _count_calls(monkeypatch, zones, "do_tick")
    closes = _count_calls(monkeypatch, sa, "do_close_day", fail_first=1)
    cfg = Config(lease=30, max_attempts=3, retry_after=10)
    with clock.frozen(DAY):
        out = run_due_jobs(cfg)
        day = [d for d in out if d["job"] == "day_start"][0]
        assert day["failed"] == 1 and "ledger is unreachable" in day["error"]
        run = JobRun.objects.get(name="day_start", key=DAY.isoformat())
        assert (run.status, run.attempts) == (JobRun.RETRY, 1) and "ledger is unreachable" in run.error
        assert run.lease_until == wall.t + dt.timedelta(seconds=10)
        assert set(run.result) == {"date", "areas", "orders", "care_tasks"}  # the steps before it committed
        fail = AuditEntry.objects.get(action="job.fail")
        assert fail.after["job"] == "day_start" and fail.after["attempt"] == 1 and "retry_at" in fail.after
        assert AuditEntry.objects.filter(action="designation.change").count() == 2

        wall.advance(9)  # still backing off: nothing runs
        assert [d for d in run_due_jobs(cfg) if d["job"] == "day_start"] == [] and len(closes) == 1
        wall.advance(2)
        day = [d for d in run_due_jobs(cfg) if d["job"] == "day_start"][0]
        assert day["result"]["supplies"]["day"] == (DAY - dt.timedelta(days=1)).isoformat()
        assert day["result"]["areas"]["changes"] == 2
        run.refresh_from_db()
        assert (run.status, run.attempts, run.lease_until) == (JobRun.DONE, 2, None) and run.finished
        wall.advance(3600)
        assert [d for d in run_due_jobs(cfg) if d["job"] == "day_start"] == []  # done is never run again
    assert len(ticks) == 1 and len(closes) == 2  # the committed areas step was not run again
    assert AuditEntry.objects.filter(action="designation.change").count() == 2
    assert AuditEntry.objects.filter(action="job.fail").count() == 1


@pytest.mark.django_db
def test_job_is_given_up_after_its_last_attempt(db, monkeypatch):
    from cordon.supplies import actions as sa

    wall = Wall(monkeypatch)
    closes = _count_calls(monkeypatch, sa, "do_close_day", fail_always=True)
    cfg = Config(lease=30, max_attempts=2, retry_after=5)
    with clock.frozen(DAY):
        run_due_jobs(cfg)
        wall.advance(5)
        run_due_jobs(cfg)
        wall.advance(3600)
        run_due_jobs(cfg)
    run = JobRun.objects.get(name="day_start")
    assert (run.status, run.attempts, run.lease_until) == (JobRun.FAILED, 2, None) and len(closes) == 2
    fails = list(AuditEntry.objects.filter(action="job.fail").order_by("id"))
    assert [f.after["attempt"] for f in fails] == [1, 2]
    assert fails[-1].after.get("gave_up") is True and "ledger is unreachable" in fails[-1].after["error"]


@pytest.mark.django_db
def test_expired_lease_is_taken_over_and_the_old_holder_commits_nothing(db, monkeypatch):
    _designate(3)
    wall = Wall(monkeypatch)
    a, b = Config(lease=30, owner="a"), Config(lease=30, owner="b")
    key = DAY.isoformat()
    with clock.frozen(DAY):
        run_a = claim("day_start", key, a)
        assert run_a is not None and claim("day_start", key, b) is None  # held
        wall.advance(29)
        assert claim("day_start", key, b) is None
        wall.advance(2)  # a's lease ran out (a stopped, or lost its database)
        run_b = claim("day_start", key, b)
        assert run_b is not None and (run_b.attempts, run_b.owner) == (2, "b")
        assert claim("day_start", key, a) is None  # and a cannot take it back while b holds it
        # a wakes up and goes on: its first step is rolled back at the checkpoint, nothing of it stays
        assert run_claimed(run_a, a) == {"job": "day_start", "key": key, "lost": True}
        assert AuditEntry.objects.filter(action="designation.change").count() == 0
        assert set(Designation.objects.values_list("level", flat=True)) == {"high"}
        assert run_claimed(run_b, b)["result"]["areas"]["changes"] == 3
    assert AuditEntry.objects.filter(action="designation.change").count() == 3
    run = JobRun.objects.get(name="day_start")
    assert (run.status, run.attempts, run.owner) == (JobRun.DONE, 2, "b")
    crash = AuditEntry.objects.get(action="job.fail")
    assert crash.after["attempt"] == 1 and "lease ran out" in crash.after["error"]


def test_worker_loop_survives_a_lost_database(monkeypatch, capsys):
    from cordon.commands import worker

    calls, sleeps, closed = [], [], []
    stop = {"now": False}

    def passes(cfg, stop=None):
        calls.append(cfg)
        if len(calls) <= 2:
            raise OperationalError("terminating connection due to administrator command")
        stop["now"] = True
        return [{"job": "escalate", "key": "k", "result": {"escalated": 0}}]

    monkeypatch.setattr(worker, "run_due_jobs", passes)
    monkeypatch.setattr(periodic, "close_connection", lambda: closed.append(1))
    monkeypatch.setattr(worker.time, "sleep", sleeps.append)
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    assert worker.loop(Config(), interval=30, once=False, stop=stop) == 0
    assert len(calls) == 3 and len(closed) == 2
    assert sum(sleeps) == pytest.approx(1 + 2)  # backoff: 1 s, then 2 s
    out = capsys.readouterr()
    assert "database unavailable (terminating connection" in out.err and "escalate k" in out.out
    calls.clear()
    stop["now"] = False
    assert worker.loop(Config(), interval=30, once=True, stop=stop) == 1  # --once reports it


# ------------------------------------------------------------------------------------------ real processes

class Proc:
    """A ``cordon worker`` process whose output lines are read as they come."""

    def __init__(self, env: dict, *extra: str):
        self.p = subprocess.Popen([sys.executable, "-m", "cordon", "worker", "--interval", "0.2", *extra],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, keep in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, keep), daemon=True).start()

    def _read(self, stream, keep):
        for line in stream:
            keep.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60, start: bool = False) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.p.poll() is None, f"worker ended ({self.p.returncode}): {''.join(self.err)}"
                continue
            if line.startswith(text) if start else text in line:
                return line
        raise AssertionError(f"no {text!r} from the worker: {''.join(self.out)}{''.join(self.err)}")

    def kill(self) -> None:
        self.p.send_signal(signal.SIGKILL)
        assert self.p.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait(timeout=30)


class Target:
    """The test database as a worker process sees it: PostgreSQL's test database itself, or for SQLite (whose
    test database is in memory) a file copy made with SQLite's online backup."""

    def __init__(self, tmp_path):
        connection.ensure_connection()
        s = connection.settings_dict
        self.pg = connection.vendor == "postgresql"
        if self.pg:
            self.url = f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        else:
            self.path = tmp_path / "worker.sqlite3"
            dst = sqlite3.connect(self.path)
            connection.connection.backup(dst)
            dst.close()
            self.url = f"sqlite:///{self.path}"

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("CORDON_TODAY", periodic.PAUSE_ENV)}
        return {**env, "DATABASE_URL": self.url, "CORDON_TODAY": DAY.isoformat(), **extra}

    def one(self, sql: str, *params):
        if self.pg:
            with connection.cursor() as c:
                c.execute(sql.replace("?", "%s"), params)
                return c.fetchone()
        with sqlite3.connect(self.path, timeout=5) as c:
            return c.execute(sql, params).fetchone()


def _run_row(t: Target):
    return t.one("SELECT status, attempts, result FROM core_jobrun WHERE name = 'day_start' AND key = ?",
                 DAY.isoformat())


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.django_db(transaction=True)
def test_workers_killed_mid_tick_leave_the_day_to_the_others_which_apply_it_once(tmp_path):
    import json

    n = 12
    _designate(n)
    t = Target(tmp_path)
    changes = "SELECT count(*) FROM core_auditentry WHERE action = 'designation.change'"

    # the first worker is killed inside the areas step, before it commits: nothing of it stays
    first = Proc(t.env(CORDON_JOB_TEST_PAUSE="day_start:areas:uncommitted:120"), "--lease", "1")
    first.wait_for("pausing day_start at areas")
    first.kill()
    assert _run_row(t)[:2] == ("running", 1) and t.one(changes)[0] == 0

    # the second takes it over once the lease has run out, and is killed after its second step committed
    second = Proc(t.env(CORDON_JOB_TEST_PAUSE="day_start:orders:after:120"), "--lease", "1")
    second.wait_for("pausing day_start at orders")
    second.kill()
    status, attempts, result = _run_row(t)
    result = json.loads(result) if isinstance(result, str) else result
    assert (status, attempts) == ("running", 2) and set(result) == {"date", "areas", "orders"}
    assert t.one(changes)[0] == n

    # two more start together: one of them finishes the day from the step after the last committed one
    both = [Proc(t.env(), "--lease", "10"), Proc(t.env(), "--lease", "10")]  # theirs: no take-over between them
    for w in both:  # both have started (and handle SIGTERM) before either may be stopped
        w.wait_for("cordon worker: running periodic jobs", start=True)
    end = time.monotonic() + 90
    while _run_row(t)[0] != "done" and time.monotonic() < end:
        assert all(w.p.poll() is None for w in both), "".join(both[0].err + both[1].err)
        time.sleep(0.2)
    time.sleep(0.5)  # the winner prints what it ran
    assert [w.stop() for w in both] == [0, 0]
    ran = [line for w in both for line in w.out if line.startswith(f"day_start {DAY.isoformat()}:")]
    assert len(ran) == 1, "".join(both[0].out + both[1].out)
    status, attempts, result = _run_row(t)
    result = json.loads(result) if isinstance(result, str) else result
    assert (status, attempts) == ("done", 3)
    assert set(result) == {"date", "areas", "orders", "care_tasks", "supplies", "passes", "keyplaces"}
    assert result["areas"]["changes"] == n  # the second worker's areas result, kept and not re-run
    assert t.one(changes)[0] == n
    assert t.one("SELECT count(*) FROM zones_event WHERE kind = 'change' AND \"on\" = ?", DAY.isoformat())[0] == n
    assert t.one("SELECT count(*) FROM zones_designation WHERE level = 'medium'")[0] == n
    assert t.one("SELECT count(*) FROM core_auditentry WHERE action = 'job.fail'")[0] == 2  # each crash said
    assert t.one("SELECT count(*) FROM core_jobrun WHERE status <> 'done'")[0] == 0


def _terminate_others() -> int:
    with connection.cursor() as c:
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return len(c.fetchall())


def _allow_connections(allow: bool) -> None:
    """Open or close the test database to new connections (from the server's maintenance database)."""
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"],
                         dbname="postgres", autocommit=True) as c:
        c.execute(f'ALTER DATABASE "{s["NAME"]}" ALLOW_CONNECTIONS {str(allow).lower()}')


@pytest.mark.django_db(transaction=True)
def test_worker_survives_dropped_connections_and_a_database_away(tmp_path):
    t = Target(tmp_path)
    if not t.pg:
        pytest.skip("terminating server connections needs PostgreSQL (the loop's handling is tested above)")
    w = Proc(t.env(CORDON_JOB_TEST_PAUSE="day_start:areas:uncommitted:1.5"), "--lease", "5", "--retry-after", "0.3")
    try:
        # the connection dies in the middle of a job: that attempt fails (recorded), the retry completes it
        w.wait_for("pausing day_start at areas")
        assert _terminate_others() >= 1
        w.wait_for(f"day_start {DAY.isoformat()}: {{", start=True)
        assert "attempt 1 failed" in "".join(w.err)
        assert t.one("SELECT status, attempts FROM core_jobrun WHERE name = 'day_start'") == ("done", 2)
        assert t.one("SELECT count(*) FROM core_auditentry WHERE action = 'job.fail'")[0] == 1

        # the database refuses connections for a while (a restart): the worker waits, then carries on
        _allow_connections(False)
        try:
            assert _terminate_others() >= 1
            w.wait_for("database unavailable", timeout=30)
        finally:
            _allow_connections(True)
        with connection.cursor() as c:
            c.execute("DELETE FROM core_jobrun WHERE name = 'escalate'")  # due again: the worker must run it
        w.wait_for("escalate ", timeout=30, start=True)
        assert w.p.poll() is None
        assert t.one("SELECT status FROM core_jobrun WHERE name = 'escalate'")[0] == "done"
    finally:
        assert w.stop() == 0

"""``cordon worker``: runs the named periodic jobs. Safe with several copies: each (job, key) is claimed by
inserting a unique JobRun row, so exactly one worker runs the day-start tick for a date."""
from __future__ import annotations

import signal
import time


def add_arguments(p):
    p.add_argument("--interval", type=float, default=30.0, help="seconds between checks")
    p.add_argument("--once", action="store_true", help="run what is due now, then stop")


def run_due_jobs() -> list[dict]:
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from cordon.cases.actions import escalate_overdue
    from cordon.hotline.actions import escalate_overdue as escalate_tickets
    from cordon.core import clock
    from cordon.core.jobs import day_start
    from cordon.core.models import JobRun

    done = []
    now = clock.now()
    today = now.date()
    jobs = [("day_start", today.isoformat(), lambda: day_start(today, actor="worker")),
            # deadlines: every 5 minutes
            ("escalate", now.strftime("%Y-%m-%dT%H:") + f"{now.minute // 5 * 5:02d}",
             lambda: {"escalated": escalate_overdue(now, actor="worker")}),
            ("hotline_escalate", now.strftime("%Y-%m-%dT%H:") + f"{now.minute // 5 * 5:02d}",
             lambda: {"escalated": escalate_tickets(now, actor="worker")})]
    for name, key, fn in jobs:
        try:
            with transaction.atomic():
                run = JobRun.objects.create(name=name, key=key)
        except IntegrityError:
            continue  # another worker has it
        result = fn()
        JobRun.objects.filter(pk=run.pk).update(finished=timezone.now(), result=result)
        done.append({"job": name, "key": key, "result": result})
    return done


def run(args) -> int:
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("cordon worker: running periodic jobs (day-start tick)", flush=True)
    while not stop["now"]:
        for d in run_due_jobs():
            print(f"{d['job']} {d['key']}: {d['result']}", flush=True)
        if args.once:
            break
        slept = 0.0
        while slept < args.interval and not stop["now"]:
            time.sleep(0.5)
            slept += 0.5
    return 0

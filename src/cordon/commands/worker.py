"""``cordon worker``: runs the task queue (``core.queue``: Django's tasks framework, database backend) and puts
the named periodic jobs (``core.periodic``: the day-start tick, escalations) on it when they fall due. Uploads
from the browser are tasks of the same queue. Safe with several copies: a task is claimed once (row lock) under
a lease a heartbeat extends, and a task whose worker was killed goes back to the queue once its lease has run
out; each (job, period) row is claimed by compare-and-set with its own lease; a run whose worker was killed, or
that failed, is retried by any worker once its lease (or backoff) has run out, with a bounded number of
attempts; a finished run is never run again. A lost database connection does not stop the worker: it closes
the connection, waits (1 s, doubling up to a minute) and carries on."""
from __future__ import annotations

import os
import signal
import sys
import time

DB_BACKOFF_MAX = 60.0


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def add_arguments(p):
    p.add_argument("--interval", type=float, default=30.0, help="seconds between checks")
    p.add_argument("--once", action="store_true", help="run what is due now, then stop")
    p.add_argument("--lease", type=float, default=_env_float("CORDON_WORKER_LEASE", 120.0),
                   help="seconds a claimed run is held without a heartbeat before another worker may take it "
                        "over (default 120, or $CORDON_WORKER_LEASE)")
    p.add_argument("--max-attempts", type=int, default=int(_env_float("CORDON_WORKER_MAX_ATTEMPTS", 5)),
                   help="attempts of one job for one period before it is marked failed (default 5)")
    p.add_argument("--retry-after", type=float, default=_env_float("CORDON_WORKER_RETRY_AFTER", 60.0),
                   help="seconds before a failed run is retried; doubles per attempt, at most an hour (default 60)")


def run_due_jobs(cfg=None, stop: dict | None = None) -> list[dict]:
    """One pass: the periodic jobs due are enqueued, then the queue is run until it is empty (tasks of stopped
    workers first put back). Returns the values of the tasks run."""
    from cordon.core import periodic, queue, tasks

    cfg = cfg or periodic.Config()
    tasks.enqueue_due(cfg)
    out = [v for v in queue.drain(cfg, stop) if isinstance(v, dict)]
    now = time.monotonic()
    if now - _pruned["at"] > 3600:  # once an hour: finished tasks older than a week go
        queue.prune()
        _pruned["at"] = now
    return out


_pruned = {"at": float("-inf")}


def _report(d: dict) -> None:
    if "result" in d:  # failures and lost leases are said on stderr as they happen
        print(f"{d['job']} {d['key']}: {d['result']}", flush=True)
    elif "upload" in d:
        print(f"upload {d['upload']}: {d['status']} {d.get('counts', {})}", flush=True)


def loop(cfg, *, interval: float, once: bool, stop: dict) -> int:
    """Pass after pass until ``stop["now"]``; database errors close the connection and back off."""
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    from cordon.core.periodic import close_connection

    delay = 0.0
    while not stop["now"]:
        try:
            if not connection.in_atomic_block:
                close_old_connections()  # drops a connection past its age or found unusable
            for d in run_due_jobs(cfg, stop):
                _report(d)
            delay = 0.0
            wait = interval
        except (OperationalError, InterfaceError) as exc:
            close_connection()
            delay = min(max(1.0, delay * 2), DB_BACKOFF_MAX)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            print(f"cordon worker: database unavailable ({first}); retrying in {delay:g} s",
                  file=sys.stderr, flush=True)
            if once:
                return 1
            wait = delay
        if once:
            break
        slept = 0.0
        while slept < wait and not stop["now"]:
            step = min(0.2, wait - slept)
            time.sleep(step)
            slept += step
    return 0


def run(args) -> int:
    from cordon.core.periodic import Config

    if args.lease <= 0 or args.max_attempts < 1 or args.retry_after < 0 or args.interval <= 0:
        print("cordon worker: --lease and --interval must be positive, --max-attempts at least 1, "
              "--retry-after not negative", file=sys.stderr)
        return 2
    cfg = Config(lease=args.lease, max_attempts=args.max_attempts, retry_after=args.retry_after)
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"cordon worker: running periodic jobs (day-start tick, escalations) and the task queue as {cfg.owner}, "
          f"lease {cfg.lease:g} s", flush=True)
    return loop(cfg, interval=args.interval, once=args.once, stop=stop)

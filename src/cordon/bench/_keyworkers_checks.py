"""The pass-check part of ``cordon bench keyworkers``: one pass check p99 under 20 ms under 50 concurrent
checkpoint clients, over HTTP against the real server on PostgreSQL.

In the bench's city database it issues ``--check-passes`` passes (bulk, as a city's issuing desks would have made
them over weeks: kinds mixed, a street or a district each, a tenth revoked), creates a city-wide checkpoint officer
with an API token, starts ``cordon serve`` (``--check-workers`` workers x ``--check-threads`` threads) on a free
localhost port, then ``--check-clients`` clients (one event loop, one keep-alive connection each) each post
``POST /api/passes/check`` with a random pass's typed code at a random unit, one every ``--check-think`` seconds
on average (exponential), for ``--check-seconds``
(every check is the real action: the pass read, the holder's orders and key-worker status, the log row and its
audit row). Reports p50/p99 as the clients saw it, throughput, and the CPU per check of the server's
processes and of its database backends. ``run(args, vendor, city)`` returns (table rows, JSON figures),
keys prefixed ``check_``; a composer adds ``add_arguments``'s options."""
from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import tempfile
import time

GOAL_P99_MS = 20.0


def add_arguments(p) -> None:
    p.add_argument("--check-passes", type=int, default=20_000, help="passes issued before the checks")
    p.add_argument("--check-clients", type=int, default=50, help="concurrent checkpoint clients")
    p.add_argument("--check-seconds", type=float, default=20.0)
    p.add_argument("--check-workers", type=int, default=2)
    p.add_argument("--check-threads", type=int, default=4)
    p.add_argument("--check-think", type=float, default=1.0,
                   help="mean seconds between one client's checks (exponential; a car or rider every second at "
                        "each of the 50 checkpoints; 0 = back to back, which measures the queue, not a check)")


def _seed(n: int, seed: int) -> tuple[list[str], list[int], str]:
    """``n`` passes (codes of the ones to check), the units to check at, and the officer's API token."""
    import datetime as dt

    from cordon.core import clock
    from cordon.core.actions import do_create_token, do_create_user
    from cordon.passes.models import Pass
    from cordon.places.models import Area, Resident

    rng = random.Random(seed)
    today = clock.today()
    top = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    holders = list(Resident.objects.filter(id__in=[rng.randint(1, top) for _ in range(n)]).values(
        "id", "name", "district_id", "street_id"))
    paths = dict(Area.objects.filter(kind__in=["district", "street"]).values_list("id", "path"))
    kinds = ("delivery", "medical", "utility", "supply", "driver")
    rows = []
    for i, h in enumerate(holders):
        area = h["street_id"] if i % 3 else h["district_id"]
        p = Pass(kind=kinds[i % len(kinds)], holder_id=h["id"], holder_name=h["name"],
                 areas=[{"id": area, "path": paths[area]}], valid_from=today - dt.timedelta(days=3),
                 valid_to=today + dt.timedelta(days=11), status="revoked" if i % 10 == 9 else "active",
                 status_since=today, code=secrets.token_hex(5).upper(), revoked_seq=i + 1 if i % 10 == 9 else None,
                 issued_at=clock.now(), issued_by="bench", district_id=h["district_id"],
                 street_id=area if area == h["street_id"] else None)
        rows.append(p)
    Pass.objects.bulk_create(rows, batch_size=2000)
    units = list(Area.objects.filter(kind="unit").order_by("?").values_list("id", flat=True)[:2000])
    officer, _g = do_create_user("bench_checkpoint", "bench-pass-2022", role="checkpoint_officer", area=None,
                                 actor="bench", check_password=False)
    _t, token = do_create_token(officer, "bench", actor="bench")
    return [p.code for p in rows], units, token


def _url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


async def _client(port: int, token: str, codes, units, deadline: float, rng, out: list, statuses: dict,
                  think: float):
    """One checkpoint: a check every ``think`` seconds on average. It connects when it has a check to send (as a
    scanner does) and keeps the connection while the server does; the time counted runs from the connect, when
    there is one, to the last byte of the answer."""
    reader = writer = None
    try:
        while time.perf_counter() < deadline:
            if think > 0:
                await asyncio.sleep(rng.expovariate(1 / think))
            body = json.dumps({"code": rng.choice(codes), "area_id": rng.choice(units)}).encode()
            req = (f"POST /api/passes/check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            t = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(req)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next((int(x.split(":", 1)[1]) for x in lines if x.lower().startswith("content-length:")), 0)
            await reader.readexactly(length)
            out.append((time.perf_counter() - t) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if any(x.lower() == "connection: close" for x in lines):
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _load(port, token, codes, units, clients, seconds, seed, think):
    out: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*[_client(port, token, codes, units, deadline, random.Random(seed + i), out, statuses,
                                   think) for i in range(clients)])
    return out, statuses


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used; 0 when it is gone or unreadable (no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _cpu_snapshot(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the server's processes (its session: master and workers) and of the PostgreSQL
    backends connected to the bench's database (the server is on this machine: /proc)."""
    from django.db import connection

    server = {}
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if name.isdigit():
            try:
                if os.getsid(int(name)) == server_pid:
                    server[int(name)] = _cpu_s(int(name))
            except OSError:
                continue
    if connection.vendor != "postgresql":  # (SQLite works inside the server's processes: no backends)
        return {"server": server, "backends": {}}
    with connection.cursor() as c:
        c.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        backends = {pid: _cpu_s(pid) for (pid,) in c.fetchall()}
    connection.close()
    return {"server": server, "backends": backends}


def _cpu_ms_per(before: dict, after: dict, n: int) -> dict[str, float]:
    """CPU ms per request of each group between two snapshots (processes that appeared count from zero)."""
    return {k: round(1000 * sum(v - before[k].get(pid, 0.0) for pid, v in after[k].items()) / max(n, 1), 2)
            for k in after}


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def run(args, vendor: str, city: dict, state: dict | None = None) -> tuple[list[tuple[str, str]], dict]:
    from django.db import connections

    from cordon.bench.desk import free_port, start_server, wait_ready

    if vendor != "postgresql":
        return [("pass checks", "skipped: the goal is on PostgreSQL")], {"check_skipped": True}
    t = time.perf_counter()
    codes, units, token = _seed(args.check_passes, args.seed)
    seed_s = time.perf_counter() - t
    connections.close_all()
    port = free_port()
    log = os.path.join(tempfile.mkdtemp(prefix="cordon-bench-checks-"), "access.log")
    args.workers, args.threads = args.check_workers, args.check_threads
    proc = start_server(args, _url(), port, log)
    try:
        wait_ready(port, proc)
        asyncio.run(_load(port, token, codes, units, min(5, args.check_clients), 2.0, args.seed + 1000, 0))  # warm-up
        cpu0 = _cpu_snapshot(proc.pid)
        times, statuses = asyncio.run(_load(port, token, codes, units, args.check_clients, args.check_seconds,
                                            args.seed, args.check_think))
        cpu = _cpu_ms_per(cpu0, _cpu_snapshot(proc.pid), len(times))
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    p50, p99 = _pct(times, 0.5), _pct(times, 0.99)
    ok = statuses.get(200, 0) == len(times) and p99 < GOAL_P99_MS
    rows = [("passes issued (bulk, not timed)", f"{len(codes):,} in {seed_s:.1f} s"),
            (f"pass checks: {args.check_clients} clients x {args.check_seconds:.0f} s, a check every "
             f"{args.check_think:g} s each on average, requests (all 200)",
             f"{len(times):,} ({statuses})"),
            ("pass check p50 / p99 (ms)", f"{p50:.1f} / {p99:.1f}  (goal: p99 < {GOAL_P99_MS:.0f})"),
            ("pass checks per second", f"{len(times) / args.check_seconds:,.0f}"),
            ("CPU per check (ms): server workers / PostgreSQL backends (/proc; clock ticks of 10 ms)",
             f"{cpu['server']:.2f} / {cpu['backends']:.2f}")]
    return rows, {"check_passes": len(codes), "check_clients": args.check_clients, "check_think_s": args.check_think,
                  "check_requests": len(times),
                  "check_p50_ms": round(p50, 2), "check_p99_ms": round(p99, 2),
                  "check_per_s": round(len(times) / args.check_seconds, 1),
                  "check_server_cpu_ms": cpu["server"], "check_db_cpu_ms": cpu["backends"], "check_ok": ok}


measure = run  # the name the other benches' parts use

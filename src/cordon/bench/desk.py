"""``cordon bench desk``: the dispatcher board and the hotline ticket list under 200 concurrent users.

Builds a scratch PostgreSQL database (``bench/common.scratch_database``) with a synthetic city and a
realistic load of emergency medical requests and hotline tickets (most closed, some open, scoped across
the city), creates the users (medical dispatchers and hotline operators city-wide, community workers on
their community) with a logged-in session each, then starts ``cordon serve --workers 2`` as a subprocess on
a free localhost port with DATABASE_URL pointing at the scratch database. ``--users`` users (200, driven
by one event loop) each keep one HTTP keep-alive connection and load the pages their role may open (a
dispatcher the board /care/, an operator the ticket list /hotline/, a community worker both in turn),
with an exponential think time between page loads (``--think`` seconds on average; 0 = back to back),
for ``--seconds``, while a writer process makes ``--writes`` changes per second through the actions (new
tickets and requests, feedback, dispatches), as other staff would, so the pages keep rendering afresh.
Reports p50/p99 latency as the users saw it and throughput, next to the time the server's workers spent
on the same requests (its access log); the goal is p99 under 200 ms. Only localhost traffic; every loop
is bounded by the deadline.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cordon"


def add_arguments(p) -> None:
    p.add_argument("--database", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument("--scratch", default="cordon_bench_desk")
    p.add_argument("--population", type=int, default=50_000)
    p.add_argument("--requests", type=int, default=5_000, help="care requests seeded (10%% open)")
    p.add_argument("--tickets", type=int, default=30_000, help="hotline tickets seeded (15%% open)")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--think", type=float, default=2.0,
                   help="mean think time between a user's page loads (s): a board reloaded every ~2 s")
    p.add_argument("--writes", type=float, default=1.0,
                   help="changes per second made meanwhile by other staff (new requests and tickets, dispatches, "
                        "feedback), through the actions: each one makes the pages render afresh")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(args) -> dict:
    """Requests and tickets in bulk, scoped to random units, as the actions would leave them."""
    from django.db import transaction

    from cordon.care import triage
    from cordon.care.models import CareRequest, Hospital, Vehicle
    from cordon.core import clock
    from cordon.hotline.queries import deadlines, route
    from cordon.hotline.models import Category, Ticket
    from cordon.places.models import Area

    rng = random.Random(args.seed)
    units = list(Area.objects.filter(kind="unit").order_by("id"))
    now = clock.now()
    hosp = Hospital.objects.create(name="兰州市第一人民医院")
    vehicles = [Vehicle.objects.create(plate=f"甘A·{i:04d}") for i in range(50)]
    prios = triage.ordered()
    free, busy = list(vehicles), []
    reqs = []
    for i in range(args.requests):
        u = rng.choice(units)
        p = prios[min(len(prios) - 1, int(rng.expovariate(0.7)))]
        rec = now - dt.timedelta(minutes=rng.randint(1, 30 * 24 * 60))
        is_open = rng.random() < 0.10
        r = CareRequest(ref=f"C{i:07d}", person=f"居民{i}", area=u, need=p.key, need_text=p.zh,
                        priority=p.rank, priority_key=p.key, deadline=triage.deadline(rec, p), received_at=rec,
                        triaged_at=rec, created_by="bench", phone="13900000000")
        if is_open:
            r.status = rng.choice(["triaged", "triaged", "dispatched", "arrived", "at_hospital"])
        else:
            r.status, r.outcome = "closed", "done"
        if r.status != "triaged":
            r.dispatched_at = rec + dt.timedelta(minutes=rng.randint(3, 60))
            r.hospital, r.vehicle = hosp, rng.choice(vehicles)
            if r.status in ("dispatched", "arrived"):  # a vehicle serves one request at a time
                if not free:
                    free.append(Vehicle.objects.create(plate=f"甘A·S{len(vehicles) + len(busy):04d}"))
                r.vehicle = free.pop()
                busy.append(r.vehicle)
        if r.status in ("arrived", "at_hospital", "closed"):
            r.arrived_at = r.dispatched_at + dt.timedelta(minutes=rng.randint(5, 40))
        if r.status == "closed":
            r.at_hospital_at = r.arrived_at + dt.timedelta(minutes=20)
            r.closed_at = r.at_hospital_at + dt.timedelta(hours=1)
        r.set_scope_from(u)
        reqs.append(r)
    cats = Category.values
    tickets = []
    for i in range(args.tickets):
        u = rng.choice(units)
        cat = rng.choice(cats)
        klass, first, resolve = deadlines(cat)
        created = now - dt.timedelta(minutes=rng.randint(1, 30 * 24 * 60))
        unit_area, unit_name = route(cat, u)
        t = Ticket(number=f"H{i:09d}", source="call", caller=f"来电人{i}", phone=f"139{i:08d}", category=cat,
                   text="封控期间需要帮助", location=u.path, area=u, unit_area=unit_area, unit_name=unit_name,
                   deadline_class=klass, created_at=created, respond_by=created + first,
                   resolve_by=created + resolve, created_by="bench")
        if rng.random() < 0.15:
            t.status = rng.choice(["open", "responded", "answered"])
        else:
            t.status, t.responded_at = "closed", created + first / 2
            t.feedback, t.feedback_at, t.closed_at = "已处理", created + resolve / 2, created + resolve / 2
        t.set_scope_from(u)
        tickets.append(t)
    with transaction.atomic():
        CareRequest.objects.bulk_create(reqs, batch_size=2000)
        Ticket.objects.bulk_create(tickets, batch_size=2000)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {"requests": len(reqs), "tickets": len(tickets),
            "open_requests": sum(r.status != "closed" for r in reqs),
            "open_tickets": sum(t.status != "closed" for t in tickets)}


def sessions(n: int, seed_: int) -> list[str]:
    """``n`` users with a grant and a logged-in session each; returns (session key, the pages the user reloads)
    per user: a medical dispatcher the board, a hotline operator the ticket list, a community worker both in
    turn (each page is one its role may open)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from cordon.core.models import Grant
    from cordon.places.models import Area

    User = get_user_model()
    rng = random.Random(seed_)
    communities = list(Area.objects.filter(kind="community").order_by("id"))
    users = [User(username=f"bench{i:03d}") for i in range(n)]
    for u in users:
        u.set_unusable_password()
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="bench").order_by("id"))
    grants = []
    for i, u in enumerate(users):
        if i % 5 == 4:
            grants.append(Grant(user=u, role="community_worker", area=rng.choice(communities)))
        else:
            grants.append(Grant(user=u, role="medical_dispatcher" if i % 2 else "hotline_operator", area=None))
    Grant.objects.bulk_create(grants)
    keys = []
    backend = settings.AUTHENTICATION_BACKENDS[-1]
    pages = {"medical_dispatcher": ("/care/",), "hotline_operator": ("/hotline/",),
             "community_worker": ("/care/", "/hotline/")}
    for u, g in zip(users, grants):
        s = SessionStore()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY], s[HASH_SESSION_KEY] = str(u.pk), backend, u.get_session_auth_hash()
        s.create()
        keys.append((s.session_key, pages[g.role]))
    return keys


def start_server(args, db_url: str, port: int, access_log: str) -> subprocess.Popen:
    """``cordon serve`` on ``port``, its access log (with each request's time in the worker) in ``access_log``."""
    env = dict(os.environ, DATABASE_URL=db_url, CORDON_ALLOWED_HOSTS="127.0.0.1,localhost",
               CORDON_ACCESS_LOG=access_log)
    cmd = [sys.executable, "-m", "cordon", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(args.workers), "--threads", str(args.threads)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def server_times(access_log: str, start: int) -> dict[str, list[float]]:
    """The worker's time per request (ms, from ``serve.ACCESS_LOG_FORMAT``'s last field) by path, for the
    GET requests logged after byte ``start`` of the access log."""
    out: dict[str, list[float]] = {}
    with open(access_log, "rb") as fh:
        fh.seek(start)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            head, _, rest = line.partition('"GET ')
            if not rest:
                continue
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            try:
                out.setdefault(path, []).append(int(line.rsplit(" ", 1)[1]) / 1000)
            except (IndexError, ValueError):
                continue
    for xs in out.values():
        xs.sort()
    return out


def wait_ready(port: int, proc, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read() or b"").decode()[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/login/")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not become ready")


class _Closed(Exception):
    """The server closed a kept-alive connection (while the user was thinking) or answered unreadably."""


async def _get(reader, writer, request: bytes) -> tuple[int, bytes, bool]:
    """Send one GET on a kept-alive connection; (status, body, whether the server closes the connection)."""
    writer.write(request)
    await writer.drain()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise _Closed from exc
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, body, headers.get("connection", "").lower() == "close"


def load(port: int, keys: list[tuple[str, tuple[str, ...]]], seconds: float, think: float, seed_: int) -> dict:
    """``len(keys)`` users, each on one keep-alive connection as a browser keeps it, loading their pages in turn
    with an exponential think time between loads, for ``seconds``. One event loop drives them all (200 users
    as 200 Python threads spent the client's CPU on switching between them and delayed the timing of a
    response that had arrived while another thread held the interpreter)."""
    return asyncio.run(_load(port, keys, seconds, think, seed_))


async def _load(port, keys, seconds, think, seed_) -> dict:
    paths = sorted({p for _, ps in keys for p in ps})
    results: list[tuple[float, str]] = []
    kinds: dict[str, int] = {}
    errors = [0]
    t0 = time.monotonic()
    stop_at = t0 + seconds

    async def user(i: int) -> None:
        rng = random.Random(seed_ * 1000 + i)
        cookie = f"sessionid={keys[i][0]}; django_language=zh-hans"
        mine = keys[i][1]
        k = i % 2
        conn = None
        await asyncio.sleep(rng.random() * max(think, 0.05))  # users do not all arrive in the same millisecond
        while time.monotonic() < stop_at:
            path = mine[k % len(mine)]
            k += 1
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                       "Accept: text/html\r\n\r\n").encode("ascii")
            t = time.perf_counter()
            for attempt in (0, 1):
                try:
                    if conn is None:
                        conn = await asyncio.open_connection("127.0.0.1", port)
                    status, body, close = await asyncio.wait_for(_get(*conn, request), 30)
                except (OSError, _Closed, ValueError, IndexError, asyncio.TimeoutError) as exc:
                    # A keep-alive connection the server closed while the user was thinking: reconnect and
                    # send again once, as a browser does (the time counts).
                    if conn is not None:
                        conn[1].close()
                    conn = None
                    if attempt == 1:
                        kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                        errors[0] += 1
                    continue
                ms = (time.perf_counter() - t) * 1000
                if status != 200 or len(body) < 500:
                    kinds[f"HTTP {status}"] = kinds.get(f"HTTP {status}", 0) + 1
                    errors[0] += 1
                else:
                    results.append((ms, path))
                if close:
                    conn[1].close()
                    conn = None
                break
            if think > 0:
                await asyncio.sleep(min(rng.expovariate(1 / think), think * 5, max(0.0, stop_at - time.monotonic())))
        if conn is not None:
            conn[1].close()

    await asyncio.wait_for(asyncio.gather(*(user(i) for i in range(len(keys)))), seconds + 60)
    elapsed = time.monotonic() - t0
    lat = sorted(ms for ms, _ in results)
    by_path = {p: sorted(ms for ms, q in results if q == p) for p in paths}
    return {"latencies": lat, "by_path": by_path, "errors": errors[0], "error_kinds": kinds, "elapsed": elapsed}


def writer(rate: float, stop_at: list[float], seed_: int, done: list[int]) -> None:
    """Other staff at work: ``rate`` changes per second through the actions (a new ticket, a new request,
    feedback on a ticket, a dispatch), each in its own transaction, until the deadline."""
    from django.db import connection

    from cordon.care.models import Hospital, Vehicle
    from cordon.places.models import Area

    rng = random.Random(seed_)
    units = list(Area.objects.filter(kind="unit").order_by("?")[:500])
    hosp, vans = Hospital.objects.first(), list(Vehicle.objects.all()[:50])
    try:
        while time.monotonic() < stop_at[0]:
            try:
                _change(done[0] % 4, rng.choice(units), rng, hosp, vans)
            except Exception as exc:  # noqa: BLE001 - reported; the load goes on
                print(f"writer: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                done[1] += 1
            done[0] += 1
            time.sleep(min(rng.expovariate(rate), max(0.0, stop_at[0] - time.monotonic())))
    finally:
        connection.close()


def _writer_main(rate: float, stop_at: float, seed_: int, shared) -> None:
    done = [0, 0]
    try:
        writer(rate, [stop_at], seed_, done)
    finally:
        shared[0], shared[1] = done


def _change(kind: int, unit, rng, hosp, vans) -> None:
    from cordon.care import actions as ca
    from cordon.care.models import OPEN_STATUSES, CareRequest
    from cordon.hotline import actions as ha
    from cordon.hotline.models import Ticket

    if kind == 0:
        ha.do_create_ticket(phone=f"138{rng.randrange(10 ** 8):08d}", category="supplies", text="需要米面",
                            area=unit, actor="bench-writer")
    elif kind == 1:
        ca.do_create_request(person="居民", area=unit, need="elderly", actor="bench-writer")
    elif kind == 2:
        t = Ticket.objects.filter(status="open").order_by("?").first()
        if t is not None:
            ha.do_record_feedback(t, feedback="已处理", actor="bench-writer")
    else:
        r = CareRequest.objects.filter(status="triaged").order_by("?").first()
        busy = set(CareRequest.objects.filter(status__in=OPEN_STATUSES, vehicle__isnull=False)
                   .values_list("vehicle_id", flat=True))
        free = [v for v in vans if v.pk not in busy] or [ca.do_add_vehicle(f"甘A·B{rng.randrange(10 ** 5):05d}",
                                                                          actor="bench-writer")]
        if r is not None:
            ca.do_dispatch_request(r, vehicle=rng.choice(free), hospital=hosp, actor="bench-writer")


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def run(args) -> int:
    from cordon.bench.common import emit, peak_rss_mb, scratch_database
    from cordon.places.bulk import load_city

    if not args.database.startswith(("postgres://", "postgresql://")):
        print("cordon bench desk runs against PostgreSQL: give --database postgres://...", file=sys.stderr)
        return 2
    t_all = time.perf_counter()
    with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, where, _):
        print(f"desk bench: {vendor} {where}; city of {args.population:,}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        load_city(args.population, args.seed, progress=False)
        seeded = seed(args)
        keys = sessions(args.users, args.seed)
        seed_s = time.perf_counter() - t
        from django.db import connections

        connections.close_all()
        base = args.database.rsplit("/", 1)[0]
        port = free_port()
        logdir = tempfile.mkdtemp(prefix="cordon-desk-")
        access_log = os.path.join(logdir, "access.log")
        proc = start_server(args, f"{base}/{args.scratch}", port, access_log)
        try:
            wait_ready(port, proc)
            # warm-up: every worker process and its connections
            warm = load(port, keys[:16], 2.0, 0.0, args.seed + 7)
            time.sleep(0.2)  # the warm-up's last log lines
            log_start = os.path.getsize(access_log)
            # Other staff work from their own machines: the writer is a process of its own, so its Django work
            # does not hold up the users' event loop.
            ctx = multiprocessing.get_context("fork")
            shared = ctx.Array("i", 2)
            w = None
            if args.writes > 0:
                w = ctx.Process(target=_writer_main, args=(args.writes, time.monotonic() + args.seconds, args.seed,
                                                           shared), daemon=True)
                w.start()
            out = load(port, keys, args.seconds, args.think, args.seed)
            if w is not None:
                w.join(timeout=30)
            done = list(shared)
        finally:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        served = server_times(access_log, log_start)
        shutil.rmtree(logdir, ignore_errors=True)
    lat = out["latencies"]
    n = len(lat)
    rps = n / out["elapsed"] if out["elapsed"] else 0.0
    p50, p99 = pct(lat, 50), pct(lat, 99)
    rows = [
        ("database", f"{vendor} (scratch {args.scratch})"),
        ("seeded", f"{args.population:,} residents; {seeded['requests']:,} care requests ({seeded['open_requests']:,} open), "
                   f"{seeded['tickets']:,} tickets ({seeded['open_tickets']:,} open); {args.users} users; {seed_s:.0f} s"),
        ("server", f"cordon serve --workers {args.workers} (gthread x {args.threads}) on 127.0.0.1:{port}"),
        ("load", f"{args.users} concurrent users for {args.seconds:.0f} s, think time {args.think:g} s "
                 f"(warm-up {len(warm['latencies'])} requests)"),
        ("changes meanwhile", f"{done[0] - done[1]:,} by other staff through the actions (~{args.writes:g}/s), "
                              f"{done[1]} failed"),
        ("requests", f"{n:,} ok, {out['errors']} errors {out['error_kinds'] or ''}"),
        ("throughput", f"{rps:.1f} rps"),
        ("latency p50 / p90 / p99 / max", f"{p50:.1f} / {pct(lat, 90):.1f} / {p99:.1f} / {lat[-1] if lat else 0:.1f} ms"),
    ]
    for path, xs in out["by_path"].items():
        rows.append((f"  {path}", f"{len(xs):,} requests, p50 {pct(xs, 50):.1f} ms, p99 {pct(xs, 99):.1f} ms"))
    # The same requests as the server's workers timed them (access log): the rest of a user's wait is the
    # connection's queue, the network stack and the load generator's own scheduling.
    paths = list(out["by_path"])
    srv = sorted(ms for p in paths for ms in served.get(p, []))
    rows.append(("in the server p50 / p99", f"{pct(srv, 50):.1f} / {pct(srv, 99):.1f} ms ({len(srv):,} requests logged)"))
    for path in paths:
        xs = served.get(path, [])
        rows.append((f"  {path}", f"p50 {pct(xs, 50):.1f} ms, p99 {pct(xs, 99):.1f} ms"))
    rows.append(("goal p99 < 200 ms", "met" if p99 < 200 else "NOT met"))
    emit("desk", rows, {"seconds": round(time.perf_counter() - t_all, 1), "peak_rss_mb": peak_rss_mb(),
                        "database": vendor, "users": args.users, "duration_s": args.seconds, "think_s": args.think, "writes": done[0] - done[1], "write_errors": done[1],
                        "requests": n, "errors": out["errors"], "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                        "rps": round(rps, 1), "server_p50_ms": round(pct(srv, 50), 1),
                        "server_p99_ms": round(pct(srv, 99), 1), "goal_p99_ms": 200, "goal_met": p99 < 200})
    return 0

"""``cordon bench phone [--population N] [--changes C] [--workers W]``: the phone app's server side (issue 20).

Builds the synthetic city in a scratch database, takes its most populous community (~7 000 residents at the
default size) with a community worker over it, an open screening round and planned deliveries to the households
of a few sealed buildings, then measures

1. the slice of that worker (``phone.queries.build_slice``, JSON and gzip, as ``GET /api/phone/slice`` answers):
   seconds (best of 3) and size compressed (goals: < 2 s, < 2 MB);
2. one sync of ``--changes`` queued changes (tubes of 1 to 3 residents not yet registered, delivery confirmations)
   through ``phone.actions.do_sync``, then the same batch again (idempotent: nothing new written)
   (goal: < 5 s for 1 000);
3. ``--workers`` field workers syncing at once over HTTP: ``cordon serve`` on a free localhost port, each worker a
   thread with its own account, bearer token and device, sending ``--rounds`` small batches (``--batch`` changes:
   check-ins of home orders) at the same moments; latency p50 / p99 and requests per second (goal on PostgreSQL:
   p99 < 1 s).

The last line is the JSON figures (``seconds``: the measured time of the three steps).
"""
from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import math
import tempfile
import threading
import time
import uuid
from pathlib import Path

from cordon.bench._keyworkers_checks import _cpu_ms_per, _cpu_snapshot
from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, served, timed


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_phone", population=400_000)
    p.add_argument("--changes", type=int, default=1_000, help="changes in the one big sync")
    p.add_argument("--workers", type=int, default=200, help="field workers syncing at once")
    p.add_argument("--rounds", type=int, default=3, help="batches each worker sends")
    p.add_argument("--batch", type=int, default=5, help="changes per worker batch")
    p.add_argument("--buildings", type=int, default=6, help="sealed buildings whose households get deliveries")
    p.add_argument("--server-workers", type=int, default=2)
    p.add_argument("--spread", type=float, default=0.0,
                   help="seconds over which each round's batches start (0: all at the same instant)")


def _pct(values: list[float], q: float):
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))], 2)


def _setup(args) -> dict:
    """The community, its worker, an open round and planned deliveries (through the actions; not timed)."""
    from cordon.core.actions import do_create_user
    from cordon.places.models import Area
    from cordon.screening.actions import do_create_round
    from cordon.supplies import actions as sa
    from cordon.zones.actions import do_designate

    from cordon.core import clock

    comm = Area.objects.filter(kind="community").order_by("-population", "id").first()
    worker, _ = do_create_user("bench_worker", "bench-pass-2022-x", role="community_worker", area=comm,
                               actor="bench", check_password=False)
    rnd = do_create_round(name="bench round", on=clock.today(), areas=[comm], actor="bench")
    w = sa.do_create_warehouse("bench warehouse", area=Area.objects.get(pk=comm.district_id), actor="bench")
    item = sa.do_create_item("bench box", kind="vegetables", per_person_per_day="1", baseline_price="10",
                             actor="bench")
    sa.do_move_stock(w, item, direction="in", quantity=10_000_000, reason="bench", actor="bench")
    deliveries = []
    for b in Area.objects.filter(kind="building", community_id=comm.pk).order_by("-population", "id")[:args.buildings]:
        d = do_designate(b, "high", reason="bench", exposure_note="bench", actor="bench")
        deliveries += sa.do_issue_allocation(sa.do_allocate(d, warehouse=w, item=item, days=1, actor="bench"),
                                             actor="bench")
    return {"community": comm, "worker": worker, "round": rnd, "deliveries": [o.pk for o in deliveries]}


def _big_batch(s: dict, n: int, slice_: dict) -> list[dict]:
    """``n`` changes: every planned delivery confirmed (up to a third of them), the rest tubes of 1 to 3
    residents of the slice, each resident once."""
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)
    people = [p["id"] for b in slice_["buildings"] for u in b["units"] for h in u["households"] for p in h["residents"]]
    changes = [{"id": str(uuid.uuid4()), "kind": "delivery", "at": now.isoformat(),
                "data": {"order": o, "delivered": True}} for o in s["deliveries"][: n // 3]]
    i = 0
    while len(changes) < n and i < len(people):
        k = 1 + len(changes) % 3
        changes.append({"id": str(uuid.uuid4()), "kind": "tube", "at": now.isoformat(),
                        "data": {"round": s["round"].pk, "barcode": f"PH{len(changes):08d}",
                                 "residents": people[i:i + k]}})
        i += k
    return changes


def _counts() -> dict:
    from cordon.core.models import AuditEntry
    from cordon.phone.models import Change
    from cordon.screening.models import Sample

    return {"samples": Sample.objects.count(), "changes": Change.objects.count(),
            "audit": AuditEntry.objects.exclude(action="phone.sync").count()}


def _many_workers(args, s: dict) -> list[dict]:
    """``--workers`` accounts over the community, each with a token, a device and a home order to check in."""
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock
    from cordon.places.models import Area, Resident

    out = []
    today = clock.today()
    comm = s["community"]
    first_unit = Area.objects.filter(kind="unit", community_id=comm.pk).order_by("id").first()
    inf = do_record_infection(label="BENCH-P1", home=first_unit, found="community", confirmed_on=today, actor="bench")
    residents = list(Resident.objects.filter(community_id=s["community"].pk).order_by("-id")
                     .values_list("pk", "unit_id")[: args.workers])
    from django.test.utils import override_settings

    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])  # bench accounts
    fast.enable()
    try:
        return _accounts(args, s, inf, residents, today, out)
    finally:
        fast.disable()


def _accounts(args, s, inf, residents, today, out) -> list[dict]:
    from cordon.cases.actions import do_register_contact
    from cordon.core.actions import do_create_token, do_create_user
    from cordon.phone.actions import do_register_device
    from cordon.phone.queries import scope_hash
    from cordon.places.models import Area, Resident

    for n in range(args.workers):
        u, _ = do_create_user(f"bench_field_{n}", "bench-pass-2022-x", role="community_worker", area=s["community"],
                              actor="bench", check_password=False)
        _t, secret = do_create_token(u, "bench", actor=u)
        d = do_register_device(u, f"phone {n}", actor=u)
        rid, unit = residents[n % len(residents)]
        order = do_register_contact(inf, label=f"B-{n}", last_exposure=today - dt.timedelta(days=1),
                                    identified_on=today, home=Area.objects.get(pk=unit),
                                    resident=Resident.objects.get(pk=rid), actor="bench")
        out.append({"token": secret, "device": str(d.pk), "scope": scope_hash(u), "order": order.pk})
    return out


def _at_once(port: int, fields: list[dict], rounds: int, batch: int, spread: float = 0.0) -> dict:
    """Every worker's thread sends a batch at the same moment (or at a random moment within ``spread`` seconds of
    it), ``rounds`` times (a barrier between rounds)."""
    import random

    lat: list[float] = []
    errors: list[int] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    gate = threading.Barrier(len(fields))

    def one(f):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _r in range(rounds):
            now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
            body = json.dumps({"device": f["device"], "batch": str(uuid.uuid4()), "scope_hash": f["scope"],
                               "changes": [{"id": str(uuid.uuid4()), "kind": "checkin", "at": now.isoformat(),
                                            "data": {"order": f["order"], "temperature": 36.5, "symptoms": ""}}
                                           for _ in range(batch)]})
            gate.wait()
            if spread:
                time.sleep(random.uniform(0, spread))
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/phone/sync", body=body, headers={
                    "Authorization": f"Bearer {f['token']}", "Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok, data = False, b""
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if ok:
                    lat.append(ms)
                    for x in json.loads(data)["results"]:
                        statuses[x["status"]] = statuses.get(x["status"], 0) + 1
                else:
                    errors.append(1)
        conn.close()

    threads = [threading.Thread(target=one, args=(f,)) for f in fields]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    return {"requests": len(lat), "errors": len(errors), "p50_ms": _pct(lat, 50), "p99_ms": _pct(lat, 99),
            "max_ms": round(max(lat), 1) if lat else None, "rps": round(len(lat) / took, 1) if took else None,
            "seconds": round(took, 2), "statuses": statuses}


def _server_ms(log: Path) -> dict:
    """The workers' own time per sync request (the access log's last field, ``serve.ACCESS_LOG_FORMAT``): what a
    request costs the server, apart from its wait in the queue."""
    ms = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if '"POST /api/phone/sync ' in line:
            try:
                ms.append(int(line.rsplit(" ", 1)[1]) / 1000)
            except (IndexError, ValueError):
                continue
    return {"server_p50_ms": _pct(ms, 50), "server_p99_ms": _pct(ms, 99)}


def run(args) -> int:
    from cordon.phone import actions, queries
    from cordon.phone.models import Device

    with city_database(args, "phone bench") as (vendor, _city, city_s):
        s, setup_s = timed(_setup, args)
        worker = s["worker"]
        device = Device.objects.create(user=worker, name="bench", key="x" * 43, created=dt.datetime.now(dt.timezone.utc),
                                       expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=12))
        slice_s = []
        for _ in range(3):
            (body, gz), took = timed(lambda: _slice_bytes(queries.build_slice(worker)))
            slice_s.append(took)
        data = json.loads(body)
        counts = queries.slice_counts(data)
        batch = _big_batch(s, args.changes, data)
        before = _counts()
        results, sync_s = timed(actions.do_sync, device, batch=uuid.uuid4(), changes=batch, actor=worker)
        after = _counts()
        again, resend_s = timed(actions.do_sync, device, batch=uuid.uuid4(), changes=batch, actor=worker)
        idempotent = _counts() == after and again == results
        by_status: dict[str, int] = {}
        for r in results:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        fields, fields_s = timed(_many_workers, args, s)
        home = Path(tempfile.mkdtemp(prefix="cordon-bench-phone-"))
        log = home / "access.log"
        try:
            started: dict = {}
            with served({"CORDON_HOME": str(home), "CORDON_ACCESS_LOG": str(log)}, args.server_workers,
                        "/api/openapi.json", started) as port:
                server0 = _cpu_snapshot(started["pid"])
                cpu0 = time.process_time()
                crowd = _at_once(port, fields, args.rounds, args.batch, args.spread)
                crowd["client_cpu_ms"] = round((time.process_time() - cpu0) * 1000 / max(1, crowd["requests"]), 2)
                crowd.update({f"{k}_cpu_ms": v for k, v in
                              _cpu_ms_per(server0, _cpu_snapshot(started["pid"]), crowd["requests"]).items()})
            crowd.update(_server_ms(log))
        finally:
            import shutil

            shutil.rmtree(home, ignore_errors=True)
    best = min(slice_s)
    rows = [
        ("database", vendor),
        ("city", f"{args.population:,} residents (built in {city_s:.0f} s, set-up {setup_s + fields_s:.0f} s; not "
                 "counted)"),
        ("community", f"{s['community'].path}: {counts['residents']:,} residents, {counts['buildings']:,} buildings, "
                      f"{counts['deliveries']:,} planned deliveries"),
        ("slice", f"best of 3 {best:.3f} s (goal < 2 s); {len(body) / 1e6:.2f} MB JSON, {len(gz) / 1e6:.3f} MB gzip "
                  "(goal < 2 MB)"),
        ("sync", f"{len(batch):,} changes in {sync_s:.2f} s (goal < 5 s): "
                 + ", ".join(f"{n} {k}" for k, n in sorted(by_status.items()))
                 + f"; +{after['samples'] - before['samples']:,} tubes"),
        ("same batch again", f"{resend_s:.2f} s, nothing written: {idempotent}"),
        ("workers at once", f"{len(fields)} workers x {args.rounds} batches of {args.batch} check-ins over HTTP "
                            f"started within {args.spread:g} s (cordon serve --workers {args.server_workers}): p50 {crowd['p50_ms']} ms, p99 {crowd['p99_ms']} ms, "
                            f"max {crowd['max_ms']} ms, {crowd['rps']} req/s, {crowd['errors']} errors"),
        ("per sync request", f"in the server's worker p50 {crowd['server_p50_ms']} ms, p99 {crowd['server_p99_ms']} "
                             f"ms (the rest of the latency is the queue); the bench's client threads "
                             f"{crowd['client_cpu_ms']} ms of CPU (same machine)"),
        ("CPU per sync request", f"server processes {crowd['server_cpu_ms']} ms, PostgreSQL backends "
                                 f"{crowd['backends_cpu_ms']} ms (/proc; clock ticks of 10 ms)"),
        ("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"),
    ]
    figures = {"seconds": round(best + sync_s + resend_s + crowd["seconds"], 2), "peak_rss_mb": peak_rss_mb(),
               "p50_ms": crowd["p50_ms"], "p99_ms": crowd["p99_ms"], "rps": crowd["rps"], "database": vendor,
               "population": args.population, "residents": counts["residents"], "slice_s": round(best, 3),
               "slice_mb": round(len(body) / 1e6, 3), "slice_gzip_mb": round(len(gz) / 1e6, 3),
               "sync_changes": len(batch), "sync_s": round(sync_s, 3), "resend_s": round(resend_s, 3),
               "sync_results": by_status, "idempotent_ok": idempotent, "workers": len(fields),
               "crowd_errors": crowd["errors"], "server_p50_ms": crowd["server_p50_ms"],
               "server_p99_ms": crowd["server_p99_ms"], "client_cpu_ms": crowd["client_cpu_ms"],
               "server_cpu_ms": crowd["server_cpu_ms"], "db_cpu_ms": crowd["backends_cpu_ms"], "spread_s": args.spread, "crowd_results": crowd["statuses"],
               "slice_ok": best < 2 and len(gz) < 2e6, "sync_ok": sync_s < 5 * len(batch) / 1000 if batch else True}
    emit("phone", rows, figures)
    return 0 if idempotent and figures["slice_ok"] else 1


def _slice_bytes(data: dict) -> tuple[bytes, bytes]:
    from django.core.serializers.json import DjangoJSONEncoder

    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode("utf-8")
    return body, gzip.compress(body, compresslevel=6)

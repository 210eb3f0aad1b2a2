"""``cordon bench orders``: one command order to every community of the city, then the sender's status matrix
under load while the units acknowledge.

Builds a scratch PostgreSQL database with the synthetic city (``--population``, 4.4 M by default), one
community worker per community (each is told of the order: a notification and its SMS delivery) and a
city-wide commander. Times ``do_send_order`` to ``*`` fanned out to every community (the recipients, the
notifications and their deliveries inserted in bulk, the audit row, the commit): the goal is under 1 s. Then
starts ``cordon serve`` (gunicorn, ``--workers`` x ``--threads``) and has ``--users`` senders reload the
order's page (``/orders/ID/``: the counts and the first 100 rows) and its matrix API
(``/api/commands/ID/matrix``) for ``--seconds`` with ``--think`` s between loads, while a process of its own
acknowledges ``--rate`` recipients per second through the action: p50/p99 as the senders saw them (goal: p99
under 200 ms) and the acknowledgements made. Only localhost traffic.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time

from cordon.bench import desk


def add_arguments(p) -> None:
    p.add_argument("--database", default=os.environ.get("DATABASE_URL") or desk.DEFAULT_DB)
    p.add_argument("--scratch", default="cordon_bench_orders")
    p.add_argument("--population", type=int, default=4_400_000)
    p.add_argument("--users", type=int, default=20, help="senders reloading the matrix")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--think", type=float, default=1.0, help="mean time between a sender's reloads (s)")
    p.add_argument("--rate", type=float, default=50.0, help="acknowledgements per second meanwhile")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true")


def staff() -> tuple[object, int]:
    """A city-wide commander and one community worker per community (bulk); returns (commander, workers)."""
    from django.contrib.auth import get_user_model

    from cordon.core.models import Grant
    from cordon.places.models import Area

    User = get_user_model()
    communities = list(Area.objects.filter(kind="community").values_list("id", flat=True))
    users = [User(username=f"cw{c}") for c in communities] + [User(username="bench-commander")]
    for u in users:
        u.set_unusable_password()
    User.objects.bulk_create(users, batch_size=5000)
    ids = dict(User.objects.filter(username__startswith="cw").values_list("username", "id"))
    Grant.objects.bulk_create([Grant(user_id=ids[f"cw{c}"], role="community_worker", area_id=c)
                               for c in communities], batch_size=5000)
    commander = User.objects.get(username="bench-commander")
    Grant.objects.create(user=commander, role="commander", area=None)
    return commander, len(communities)


def session_of(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[-1]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def fan_out(commander):
    """The timed send: an order to every community of the city."""
    import datetime as dt

    from cordon.command.actions import do_send_order
    from cordon.core import clock

    return do_send_order(title="全市社区全员核酸", text="今日 18:00 前完成本社区全员核酸采样并报告人数",
                         due=clock.now() + dt.timedelta(hours=8), to=["*"], level="community", priority="urgent",
                         basis="市指挥部决定", actor=commander, reason="bench")


def _acknowledger(order_id: int, rate: float, stop_at: float, shared) -> None:
    """Units acknowledging at ``rate`` a second (each through the action, in its own transaction)."""
    from django.db import connection

    from cordon.command.actions import do_acknowledge_order
    from cordon.command.models import Recipient

    done = errors = 0
    pending = list(Recipient.objects.filter(order_id=order_id, status="sent").order_by("?").values_list("pk", flat=True))
    t0 = time.monotonic()
    try:
        for pk in pending:
            now = time.monotonic()
            if now >= stop_at:
                break
            wait = t0 + done / rate - now
            if wait > 0:
                time.sleep(wait)
            try:
                do_acknowledge_order(Recipient.objects.select_related("order").get(pk=pk), actor="bench-unit")
            except Exception as exc:  # noqa: BLE001 - counted; the load goes on
                errors += 1
                print(f"acknowledger: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            done += 1
    finally:
        shared[0], shared[1] = done, errors
        shared[2] = int((time.monotonic() - t0) * 1000)
        connection.close()


def run(args) -> int:
    from django.db import connections

    from cordon.bench.common import emit, peak_rss_mb, reset_peak, scratch_database, timed
    from cordon.command.models import Recipient
    from cordon.core.models import Delivery, Notification
    from cordon.places.bulk import load_city

    if not args.database.startswith(("postgres://", "postgresql://")):
        print("cordon bench orders runs against PostgreSQL: give --database postgres://...", file=sys.stderr)
        return 2
    with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, where, _):
        print(f"orders bench: {vendor} {where}; city of {args.population:,}", file=sys.stderr, flush=True)
        load_city(args.population, args.seed, progress=False)
        commander, n_units = staff()
        from django.db import connection

        with connection.cursor() as c:
            c.execute("ANALYZE")
        reset_peak()
        order, fan_s = timed(fan_out, commander)
        fan_rss = peak_rss_mb(children=False)
        recipients = Recipient.objects.filter(order=order).count()
        notices = Notification.objects.filter(object_id=str(order.pk), kind="order").count()
        deliveries = Delivery.objects.filter(notification__object_id=str(order.pk)).count()
        key = session_of(commander)
        connections.close_all()
        base = args.database.rsplit("/", 1)[0]
        port = desk.free_port()
        access_log = os.path.join(tempfile.mkdtemp(prefix="cordon-orders-"), "access.log")
        proc = desk.start_server(args, f"{base}/{args.scratch}", port, access_log)
        try:
            desk.wait_ready(port, proc)
            paths = (f"/orders/{order.pk}/", f"/api/commands/{order.pk}/matrix?page_size=100")
            keys = [(key, paths if i % 2 == 0 else paths[::-1]) for i in range(args.users)]
            desk.load(port, keys[:4], 2.0, 0.0, args.seed + 7)  # warm-up
            ctx = multiprocessing.get_context("fork")
            shared = ctx.Array("i", 3)
            ack = ctx.Process(target=_acknowledger, args=(order.pk, args.rate, time.monotonic() + args.seconds,
                                                          shared), daemon=True)
            ack.start()
            out = desk.load(port, keys, args.seconds, args.think, args.seed)
            ack.join(timeout=60)
            acked, ack_errors, ack_ms = list(shared)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:  # noqa: BLE001
                proc.kill()
        lat = out["latencies"]
        p50, p99 = desk.pct(lat, 50), desk.pct(lat, 99)
        rps = len(lat) / out["elapsed"] if out["elapsed"] else 0.0
        ack_rate = acked / (ack_ms / 1000) if ack_ms else 0.0
        rows = [("city population", f"{args.population:,}"), ("communities (recipients)", recipients),
                ("notifications / SMS deliveries stored", f"{notices} / {deliveries}"),
                ("fan-out to every community (s, goal < 1)", f"{fan_s:.3f}"),
                ("senders reloading the matrix", args.users), ("matrix loads", len(lat)),
                ("matrix p50 (ms)", f"{p50:.1f}"), ("matrix p99 (ms, goal < 200)", f"{p99:.1f}"),
                ("matrix page p99 (ms)", f"{desk.pct(out['by_path'].get(paths[0], []), 99):.1f}"),
                ("matrix API p99 (ms)", f"{desk.pct(out['by_path'].get(paths[1], []), 99):.1f}"),
                ("acknowledgements (per s)", f"{acked} ({ack_rate:.1f}/s), {ack_errors} refused"),
                ("load errors", f"{out['errors']} {out['error_kinds'] or ''}")]
        emit("orders", rows, {"seconds": round(fan_s, 3), "fan_out_s": round(fan_s, 3), "recipients": recipients,
                              "notifications": notices, "deliveries": deliveries, "units": n_units,
                              "peak_rss_mb": fan_rss, "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                              "rps": round(rps, 1), "acknowledged": acked, "ack_per_s": round(ack_rate, 1),
                              "errors": out["errors"]})
    return 0

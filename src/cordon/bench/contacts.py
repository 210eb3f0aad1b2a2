"""``cordon bench contacts [--population N] [--infections I] [--contacts C]``: people under orders at city
scale.

Builds the synthetic city in a scratch database (``bench/common.scratch_database``), then bulk-inserts
``I`` infections over the four weeks before the bench day and ``C`` orders of their contacts (close contacts
and contacts of contacts living near each infection, dates from ``policy.persons.compute_order``, about
a quarter of them ending on the bench day; orders that ended earlier are already released; all of them written in
the order of the day they were identified, as a city writes them), with facility
placements for most people under an order. Then it measures, as a logged-in community worker of the busiest
community, the contact-list page (``/cases/contacts/``) and the API list page (``/api/orders``) over
``--requests`` requests each (p50/p99), and the day-start release ``cases.actions.do_release_due`` of the bench
day (``seconds``: the beds of people whose centralized days ended the day before given back, then the orders
ending on the day released; beds of people already in their home days were given back on earlier days), and
checks its result: every released order has its audit row, and the beds given back are the placements
discharged (those at the end of centralized days with their own audit rows). On PostgreSQL the release runs in
``--parts`` block ranges at once (``cases.daystart``; the setting's number by default, ``--parts 1`` for one
connection). The last line is the JSON figures.
"""
from __future__ import annotations

import datetime as dt
import random
import sys
import time
from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, timed

DAY = dt.date(2022, 11, 20)


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_contacts")
    p.add_argument("--infections", type=int, default=50_000)
    p.add_argument("--contacts", type=int, default=500_000)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--parts", type=int, default=None,
                   help="PostgreSQL: connections releasing block ranges at once (default: CORDON_DAY_START_PARTS, "
                        "used on a day with 20 000 or more orders due; 1: one connection)")
    p.add_argument("--share", type=float, default=0.25,
                   help="share of infections confirmed ten days before the bench day (their contacts end on it)")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def seed(n_inf: int, n_contacts: int, seed_: int, share: float = 0.25) -> dict:
    """Bulk-insert infections, orders and placements (what the actions would have left on the bench day)."""
    from django.db import transaction

    from cordon.cases.models import Facility, Infection, OrderStatus, PersonOrder, Placement
    from cordon.core.models import LEVELS
    from cordon.places.models import Area
    from cordon.policy import persons
    from cordon.core.packs import active_pack

    rng = random.Random(seed_)
    pack = active_pack(DAY)
    units = list(Area.objects.filter(kind="unit").order_by("id").values_list("id", *[f"{lv}_id" for lv in LEVELS]))
    by_community: dict[int, list] = {}
    for u in units:
        by_community.setdefault(u[3], []).append(u)
    communities = list(by_community)
    # Outbreaks cluster: a tenth of the communities take most infections.
    hot = rng.sample(communities, max(1, len(communities) // 10))
    scope = lambda u: dict(zip([f"{lv}_id" for lv in LEVELS], u[1:]))  # noqa: E731
    now = dt.datetime.combine(DAY, dt.time(8), tzinfo=dt.timezone.utc)

    drawn = []
    for _i in range(n_inf):
        community = rng.choice(hot) if rng.random() < 0.7 else rng.choice(communities)
        u = rng.choice(by_community[community])
        confirmed = DAY - dt.timedelta(days=10) if rng.random() < share else DAY - dt.timedelta(days=rng.randint(0, 27))
        drawn.append((confirmed, u))
    # Written day by day, as a city records them: infections, and the orders of their contacts after them, in
    # the order of the day they were confirmed (the rows of one day's orders lie together, as in production).
    drawn.sort(key=lambda d: d[0])
    infections = [Infection(label=f"B{i + 1}", home_id=u[0], found="community", kind="confirmed",
                            confirmed_on=confirmed, reported_at=now, **scope(u))
                  for i, (confirmed, u) in enumerate(drawn)]
    inf_units = [u for _c, u in drawn]
    t = time.perf_counter()
    with transaction.atomic():
        Infection.objects.bulk_create(infections, batch_size=5000)
    _log(f"  {n_inf:,} infections in {time.perf_counter() - t:.1f} s")

    # Facilities: one quarantine site per ~2,000 people under an order, enough beds for everyone placed.
    n_fac = max(1, n_contacts // 2000)
    district_units = [rng.choice(units) for _ in range(n_fac)]
    facilities = [Facility(name=f"隔离点{i + 1}", kind="quarantine_site", area_id=u[0], capacity=4000, **scope(u))
                  for i, u in enumerate(district_units)]
    Facility.objects.bulk_create(facilities)

    cache: dict = {}
    per = max(1, n_contacts // max(1, n_inf))
    t = time.perf_counter()
    made = due_today = 0
    pending_placements: list[tuple[int, int, dt.date]] = []
    batch: list[PersonOrder] = []
    first_id = (PersonOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    next_id = first_id
    occupied = [0] * n_fac

    def flush():
        nonlocal batch
        if batch:
            _insert(PersonOrder, batch)
            batch = []

    with transaction.atomic():
        for inf, u in zip(infections, inf_units):
            k = per if made + per <= n_contacts else max(0, n_contacts - made)
            near = by_community[u[3]]
            anchor = inf.confirmed_on - dt.timedelta(days=1 if inf.confirmed_on == DAY - dt.timedelta(days=10)
                                                     else rng.randint(1, 2))
            for j in range(k):
                cat = "contact_of_contact" if j % 5 == 4 else "close_contact"
                a = anchor if cat == "close_contact" else anchor + dt.timedelta(days=1)
                ident = min(DAY, inf.confirmed_on + dt.timedelta(days=1 if j % 7 == 6 else 0))
                key = (cat, a, ident)
                o = cache.get(key)
                if o is None:
                    o = cache[key] = persons.compute_order(pack, cat, a, ident)
                hu = rng.choice(near)
                released = o.free_on < DAY
                status = OrderStatus.VOID if o.void else (OrderStatus.RELEASED if released else OrderStatus.ACTIVE)
                po = PersonOrder(id=next_id, label=f"{inf.label}-{j + 1}", home_id=hu[0], category=cat,
                                 pack=pack.name, infection_id=inf.pk, anchor=a, identified_on=ident,
                                 centralized_until=o.centralized_until, home_until=o.home_until, free_on=o.free_on,
                                 test_days=[d.isoformat() for d in o.test_days],
                                 missed_test_days=[d.isoformat() for d in o.missed_test_days],
                                 status=status, released_on=o.free_on if status == OrderStatus.RELEASED else None,
                                 placed_at=now if cat == "close_contact" else None, **scope(hu))
                batch.append(po)
                if status == OrderStatus.ACTIVE and o.free_on == DAY:
                    due_today += 1
                if cat == "close_contact" and status != OrderStatus.VOID:
                    f = next_id % n_fac
                    # the bed is given back the day after the centralized days (earlier day starts did it for
                    # those already at home; the bench day's start does it for those whose days ended yesterday)
                    back = o.centralized_until + dt.timedelta(days=1) if o.centralized_until else o.free_on
                    back = back if status != OrderStatus.ACTIVE or back < DAY else None
                    pending_placements.append((f, next_id, back))
                    if back is None:
                        occupied[f] += 1
                next_id += 1
                made += 1
                if len(batch) >= 20000:
                    flush()
        flush()
        _log(f"  {made:,} orders ({due_today:,} ending on {DAY}) in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        placements = [Placement(facility_id=facilities[f].pk, order_id=oid, admitted_on=DAY - dt.timedelta(days=8),
                                discharged_on=disc) for f, oid, disc in pending_placements]
        _insert(Placement, placements)
        for f, n in zip(facilities, occupied):
            f.occupied = n
        Facility.objects.bulk_update(facilities, ["occupied"], batch_size=1000)
        _log(f"  {len(placements):,} placements in {time.perf_counter() - t:.1f} s")
    _analyze()
    return {"infections": n_inf, "orders": made, "due": due_today, "placements": len(pending_placements),
            "facilities": n_fac}


def _insert(model, objs: list) -> None:
    """``bulk_create(objs)`` without reading back ids; on PostgreSQL through COPY, with each value as the ORM's
    INSERT would send it (an INSERT of 500 k wide rows spent minutes binding every value in Python)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=5000)
        return
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
    cols = ", ".join(qn(f.column) for f in fields)
    with connection.cursor() as c, c.cursor.copy(f"COPY {qn(model._meta.db_table)} ({cols}) FROM STDIN") as cp:
        for o in objs:
            cp.write_row([f.get_db_prep_save(f.pre_save(o, True), connection) for f in fields])


def _analyze() -> None:
    """What autovacuum leaves in production before a day's release: statistics, and on PostgreSQL the visibility
    map and hint bits of the freshly copied rows (without them the release's first pass over the orders writes
    every page it reads), as the situation bench does."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _timed(client, url: str, n: int) -> list[float]:
    for _ in range(3):  # warm up
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    return out


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 1)


def run(args) -> int:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.db.models import Count
    from django.test import Client

    from cordon.cases.actions import do_release_due
    from cordon.cases.models import Facility, OrderStatus, PersonOrder, Placement
    from cordon.core import clock
    from cordon.core.actions import do_create_user
    from cordon.core.models import AuditEntry
    from cordon.places.models import Area

    settings.ALLOWED_HOSTS = list(settings.ALLOWED_HOSTS) + ["testserver"]
    with city_database(args, f"contacts bench: {args.infections:,} infections, {args.contacts:,} contacts") \
            as (vendor, city, city_s):
        seeded, seed_s = timed(seed, args.infections, args.contacts, args.seed, args.share)
        busiest = (PersonOrder.objects.filter(status=OrderStatus.ACTIVE).order_by().values("community_id")
                   .annotate(n=Count("id")).order_by("-n").first())
        community = Area.objects.get(pk=busiest["community_id"])
        worker, _ = do_create_user("bench_worker", "bench-pass-2022", role="community_worker", area=community,
                                   actor="bench", check_password=False)
        c = Client()
        c.force_login(worker)
        with clock.frozen(DAY - dt.timedelta(days=1)):
            page_ms = _timed(c, "/cases/contacts/", args.requests)
            page2_ms = _timed(c, "/cases/contacts/?page=5&today=home", max(10, args.requests // 5))
            api_ms = _timed(c, "/api/orders?page=1", args.requests)
            settings.DEBUG = True
            reset_queries()
            c.get("/cases/contacts/")
            page_queries = len(connection.queries)
            settings.DEBUG = False
        before_audit = AuditEntry.objects.filter(action="order.release").count()
        before_discharges = AuditEntry.objects.filter(action="facility.discharge").count()
        open_before = Placement.objects.filter(discharged_on__isnull=True).count()
        occ_before = sum(Facility.objects.values_list("occupied", flat=True))
        parts = 1
        if vendor == "postgresql":
            from cordon.cases import daystart

            parts = len(daystart._ranges(DAY, args.parts) or [None])
        with clock.frozen(DAY):
            released, release_s = timed(do_release_due, DAY, actor="bench", parts=args.parts)
            again, again_s = timed(do_release_due, DAY, actor="bench", parts=args.parts)
        audit_rows = AuditEntry.objects.filter(action="order.release").count() - before_audit
        discharge_rows = AuditEntry.objects.filter(action="facility.discharge").count() - before_discharges
        discharged = open_before - Placement.objects.filter(discharged_on__isnull=True).count()
        beds = occ_before - sum(Facility.objects.values_list("occupied", flat=True))
        still_due = PersonOrder.objects.filter(status=OrderStatus.ACTIVE, free_on__lte=DAY).count()
        ok = (audit_rows == released and beds == discharged and still_due == 0 and again == 0
              and discharge_rows <= discharged)
    rows = [
        ("database", vendor),
        ("city", f"{args.population:,} residents, {city['units']:,} units, built in {city_s:.1f} s (not counted)"),
        ("seeded", f"{seeded['infections']:,} infections, {seeded['orders']:,} orders, "
                   f"{seeded['placements']:,} placements in {seeded['facilities']:,} facilities, {seed_s:.1f} s"),
        ("busiest community", f"{community.path} ({busiest['n']:,} people under orders)"),
        ("contact list page p50 / p99", f"{_pct(page_ms, 50)} / {_pct(page_ms, 99)} ms ({page_queries} queries)"),
        ("  page 5, at home, p50 / p99", f"{_pct(page2_ms, 50)} / {_pct(page2_ms, 99)} ms"),
        ("API /api/orders p50 / p99", f"{_pct(api_ms, 50)} / {_pct(api_ms, 99)} ms"),
        ("release_due", f"{released:,} released in {release_s * 1000:.0f} ms; {discharged:,} placements discharged"),
        ("  parts at once", f"{parts} (block ranges of the orders table, each on its own connection)"
                            if parts > 1 else "1 (one connection)"),
        ("  audit rows / beds back", f"{audit_rows:,} / {beds:,} ({'consistent' if ok else 'INCONSISTENT'}); "
                                     f"{discharge_rows:,} beds given back at the end of centralized days"),
        ("  same day again", f"{again} released in {again_s * 1000:.0f} ms"),
        ("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"),
    ]
    emit("contacts", rows, {"seconds": round(release_s, 3), "peak_rss_mb": peak_rss_mb(),
                            "p50_ms": _pct(page_ms, 50), "p99_ms": _pct(page_ms, 99),
                            "api_p50_ms": _pct(api_ms, 50), "api_p99_ms": _pct(api_ms, 99),
                            "released": released, "parts": parts, "database": vendor, "population": args.population,
                            "infections": seeded["infections"], "orders": seeded["orders"],
                            "page_queries": page_queries, "consistent": ok})
    return 0 if ok else 1

"""``cordon bench situation [--population N] [--infections N] [--runs N]``: the command page's data.

Builds the synthetic city in a scratch database (``bench.common.scratch_database`` + ``places.bulk.load_city``),
then bulk-inserts an outbreak of ``--infections`` over 60 days (an epidemic curve rising and falling, spread
over the districts by population, found in the community early and under control later, 20 % confirmed), with
three response tasks each (older ones done, recent ones open, some overdue), a close contact order for every
second infection, ``--designations`` active unit designations with their events, a few guardrail flags and
quarantine sites. Then times the command centre's data (every registered section for the whole city, the same
call the page and ``/api/situation`` make, plus the SVG charts) ``--runs`` times: p50 / p99 (goal < 300 ms).
A district view is timed too. The last line is the JSON figures; ``seconds`` is the sum of the timed runs.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import time
from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb

DAY = dt.date(2022, 11, 20)
DAYS = 60


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_situation")
    p.add_argument("--infections", type=int, default=50_000)
    p.add_argument("--designations", type=int, default=2_000)
    p.add_argument("--runs", type=int, default=30)


def curve(total: int, days: int, rng: random.Random) -> list[int]:
    """Daily counts summing to ``total``: a gamma-shaped wave peaking around day 35, with noise."""
    w = [((i + 1) ** 3.0) * math.exp(-(i + 1) / 11.0) * rng.uniform(0.85, 1.15) for i in range(days)]
    s = sum(w)
    counts = [int(total * x / s) for x in w]
    counts[int(days * 0.6)] += total - sum(counts)
    return counts


def seed_outbreak(n: int, designations: int, seed: int) -> dict:
    from django.db import transaction

    from cordon.cases.models import Facility, Infection, OrderStatus, PersonOrder, ResponseTask
    from cordon.core import clock
    from cordon.places.models import Area
    from cordon.zones.models import Flag

    rng = random.Random(seed)
    cols = ("id", "district_id", "street_id", "community_id", "compound_id", "building_id")
    units = list(Area.objects.filter(kind="unit").values_list(*cols))
    pops = dict(Area.objects.filter(kind="district").values_list("id", "population"))
    by_district: dict = {}
    for u in units:
        by_district.setdefault(u[1], []).append(u)
    dids = sorted(by_district)
    # the outbreak concentrates in two districts, the rest get a population-weighted trickle
    weights = [pops.get(d, 1) * (6 if i < 2 else 1) for i, d in enumerate(dids)]
    start = DAY - dt.timedelta(days=DAYS - 1)
    tz = clock.tz()
    infs, t0 = [], time.perf_counter()
    k = 0
    for i, c in enumerate(curve(n, DAYS, rng)):
        day = start + dt.timedelta(days=i)
        comm_share = max(0.03, 0.45 - 0.42 * i / DAYS)
        for _ in range(c):
            d = rng.choices(dids, weights)[0]
            u = rng.choice(by_district[d])
            r = rng.random()
            found = "community" if r < comm_share else ("controlled_area" if r < comm_share + (1 - comm_share) * 0.6
                                                         else "quarantine_site")
            k += 1
            inf = Infection(label=f"B{k:06d}", home_id=u[0], kind="confirmed" if rng.random() < 0.2 else "asymptomatic",
                            found=found, confirmed_on=day,
                            reported_at=dt.datetime.combine(day, dt.time(rng.randint(6, 22), 0), tzinfo=tz),
                            district_id=u[1], street_id=u[2], community_id=u[3], compound_id=u[4],
                            building_id=u[5], unit_id=u[0])
            infs.append(inf)
    with transaction.atomic():
        Infection.objects.bulk_create(infs, batch_size=5000)
    tasks, orders = [], []
    for inf in infs:
        scope = {f"{lv}_id": getattr(inf, f"{lv}_id") for lv in ("district", "street", "community", "compound",
                                                                "building", "unit")}
        for step, hours in (("transfer", 6), ("investigation", 24), ("designation", 12)):
            deadline = inf.reported_at + dt.timedelta(hours=hours)
            recent = inf.confirmed_on >= DAY - dt.timedelta(days=1)
            done = not recent and rng.random() < 0.97
            tasks.append(ResponseTask(infection_id=inf.pk, step=step, title=step, owner="team", deadline=deadline,
                                      status="done" if done else "open",
                                      done_at=(inf.reported_at + dt.timedelta(hours=rng.uniform(1, hours * 1.3)))
                                      if done else None, **scope))
        if inf.pk % 2 == 0:
            ident = inf.confirmed_on
            free_on = ident + dt.timedelta(days=10)
            active = free_on > DAY
            orders.append(PersonOrder(label=f"K{inf.pk}", home_id=inf.home_id, category="close_contact",
                                      pack="ninth-edition", infection_id=inf.pk, anchor=ident - dt.timedelta(days=1),
                                      identified_on=ident, centralized_until=ident + dt.timedelta(days=6),
                                      home_until=ident + dt.timedelta(days=9), free_on=free_on,
                                      status=OrderStatus.ACTIVE if active else OrderStatus.RELEASED,
                                      released_on=None if active else free_on, **scope))
    with transaction.atomic():
        ResponseTask.objects.bulk_create(tasks, batch_size=5000)
        PersonOrder.objects.bulk_create(orders, batch_size=5000)
        fac_areas = list(Area.objects.filter(kind="community").values_list(*cols)[:40])
        Facility.objects.bulk_create([Facility(name=f"隔离点{i}", kind="quarantine_site", area_id=a[0],
                                               capacity=2000, occupied=rng.randint(200, 1900), district_id=a[1],
                                               street_id=a[2], community_id=a[3]) for i, a in enumerate(fac_areas)])
    from cordon.bench.tick import seed_designations

    seeded = seed_designations(designations, DAY, seed) if designations else {"designations": 0, "events": 0}
    from cordon.zones.models import Designation

    ds = list(Designation.objects.only("id", *[f"{lv}_id" for lv in ("district", "street", "community",
                                                                      "compound", "building", "unit")])[:300])
    Flag.objects.bulk_create([Flag(rule="#3", on=DAY - dt.timedelta(days=i % 7), designation=d, subject="bench",
                                   message="bench flag", district_id=d.district_id, street_id=d.street_id,
                                   community_id=d.community_id, compound_id=d.compound_id,
                                   building_id=d.building_id, unit_id=d.unit_id) for i, d in enumerate(ds)],
                             ignore_conflicts=True)
    return {"infections": len(infs), "tasks": len(tasks), "orders": len(orders), "seconds": time.perf_counter() - t0,
            "designations": seeded["designations"], "districts": len(dids)}


def _time(fn, runs: int) -> list[float]:
    fn()  # warm (imports, pack load, first plan)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


def run(args) -> int:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from cordon.places.models import Area
    from cordon.situation.registry import SituationScope
    from cordon.situation.views import charts_for, situation_data

    with city_database(args, f"situation bench: {args.infections:,} infections") as (vendor, city, city_s):
        seeded = seed_outbreak(args.infections, args.designations, args.seed)
        with connection.cursor() as c:
            # what autovacuum leaves in production: statistics, and on PostgreSQL the visibility map that lets
            # the covering indexes answer without visiting the table
            c.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")

        def city_page():
            data = situation_data(SituationScope.city(), DAY)
            charts_for(data["sections"]["epi"])
            return data

        with CaptureQueriesContext(connection) as cq:
            data = city_page()
        queries = len(cq.captured_queries)
        reset_queries()
        times = _time(city_page, args.runs)
        busiest = max(data["sections"]["epi"]["by_district"] or [{"district_id": None}], key=lambda r: r.get("total", 0))
        district = Area.objects.filter(pk=busiest["district_id"]).first() or Area.objects.filter(kind="district").first()
        dtimes = _time(lambda: situation_data(SituationScope.city(), DAY) if district is None else
                       situation_data(SituationScope(SituationScope.city().scope, district, {}), DAY), max(5, args.runs // 3))
        epi = data["sections"]["epi"]
    p50, p99 = statistics.median(times), _pct(times, 99)
    rows = [
        ("database", vendor),
        ("city", f"{args.population:,} residents, {city['units']:,} units, built in {city_s:.0f} s (not counted)"),
        ("outbreak", f"{seeded['infections']:,} infections over {DAYS} days in {seeded['districts']} districts, "
                     f"{seeded['tasks']:,} tasks, {seeded['orders']:,} orders, {seeded['designations']:,} designations "
                     f"({seeded['seconds']:.0f} s, not counted)"),
        ("check", f"today {epi['today']['total']}, Rt {epi['rt']['latest']['mean'] if epi['rt']['latest'] else '-'}, "
                  f"window {epi['window_total']:,}"),
        ("queries per page", queries),
        (f"city page data x{args.runs}", f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(times):.0f} ms"),
        ("district page data", f"p50 {statistics.median(dtimes):.0f} ms ({district.name if district else '-'})"),
        ("goal", "p99 < 300 ms: " + ("met" if p99 < 300 else "NOT met")),
        ("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"),
    ]
    emit("situation", rows, {"seconds": round(sum(times) / 1000, 3), "peak_rss_mb": peak_rss_mb(),
                             "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "database": vendor,
                             "population": args.population, "infections": seeded["infections"],
                             "queries": queries, "district_p50_ms": round(statistics.median(dtimes), 1),
                             "runs": args.runs})
    return 0

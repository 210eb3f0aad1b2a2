"""``cordon bench tick [--population N] [--designations D]``: the day-start tick on a big city.

Builds the synthetic city in a scratch database (``bench/common.scratch_database``), places ``D``
designations on distinct building units, designated over the ten days before the tick day (high and
medium, with their full-area rounds recorded and a share kept past their date), caches each one's state
as the actions do, then times ``zones.actions.do_tick`` for the tick day. The last line is the JSON figures;
``seconds`` is the tick alone.
"""
from __future__ import annotations

import datetime as dt
import random
from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, timed


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_tick")
    p.add_argument("--designations", type=int, default=10_000)


def seed_designations(n: int, day: dt.date, seed: int) -> dict:
    """Bulk-create ``n`` designations with events and cached state (what the actions would have left)."""
    from django.db import transaction

    from cordon.places.models import Area
    from cordon.zones import actions as za, queries as zq
    from cordon.zones.models import Designation, Event, EventKind, Member

    rng = random.Random(seed)
    unit_ids = list(Area.objects.filter(kind="unit").values_list("id", flat=True))
    chosen = rng.sample(unit_ids, min(n, len(unit_ids)))
    units = Area.objects.in_bulk(chosen)
    now = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.timezone.utc)
    designations, plans = [], []
    for uid in chosen:
        u = units[uid]
        level = "high" if rng.random() < 0.7 else "medium"
        start = day - dt.timedelta(days=rng.randint(0, 10))
        d = Designation(area=u, pack="ninth-edition", level=level, designated_on=start, since=start,
                        reason="bench", designated_at=now, created_by="bench")
        d.set_scope_from(u)
        designations.append(d)
        plans.append((start, level, rng.random() < 0.05))
    with transaction.atomic():
        Designation.objects.bulk_create(designations, batch_size=2000)
        Member.objects.bulk_create([Member(designation=d, area_id=d.area_id, added_on=d.designated_on)
                                    for d in designations], batch_size=2000)
        events = []
        for d, (start, level, kept) in zip(designations, plans):
            evs = [Event(designation=d, on=start, kind=EventKind.DESIGNATE, level=level, reason="bench")]
            r = start + dt.timedelta(days=7)
            if r < day:
                evs.append(Event(designation=d, on=r, kind=EventKind.ROUND, result="negative"))
            if kept and r < day:
                evs.append(Event(designation=d, on=r, kind=EventKind.KEEP, reason="bench keep"))
            events += evs
            d._evs = evs
        Event.objects.bulk_create(events, batch_size=5000)
        eve = day - dt.timedelta(days=1)
        for d in designations:
            st = zq.state_of(d, eve, events=d._evs)
            za._apply_state(d, st, eve, "bench", events=d._evs, out=[])
        za.save_cached(designations)
    return {"designations": len(designations), "events": len(events)}


def run(args) -> int:
    from cordon.zones.actions import do_tick

    day = dt.date(2022, 11, 20)
    with city_database(args, f"tick bench: {args.designations:,} designations") as (vendor, city, city_s):
        seeded, seed_s = timed(seed_designations, args.designations, day, args.seed)
        result, tick_s = timed(do_tick, day, actor="bench")
        again, again_s = timed(do_tick, day, actor="bench")
    rows = [
        ("database", vendor),
        ("city", f"{args.population:,} residents, {city['units']:,} units, built in {city_s:.1f} s (not counted)"),
        ("designations seeded", f"{seeded['designations']:,} with {seeded['events']:,} events in {seed_s:.1f} s"),
        ("tick: evaluated", f"{result['evaluated']:,}"),
        ("tick: level changes", f"{result['changes']:,}"),
        ("tick: #3 flags", f"{result['flags']:,}"),
        ("tick time", f"{tick_s * 1000:.0f} ms"),
        ("same day again (nothing new)", f"{again_s * 1000:.0f} ms, {again['changes']} changes, {again['flags']} flags"),
        ("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"),
    ]
    emit("tick", rows, {"seconds": round(tick_s, 3), "peak_rss_mb": peak_rss_mb(), "database": vendor,
                        "population": args.population, "designations": seeded["designations"],
                        "evaluated": result["evaluated"], "changes": result["changes"], "flags": result["flags"]})
    return 0

"""Demo step for cases: the same three weeks the risk-area step replayed (infections 兰州-MMDD-P1 ... P9),
now with their response and people, day by day through the real actions under a frozen clock:

* facilities: two centralized quarantine sites, a designated hospital and a shelter hospital;
* each infection: transferred (one late, the newest still waiting), investigated, contacts traced with
  their last exposure dates (some identified late: the clock never restarts), contacts of contacts, close
  contacts placed in the quarantine sites, tasks done on time or left overdue and escalated;
* the chain: P4 was P3's household contact, P7 a close contact of P6 found positive in quarantine;
* daily check-ins with test results on test days; arrivals from a maintained list of outside regions
  (high, medium, low; one region raised mid-way) with their tests;
* each day starts with the day-start jobs of ``core.jobs`` (orders that ended are released, beds returned;
  the area tick already ran in the risk-area step).
"""
from __future__ import annotations

import datetime as dt
import random

from cordon.core import clock
from cordon.cases import actions as ca
from cordon.cases.models import (Arrival, Facility, Infection, OrderStatus, OutsideRegion, PersonOrder, ResponseTask,
                                 TaskStatus)
from cordon.core.actions import ActionError
from cordon.core.jobs import DAY_START_JOBS
from cordon.cases.queries import residents_not_yet_infections
from cordon.places.models import Area

FACILITIES = [
    ("城关区集中隔离点一号（酒店）", "quarantine_site", "城关区", 60),
    ("七里河区集中隔离点", "quarantine_site", "七里河区", 40),
    ("兰州市定点医院", "designated_hospital", "城关区", 30),
    ("兰州国际会展中心方舱医院", "shelter_hospital", "七里河区", 200),
]
REGIONS = [("西宁市城东区", "medium"), ("广州市海珠区", "high"), ("呼和浩特市新城区", "high"),
           ("银川市兴庆区", "medium"), ("西安市雁塔区", "low"), ("北京市朝阳区", "low"), ("成都市武侯区", "low")]
ARRIVALS = {  # day -> [(region, kind)]
    2: [("北京市朝阳区", "resident"), ("广州市海珠区", "resident")],
    4: [("西安市雁塔区", "student"), ("银川市兴庆区", "resident")],
    7: [("西宁市城东区", "driver"), ("西安市雁塔区", "student")],
    11: [("呼和浩特市新城区", "resident"), ("成都市武侯区", "resident")],
    15: [("北京市朝阳区", "student"), ("广州市海珠区", "resident")],
    18: [("西安市雁塔区", "resident"), ("银川市兴庆区", "driver")],
    19: [("呼和浩特市新城区", "student"), ("成都市武侯区", "driver")],
}
#: Infections whose response lags: transfer late, tasks left open (overdue, escalated).
LATE_TRANSFER = {"P4"}
LEFT_OPEN = {"P6": ["designation"], "P8": ["disinfection", "area_round"], "P9": ["investigation",
                                                                                 "contact_tracing", "disinfection",
                                                                                 "area_round", "designation"]}
#: Chain links: infection -> the infection whose close contact it was.
WAS_CONTACT_OF = {"P4": "P3", "P7": "P6"}


def _at(day: dt.date, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=clock.tz())


def _short(label: str) -> str:
    return label.rsplit("-", 1)[-1]


def _near_units(home, n: int) -> list:
    """Units near an infection's home: its building and compound first, then its community."""
    units = [u for u in Area.objects.filter(kind="unit", compound_id=home.compound_id).order_by("id")[:n * 2]]
    if len(units) < n:
        units += list(Area.objects.filter(kind="unit", community_id=home.community_id)
                      .exclude(pk__in=[u.pk for u in units]).order_by("id")[:n])
    return units or [home]


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    rng = random.Random(4)
    today = today or clock.today()
    start = today - dt.timedelta(days=20)
    User = get_user_model()
    commander = User.objects.get(username="commander")
    worker = User.objects.filter(username="community").first() or commander

    with clock.frozen(_at(start, 8)):
        facilities = {}
        for name, kind, district, capacity in FACILITIES:
            area = Area.objects.filter(path=district).first() or Area.objects.filter(kind="district").first()
            facilities[name] = ca.do_create_facility(name=name, kind=kind, area=area, capacity=capacity,
                                                     actor=commander)
        for name, level in REGIONS:
            ca.do_upsert_outside_region(name=name, level=level, source="国家卫健委风险区公布 (demo)",
                                        actor=commander)
    sites = [f for f in facilities.values() if f.kind == "quarantine_site"]
    hospital = next(f for f in facilities.values() if f.kind == "designated_hospital")
    shelter = next(f for f in facilities.values() if f.kind == "shelter_hospital")
    dests = list(Area.objects.filter(kind="unit", community__path="城关区/皋兰路街道/五泉社区").order_by("id")[:8]) \
        or list(Area.objects.filter(kind="unit").order_by("id")[:8])

    infections = {}
    contacts_total = arrivals_total = 0
    for k in range(21):
        day = start + dt.timedelta(days=k)
        with clock.frozen(_at(day, 0, 10)):
            _day_start(day)
        if k == 5:
            with clock.frozen(_at(day, 9)):
                ca.do_upsert_outside_region(name="西宁市城东区", level="high", source="升级为高风险区 (demo)",
                                            actor=commander)
        todays = list(Infection.objects.filter(confirmed_on=day, label__startswith="兰州-").select_related("home")
                      .order_by("id"))
        for inf in todays:
            short = _short(inf.label)
            infections[short] = inf
            contacts_total += _respond(inf, short, day, today, rng, infections, sites, hospital, shelter, commander)
        # Arrivals of the day (destination: the demo community, so the worker sees them).
        for i, (region_name, kind) in enumerate(ARRIVALS.get(k, [])):
            region = OutsideRegion.objects.get(name=region_name)
            with clock.frozen(_at(day, 14, 10 * i)):
                a, order = ca.do_register_arrival(label=f"来兰-{day:%m%d}-{i + 1}", from_level=region.level,
                                                  kind=kind, arrived_on=day, destination=dests[(k + i) % len(dests)],
                                                  region=region, actor=worker, reason="来兰返兰登记")
                arrivals_total += 1
                if order is not None and order.centralized_until:
                    _place(order, sites, day, commander)
        # Arrivals from low-risk regions test on their first days.
        for a in Arrival.objects.filter(category="from_low_area", arrived_on__gte=day - dt.timedelta(days=2),
                                        arrived_on__lt=day):
            if len(a.tests_done or []) < 2 and (day < today or rng.random() < 0.5):
                with clock.frozen(_at(day, 11)):
                    ca.do_record_arrival_test(a, on=day, result="negative", actor=worker)
        # Evening: check-ins of everyone under an order (a few missing today), escalations.
        with clock.frozen(_at(day, 19)):
            for o in PersonOrder.objects.filter(status=OrderStatus.ACTIVE).order_by("id"):
                if day == today and rng.random() < 0.35:
                    continue
                tests = {dt.date.fromisoformat(d) for d in o.test_days}
                if Infection.objects.filter(label=o.label, confirmed_on__lte=day).exists():
                    continue
                ca.do_record_checkin(o, on=day, temperature=round(36.2 + rng.random() * 0.8, 1),
                                     test_result="negative" if day in tests else "", actor=worker)
            if day == today:
                _positives_today(worker, day)
        with clock.frozen(_at(day, 23, 30) if day < today else clock.now()):
            ca.do_escalate_overdue(actor="demo")

    active = PersonOrder.objects.filter(status=OrderStatus.ACTIVE)
    print(f"Demo response: {len(infections)} infections with {ResponseTask.objects.count()} response tasks "
          f"({ResponseTask.objects.filter(status='open', escalation__gt=0).count()} escalated), "
          f"{contacts_total} contacts traced, {active.count()} people under orders now "
          f"({PersonOrder.objects.filter(status=OrderStatus.RELEASED).count()} released), "
          f"{arrivals_total} arrivals; facilities "
          + ", ".join(f"{f.name} {f.occupied}/{f.capacity}" for f in Facility.objects.order_by("id")) + ".")


def _positives_today(worker, day: dt.date) -> None:
    """This evening's positives the desk has not recorded as infections yet: a person in centralized quarantine
    at the check-in and a traveller at the arrival test, both in the worker's community, so its pages offer
    "record infection" prefilled from the result."""
    from cordon.core import access

    recorded = Infection.objects.values("label")
    o = (PersonOrder.objects.for_user(worker, access.CASES_WRITE)
         .filter(status=OrderStatus.ACTIVE, centralized_until__gte=day).exclude(label__in=recorded)
         .order_by("id").first())
    if o is not None:
        ca.do_record_checkin(o, on=day, temperature=37.9, symptoms="咽痛、发热 / sore throat, fever",
                             test_result="positive", actor=worker)
    a = Arrival.objects.for_user(worker, access.CASES_WRITE).exclude(label__in=recorded).order_by("-id").first()
    if a is not None:
        ca.do_record_arrival_test(a, on=day, result="positive", actor=worker)


def _day_start(day: dt.date) -> dict:
    """``core.jobs.day_start`` for a replayed day, less the area tick: the risk-area step already ran it for
    each of these days, and ticking a past day again after later events would rewind a kept area."""
    import importlib

    out = {"date": day.isoformat()}
    for name, ref in DAY_START_JOBS:
        if name == "areas":
            continue
        module, func = ref.split(":")
        out[name] = getattr(importlib.import_module(module), func)(day, actor="demo")
    return out


def _place(order, sites, day, actor) -> None:

    for f in Facility.objects.filter(pk__in=[s.pk for s in sites]).order_by("occupied", "id"):
        try:
            ca.do_place(f, order=order, on=day, actor=actor)
            return
        except ActionError:
            continue  # full: the next site


def _respond(inf, short, day, today, rng, infections, sites, hospital, shelter, actor) -> int:
    """One infection's response on its day (and the next), through the actions. Returns contacts traced."""

    base = inf.reported_at
    tasks = {t.step: t for t in inf.tasks.all()}
    left_open = set(LEFT_OPEN.get(short, []))
    # Transfer to hospital (confirmed) or shelter hospital (asymptomatic): on time, except the late ones.
    if "transfer" not in left_open:
        late = short in LATE_TRANSFER
        with clock.frozen(base + dt.timedelta(hours=5 if late else 1.5)):
            t = tasks["transfer"]
            ca.do_note_task(t, "床位已确认 / bed confirmed", actor=actor, check=0)
            if late:
                ca.do_note_task(t, "救护车调度延误 / ambulance dispatch delayed", actor=actor)
            # the admission completes the transfer task (and its KPI)
            ca.do_place(hospital if inf.kind == "confirmed" and inf.found == "community" else shelter,
                        infection=inf, actor=actor, note="负压救护车闭环转运 / closed-loop ambulance transfer")
    # The contact this infection was (chain), registered by the earlier infection's tracing team.
    if short in WAS_CONTACT_OF and WAS_CONTACT_OF[short] in infections:
        src = infections[WAS_CONTACT_OF[short]]
        o = PersonOrder.objects.filter(label=inf.label).first()
        if o is None:
            with clock.frozen(base + dt.timedelta(minutes=30)):
                ca.do_register_contact(src, label=inf.label, last_exposure=day - dt.timedelta(days=2),
                                       identified_on=day, home=inf.home, actor=actor,
                                       reason=f"{_short(src.label)} 的同住/同隔离点密接")
    # Contact tracing: 3-6 close contacts, one identified late, a contact of a contact or two.
    n = 0
    if short == "P9":
        with clock.frozen(base + dt.timedelta(hours=3)):
            t = inf.tasks.get(step="contact_tracing")
            ca.do_note_task(t, "已判定3名密接，仍在追踪 / 3 contacts so far", actor=actor, check=0)
    homes = _near_units(inf.home, 6)
    count = 2 if short == "P7" else rng.randint(3, 6)
    for i in range(count):
        late = i == count - 1 and short not in ("P8", "P9") and day + dt.timedelta(days=2) <= today
        label = f"{inf.label}-密接{i + 1}"
        exposure = day - dt.timedelta(days=rng.randint(1, 2))
        if late:
            exposure = day - dt.timedelta(days=1)
            when = base + dt.timedelta(days=2, hours=2)
        else:
            when = base + dt.timedelta(hours=rng.randint(3, 9))
        if when.date() > today:
            continue
        # the first contact of each infection is a resident of the unit traced to, named by ID number: the
        # order links to the resident's record (the others stay free text, as visitors would)
        # (someone not yet an infection or under an order: one person, one bed)
        person = (residents_not_yet_infections(homes[i % len(homes)].pk, nor_under_orders=True)
                  .order_by("-id").first()) if i == 0 else None
        with clock.frozen(when):
            o = ca.do_register_contact(inf, label=label, last_exposure=exposure, identified_on=when.date(),
                                       home=homes[i % len(homes)], actor=actor,
                                       id_number=person.id_number if person else "",
                                       reason="流调判定" + ("（晚发现）" if late else ""))
            n += 1
        if o is not None and o.status == OrderStatus.ACTIVE and o.centralized_until and \
                not (short == "P9" and i >= 2):
            with clock.frozen(when + dt.timedelta(hours=rng.randint(2, 6))):
                _place(o, sites, clock.today(), actor)
        if o is not None and i == 0 and short not in ("P9",):
            with clock.frozen(when + dt.timedelta(hours=1)):
                for j in range(rng.randint(1, 2)):
                    ca.do_register_contact(inf, label=f"{label}-次密{j + 1}", category="contact_of_contact",
                                           last_exposure=exposure, identified_on=when.date(),
                                           home=homes[(i + j + 1) % len(homes)], via=o, actor=actor,
                                           reason=f"{label} 的密接")
                    n += 1
    # The other tasks: done within their deadlines, unless left open.
    for step, hours in (("investigation", 16), ("contact_tracing", 20), ("designation", 12),
                        ("disinfection", 22), ("area_round", 23)):
        t = inf.tasks.get(step=step)
        if step in left_open or t.status == "done":
            continue
        when = base + dt.timedelta(hours=hours)
        if when.date() > today:
            continue
        with clock.frozen(when):
            for idx in range(len(t.checklist) - 1):
                ca.do_note_task(t, "✓", actor=actor, check=idx)
            ca.do_complete_task(t, actor=actor, note="按时完成 / done")
    if short in LEFT_OPEN and short != "P9":
        with clock.frozen(base + dt.timedelta(hours=26)):
            t = inf.tasks.get(step=LEFT_OPEN[short][0])
            ca.do_note_task(t, "人手不足，已上报街道 / short of staff, reported to the street", actor=actor)
    return n


def playbooks(today: dt.date | None = None) -> None:
    """Playbooks followed on open response tasks: the first steps of their own checklists checked by the
    community worker (or the commander outside 五泉社区), and one designation task switched to the sealing
    playbook with two of its steps checked."""
    from django.contrib.auth import get_user_model

    from cordon.core import access

    User = get_user_model()
    commander = User.objects.get(username="commander")
    worker = User.objects.filter(username="community").first() or commander
    tasks = list(ResponseTask.objects.filter(status=TaskStatus.OPEN).select_related("infection")
                 .order_by("-infection__reported_at", "deadline", "id")[:12])
    checked = 0
    for i, t in enumerate(tasks):
        actor = worker if access.scope_for(worker, access.CASES_WRITE).contains(t) else commander
        if t.step == "designation" and t.playbook != "seal_unit":
            ca.do_set_task_playbook(t, "seal_unit", actor=actor, reason="按单元落实封控")
            for step in ("confirm_notice", "post_notice"):
                ca.do_check_task_step(t, step, actor=actor)
                checked += 1
        elif i % 2 == 0 and t.playbook:
            ca.do_check_task_step(t, "s1", actor=actor, note="已完成")
            checked += 1
    print(f"Demo playbooks: {checked} steps checked on {len(tasks)} open response tasks")

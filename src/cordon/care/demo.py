"""Demo step for emergency medical care: hospitals and closed-loop vehicles, needs registered for special-group
residents inside the demo's sealed areas (their proactive tasks), and requests in every state over today:
open ones waiting, dispatched, arrived and at hospital, closed as done and cancelled with the requester's
confirmation, and one refused close blocked (nine prohibitions #6)."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.care import actions as ca
from cordon.care.models import CareRequest, Hospital, Vehicle
from cordon.cases.actions import do_create_facility
from cordon.cases.models import Facility, FacilityKind
from cordon.core.actions import ActionError
from cordon.places.models import Area, Resident
from cordon.zones.models import Designation, Member, Status


def _at(day: dt.date, h: int, m: int = 0):
    return clock.frozen(dt.datetime.combine(day, dt.time(h, m), tzinfo=clock.tz()))


def ensure_resources(actor) -> dict:

    district = Area.objects.filter(kind="district").order_by("id").first()
    for name in ("兰州大学第一医院", "兰州市第一人民医院", "甘肃省人民医院"):
        if not Hospital.objects.filter(name=name).exists():
            ca.do_add_hospital(name, area=district, actor=actor, reason="demo")
    if not Facility.objects.filter(kind=FacilityKind.DESIGNATED_HOSPITAL).exists():
        do_create_facility(name="兰州市肺科医院（定点医院）", kind=FacilityKind.DESIGNATED_HOSPITAL, area=district,
                           capacity=300, actor=actor)
    for plate, team in (("甘A·120A1", "城关120站"), ("甘A·120A2", "城关120站"), ("甘A·120B1", "七里河120站"),
                        ("甘A·120B2", "七里河120站"), ("甘A·120C1", "安宁120站"), ("甘A·120C2", "安宁120站")):
        if not Vehicle.objects.filter(plate=plate).exists():
            ca.do_add_vehicle(plate, team=team, closed_loop=True, actor=actor, reason="demo")
    return {"hospitals": list(Hospital.objects.order_by("id")), "vehicles": list(Vehicle.objects.order_by("id")),
            "designated": Facility.objects.filter(kind=FacilityKind.DESIGNATED_HOSPITAL).order_by("id").first()}


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    today = today or clock.today()
    User = get_user_model()
    commander = User.objects.get(username="commander")
    dispatcher = User.objects.filter(username="dispatcher").first() or commander
    res = ensure_resources(commander)
    active = list(Designation.objects.filter(status=Status.ACTIVE).select_related("area").order_by("id"))
    member_units = list(Member.objects.filter(designation__in=active, removed_on__isnull=True)
                        .values_list("area_id", flat=True))
    inside = list(Resident.objects.filter(unit_id__in=member_units).order_by("id")[:400]) if member_units else []
    # Needs registered in the community registry for residents inside the seals.
    with _at(today, 7, 30):
        for i, r in enumerate(inside[:12]):
            if i % 4 == 0:
                ca.do_record_needs(r, dialysis_weekdays=[0, 2, 4], notes="周一三五 市一院血透室", actor=commander)
            elif i % 4 == 1:
                ca.do_record_needs(r, due_date=today + dt.timedelta(days=2 + i % 3), notes="孕38周，产检医院：省妇幼",
                                   actor=commander)
            elif i % 4 == 2:
                ca.do_record_needs(r, oxygen=True, medication="降压药（氨氯地平）", actor=commander)
            else:
                ca.do_record_needs(r, medication="胰岛素", actor=commander)
        tasks = ca.do_sync_proactive_tasks(today, actor="demo")
    units = [Area.objects.get(pk=u) for u in member_units[:8]] or list(Area.objects.filter(kind="unit")[:8])
    plan = [  # (hour, need, urgency, how far it goes)
        (6, "胸痛，呼吸困难", "critical", "closed"), (7, "临产，宫缩规律", "", "closed"),
        (8, "血透日，需按时透析", "", "cancelled"), (9, "高龄老人发热", "", "at_hospital"),
        (9, "婴儿高烧不退", "", "arrived"), (10, "昏迷，呼之不应", "critical", "dispatched"),
        (10, "腹痛需就医", "", "dispatched"), (11, "孕产妇，见红", "", "triaged"), (11, "老人跌倒后髋部疼痛", "", "triaged"),
        (11, "定期放化疗", "", "triaged"), (11, "婴幼儿腹泻脱水", "", "triaged"),
    ]
    names = ["张秀兰", "李娜", "王建华", "赵桂英", "刘子涵", "陈志强", "杨丽", "黄敏", "周玉珍", "吴海", "徐欣怡"]
    made = []
    vehicles = list(res["vehicles"])
    for i, (hour, need, urgency, goal) in enumerate(plan):
        area = units[i % len(units)]
        person = inside[i] if i < len(inside) and inside[i].unit_id == area.pk else None
        with _at(today, hour, 5 + i):
            r = ca.do_create_request(person=names[i], area=area, need=need, urgency=urgency,
                                     source=["community", "hotline", "resident"][i % 3], phone="139093100%02d" % i,
                                     resident=person, actor=commander, reason="demo")
        made.append(r)
        if goal == "triaged":
            continue
        with _at(today, hour, 12 + i):
            v = vehicles[i % len(vehicles)]
            if goal == "cancelled":
                ca.do_close_request(r, outcome="cancelled", reason="家属自行驾车送医", confirmed_by="患者女儿",
                                    confirmation="电话回访确认 (call-back)", actor=dispatcher)
                continue
            ca.do_dispatch_request(r, vehicle=v, facility=res["designated"] if r.needs_designated else None,
                                   hospital=None if r.needs_designated else res["hospitals"][i % 3],
                                   actor=dispatcher, reason="绿色通道")
        if goal == "dispatched":
            continue
        with _at(today, hour, 30 + i):
            ca.do_advance_request(r, to="arrived", actor=dispatcher)
        if goal == "arrived":
            continue
        with _at(today, hour + 1, 5 + i):
            ca.do_advance_request(r, to="at_hospital", actor=dispatcher)
        if goal == "at_hospital":
            continue
        with _at(today, hour + 2, 0):
            ca.do_close_request(r, outcome="done", reason="已入院治疗", actor=dispatcher)
    with _at(today, 11, 50):
        try:
            ca.do_close_request(made[7], outcome="refused", reason="封控区不接诊", actor=dispatcher)
        except ActionError as exc:
            blocked = exc.rule
    n_open = CareRequest.objects.exclude(status="closed").count()
    print(f"Demo care: {len(made)} medical requests ({n_open} open, {len(made) - n_open} closed); "
          f"{tasks['created']} proactive tasks in {tasks['designations']} sealed areas; "
          f"a refused close was blocked ({blocked}).")

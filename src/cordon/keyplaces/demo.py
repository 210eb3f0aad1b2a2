"""Demo step for key places: a school, a hospital, a market inside a sealed area (in closed loop), a pharmacy
closed in a low-risk area (flagged, nine prohibitions #9), and the nursing home of 五泉小区 that the
``keyplace`` account runs: in closed loop for five days, staff on shifts (one rotated out and under off-shift
monitoring), entries and exits, daily on-site tests (everyone inside due today) and one breach (an exit
outside a shift change)."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.keyplaces import actions as ka
from cordon.keyplaces.models import Breach, KeyPlace
from cordon.places.models import Area
from cordon.zones.models import Designation, Status

HOME_COMPOUND = "城关区/皋兰路街道/五泉社区/五泉小区"


def _at(day: dt.date, hour: int = 9):
    return clock.frozen(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz()))


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model

    today = today or clock.today()
    users = get_user_model().objects
    commander = users.get(username="commander")
    manager = users.filter(username="keyplace").first() or commander
    start = today - dt.timedelta(days=6)
    compound = Area.objects.get(path=HOME_COMPOUND)
    district = Area.objects.filter(kind="district").order_by("id").first()
    others = list(Area.objects.filter(kind="compound").exclude(community_id=compound.community_id).order_by("id")[:40])
    sealed = Designation.objects.filter(status=Status.ACTIVE).exclude(area__community_id=compound.community_id) \
        .select_related("area").order_by("id").first()
    with _at(start):
        ka.do_register_place(ref="SCH-01", name="城关区第一实验小学", kind="school", area=others[5], capacity=1200,
                             counts={"pupils": 1080}, actor=commander, reason="demo")
        ka.do_register_place(ref="HSP-01", name="城关区人民医院", kind="hospital", area=district, capacity=600,
                             counts={"patients": 430}, actor=commander, reason="demo")
        market = ka.do_register_place(ref="MKT-01", name="东岗农贸市场", kind="market",
                                      area=sealed.area if sealed else others[1], capacity=300, actor=commander,
                                      reason="demo")
        pharmacy = ka.do_register_place(ref="PHA-01", name="惠民大药房", kind="pharmacy", area=others[-1],
                                        actor=commander, reason="demo")
        home = ka.do_register_place(ref="NH-WQ-01", name="五泉社区养老院", kind="nursing_home", area=compound,
                                    capacity=120, counts={"residents": 86}, test_every_days=1, monitor_days=7,
                                    actor=manager, reason="demo")
    loop_day = today - dt.timedelta(days=5)
    with _at(loop_day):
        ka.do_set_place_status(market, status="closed_loop", on=loop_day, actor=commander,
                               reason="所在区域列为高风险区，市场闭环经营、保障供应")
        ka.do_set_place_status(home, status="closed_loop", on=loop_day, actor=manager,
                               reason="五泉社区出现本土病例，养老院实行闭环管理")
        staff = [ka.do_add_person(home, name=n, role="staff", phone=p, on=loop_day, actor=manager,
                                  rotate_on=loop_day + dt.timedelta(days=7))
                 for n, p in (("马秀兰", "13909315101"), ("张国华", "13909315102"), ("李娟", "13909315103"))]
        relief = ka.do_add_person(home, name="王建军", role="staff", phone="13909315104", inside=False, actor=manager)
        residents = [ka.do_add_person(home, name=n, role="resident", on=loop_day, actor=manager)
                     for n in ("赵桂芳", "孙德胜", "周玉兰", "吴长青")]
    for k in range(0, 5):
        day = loop_day + dt.timedelta(days=k)
        with _at(day, 8):
            for p in staff + residents + ([relief] if k > 2 else []):
                if p.inside:
                    ka.do_record_test(p, result="negative", on=day, actor=manager)
        if k == 2:
            with _at(day, 14):
                ka.do_change_shift(home, leaving=[staff[2]], coming=[relief], on=day,
                                   rotate_on=day + dt.timedelta(days=7), actor=manager, reason="第一轮轮换")
                ka.do_record_test(relief, result="negative", on=day, actor=manager)
        if k == 3:
            with _at(day, 16):
                ka.do_record_movement(residents[2], direction="exit", reason="medical", on=day, actor=manager,
                                      note="闭环转运至城关区人民医院透析")
                ka.do_record_movement(staff[1], direction="exit", reason="other", on=day, actor=manager,
                                      note="未经批准回家取物")  # the breach
                ka.do_record_movement(staff[1], direction="entry", reason="other", on=day, actor=manager,
                                      note="返回，加做核酸")
    yesterday = today - dt.timedelta(days=1)
    with _at(yesterday):
        ka.do_set_place_status(pharmacy, status="closed", on=yesterday, actor=commander,
                               reason="店员居家隔离，暂停营业")  # low-risk area: #9 flag with this reason
    for k in range(1, 6):
        ka.do_flag_untested(loop_day + dt.timedelta(days=k), places=KeyPlace.objects.filter(pk=home.pk), actor="demo")
    print(f"Demo key places: {KeyPlace.objects.count()} places, {KeyPlace.objects.filter(status='closed_loop').count()} "
          f"in closed loop, {Breach.objects.count()} breaches (the keyplace account runs {home.name})")

"""Demo step for supplies: a warehouse with staple packs, vegetables and medicine; allocations to the
demo's sealed areas by headcount and days sealed; delivery orders to every household, most delivered, one
failed with its reason; a shortage; yesterday's reconciliation; market prices with one alert."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.places.models import Area
from cordon.supplies import actions as sa
from cordon.supplies.models import DeliveryOrder, PriceReport
from cordon.zones.models import Designation, Status


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    today = today or clock.today()
    User = get_user_model()
    actor = User.objects.filter(username="logistics").first() or User.objects.get(username="commander")
    district = Area.objects.filter(kind="district").order_by("id").first()
    w = sa.do_create_warehouse("城关区应急物资仓库（东岗）", area=district, actor=actor, reason="demo")
    staple = sa.do_create_item("米面粮油保障包", kind="staple", unit="份", per_person_per_day="0.15",
                               baseline_price="60", price_unit="元/份", actor=actor)
    veg = sa.do_create_item("蔬菜包", kind="vegetables", unit="份", per_person_per_day="0.5", baseline_price="25",
                            price_unit="元/份", actor=actor)
    med = sa.do_create_item("常用药品包", kind="medicine", unit="盒", per_person_per_day="0.02", actor=actor)
    cabbage = sa.do_create_item("大白菜", kind="vegetables", unit="斤", baseline_price="1.20", price_unit="元/斤",
                                actor=actor)
    team = sa.do_create_team("皋兰路街道配送一队", area=district, leader="马师傅", phone="13909312000", actor=actor)
    yesterday = today - dt.timedelta(days=1)
    with clock.frozen(dt.datetime.combine(yesterday, dt.time(9, 0), tzinfo=clock.tz())):
        sa.do_move_stock(w, staple, direction="in", quantity=800, reason="市商务局调拨", on=yesterday, actor=actor)
        sa.do_move_stock(w, veg, direction="in", quantity=1500, reason="榆中蔬菜基地直供", on=yesterday, actor=actor)
        sa.do_move_stock(w, med, direction="in", quantity=20, reason="医药公司配送", on=yesterday, actor=actor)
        sa.do_move_stock(w, veg, direction="out", quantity=40, reason="损耗（腐烂）", on=yesterday, actor=actor)
        sa.do_count_stock(w, staple, counted=800, on=yesterday, actor=actor)
        sa.do_count_stock(w, veg, counted=1458, on=yesterday, actor=actor)  # 2 short: not balanced
        sa.do_count_stock(w, med, counted=20, on=yesterday, actor=actor)
    sa.do_close_day(today, actor="demo")
    active = list(Designation.objects.filter(status=Status.ACTIVE).select_related("area").order_by("id")[:3])
    # the field accounts' community (the ``community`` and ``volunteer`` demo accounts): its boxes are left
    # planned, so the phone app has deliveries to confirm at the door
    field = User.objects.filter(username="community").first()
    home = next((g.area.path + "/" for g in field.grants.select_related("area") if g.area_id), None) if field else None
    orders, planned = [], []
    for i, d in enumerate(active):
        for item in (staple, veg) + ((med,) if i == 0 else ()):
            a = sa.do_allocate(d, warehouse=w, item=item, actor=actor, reason="封控区生活物资保障")
            made = sa.do_issue_allocation(a, team=team, actor=actor)
            (planned if home and d.area.path.startswith(home) else orders).extend(made)
    for k, o in enumerate(orders):
        if k % 7 == 3:
            continue  # still planned
        if k == 5:
            sa.do_mark_failed(o, reason="家中无人应答，电话未接通", actor=actor)
        else:
            sa.do_mark_delivered(o, actor=actor)
    for market, price, item in (("东岗农贸市场", "1.25", cabbage), ("张掖路综合市场", "1.45", cabbage),
                                ("西站农贸市场", "27", veg)):
        sa.do_report_price(item, market=market, price=price, area=district, actor=actor)
    print(f"Demo supplies: {len(active)} sealed areas supplied, {len(orders) + len(planned)} deliveries to the door "
          f"({DeliveryOrder.objects.filter(status='delivered').count()} delivered, "
          f"{DeliveryOrder.objects.filter(status='failed').count()} failed; {len(planned)} in the field accounts' "
          f"community left to confirm on the phone app); price alerts: "
          f"{PriceReport.objects.filter(alert=True).count()}.")

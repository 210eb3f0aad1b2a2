"""Supplies: allocation arithmetic (headcount x days x rate, per household), shortages, deliveries with
reasons, daily reconciliation (in = out + on hand), price alerts above the set rise; dashboard page."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError
from cordon.supplies import actions as sa
from cordon.supplies import queries as sq
from cordon.supplies.models import DeliveryOrder, StockMovement

pytestmark = pytest.mark.django_db
DAY = dt.date(2022, 11, 8)


@pytest.fixture
def setup(city):
    from cordon.zones.actions import do_designate

    with clock.frozen(DAY):
        d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    w = sa.do_create_warehouse("仓库", area=city["district"], actor="test")
    veg = sa.do_create_item("蔬菜包", kind="vegetables", per_person_per_day="0.5", baseline_price="20", actor="test")
    rice = sa.do_create_item("粮油包", kind="staple", per_person_per_day="0.15", baseline_price="60", actor="test")
    return {"d": d, "w": w, "veg": veg, "rice": rice}


def test_allocation_arithmetic_and_shortage(city, setup):
    s = setup
    with clock.frozen(DAY):
        sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=100, reason="调拨", actor="test")
        # unit A has 2 residents; 3 days: 2 x 3 x 0.5 = 3
        a = sa.do_allocate(s["d"], warehouse=s["w"], item=s["veg"], days=3, actor="test")
        assert (a.headcount, a.days, a.quantity, a.shortage) == (2, 3, Decimal(3), Decimal(0))
        # default days: until the expected change (next_on - today)
        b = sa.do_allocate(s["d"], warehouse=s["w"], item=s["rice"], actor="test")
    assert b.days == (s["d"].next_on - DAY).days
    assert b.quantity == Decimal(int(-(-2 * b.days * 0.15 // 1)))
    assert b.shortage == b.quantity                      # no rice in stock: flagged
    with clock.frozen(DAY):
        orders = sa.do_issue_allocation(a, actor="test")
    assert len(orders) == 1 and orders[0].household == city["hh_a"] and orders[0].quantity == Decimal(3)
    assert sq.on_hand(s["w"])[s["veg"].pk] == Decimal(97)
    with clock.frozen(DAY):
        sa.do_issue_allocation(b, actor="test")
    b.refresh_from_db()
    assert b.shortage == b.quantity and not StockMovement.objects.filter(allocation=b).exists()


def test_deliveries_delivered_and_failed_with_reason(city, setup):
    s = setup
    sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=10, reason="in", actor="test")
    a = sa.do_allocate(s["d"], warehouse=s["w"], item=s["veg"], days=1, actor="test")
    o = sa.do_issue_allocation(a, actor="test")[0]
    with pytest.raises(ActionError):
        sa.do_mark_failed(o, reason=" ", actor="test")
    sa.do_mark_failed(o, reason="nobody home", actor="test")
    with pytest.raises(ActionError):
        sa.do_mark_delivered(o, actor="test")
    rows = sq.deliveries_by_building(DeliveryOrder.objects.all())
    assert rows == [{"building_id": city["unit_a"].building_id, "planned": 0, "delivered": 0, "failed": 1,
                     "building": "城关区/皋兰路街道/五泉社区/五泉小区/1号楼"}]


def test_stock_out_cannot_exceed_on_hand(setup):
    s = setup
    sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=5, reason="in", actor="test")
    with pytest.raises(ActionError):
        sa.do_move_stock(s["w"], s["veg"], direction="out", quantity=6, reason="out", actor="test")
    with pytest.raises(ActionError):
        sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=1, reason="", actor="test")


def test_reconciliation(setup):
    s = setup
    y = DAY - dt.timedelta(days=1)
    sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=100, reason="in", on=y, actor="test")
    sa.do_move_stock(s["w"], s["veg"], direction="out", quantity=30, reason="issued", on=y, actor="test")
    sa.do_move_stock(s["w"], s["rice"], direction="in", quantity=10, reason="in", on=y, actor="test")
    sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=50, reason="today", on=DAY, actor="test")
    sa.do_count_stock(s["w"], s["veg"], counted=70, on=y, actor="test")
    sa.do_count_stock(s["w"], s["rice"], counted=9, on=y, actor="test")
    rec = sa.do_reconcile(s["w"], on=y, actor="test")
    lines = {ln["item"]: ln for ln in rec.lines}
    assert Decimal(lines["蔬菜包"]["in"]) == 100 and Decimal(lines["蔬菜包"]["out"]) == 30
    assert Decimal(lines["蔬菜包"]["difference"]) == 0        # today's movement is not counted for y
    assert Decimal(lines["粮油包"]["difference"]) == 1 and not rec.balanced
    sa.do_count_stock(s["w"], s["rice"], counted=10, on=y, actor="test")
    with clock.frozen(DAY):
        out = sa.do_close_day(DAY, actor="test")
    assert out == {"day": y.isoformat(), "warehouses": 1, "unbalanced": 0}


@pytest.mark.parametrize("price,rise,alert", [("22", "10.0", False), ("22.01", "10.1", True), ("18", "-10.0", False)])
def test_price_alerts(setup, price, rise, alert):
    r = sa.do_report_price(setup["veg"], market="东岗市场", price=price, on=DAY, actor="test")
    assert r.rise_pct == Decimal(rise) and r.alert is alert


def test_dashboard(city, setup, commander, worker, as_user, django_assert_max_num_queries):
    s = setup
    sa.do_move_stock(s["w"], s["veg"], direction="in", quantity=10, reason="in", actor="test")
    a = sa.do_allocate(s["d"], warehouse=s["w"], item=s["veg"], days=1, actor="test")
    sa.do_issue_allocation(a, actor="test")
    sa.do_report_price(s["veg"], market="东岗市场", price="30", actor="test")
    c = as_user(commander)
    c.get("/supplies/")
    with django_assert_max_num_queries(20):
        body = c.get("/supplies/").content.decode()
    assert "东岗市场" in body and "1号楼" in body and "style=" not in body
    assert as_user(worker).get("/supplies/deliveries/").status_code == 200

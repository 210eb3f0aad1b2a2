"""Command orders: fan-out, acknowledgement, progress, completion, escalation timing, revision, withdrawal,
the scoping of recipients, and notifications sent exactly once after the commit."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.command import actions, queries
from cordon.command.models import OrderVersion, Recipient
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry, Notification
from tests.conftest import _user
from tests.core.test_notify import T0, _outbox  # noqa: F401  (the test sender and the clock at T0, autouse)


@pytest.fixture
def street_officer(city):
    return _user("street_a", "street_officer", city["street"])


def _send(actor, **kw):
    args = {"title": "全员核酸", "text": "今日 18:00 前完成本社区全员核酸", "due": T0 + dt.timedelta(hours=8),
            "to": ["城关区/皋兰路街道"], "level": "community", "priority": "urgent", "basis": "指挥部决定 3号"}
    args.update(kw)
    return actions.do_send_order(actor=actor, **args)


def test_fan_out_to_every_community_of_a_street(commander, worker, outsider, street_officer):
    order = _send(commander)
    labels = sorted(Recipient.objects.filter(order=order).values_list("label", flat=True))
    assert labels == ["城关区/皋兰路街道/五泉社区", "城关区/皋兰路街道/白银路社区"]
    assert order.ref == "O20260302-0001"
    # the staff of each community are told (the street officer is not a recipient unit's staff)
    told = sorted(Notification.objects.filter(kind="order").values_list("user__username", flat=True))
    assert told == ["worker_a", "worker_b"]
    n = Notification.objects.get(user=worker, kind="order")
    assert (n.text_en, n.text_zh) == ("New order O20260302-0001 (Urgent): 全员核酸", "新指令 O20260302-0001（紧急）：全员核酸") and n.url == f"/orders/{order.pk}/"
    assert AuditEntry.objects.filter(action="order.send", object_id=str(order.pk)).count() == 1
    assert OrderVersion.objects.filter(order=order).count() == 1


def test_whole_city_by_district_officer_is_refused(district_officer, worker):
    with pytest.raises(ActionError) as e:
        _send(district_officer, to=["*"])
    assert e.value.field == "to" and e.value.rule == "order-outside-jurisdiction"


def test_recipient_outside_the_senders_jurisdiction_is_refused(city, worker, outsider):
    from cordon.core.models import Grant

    Grant.objects.create(user=worker, role="district_officer", area=city["community_a"])  # sends in A only
    with pytest.raises(ActionError) as e:
        _send(worker, to=["城关区/皋兰路街道/白银路社区"])
    assert e.value.rule == "order-outside-jurisdiction" and "白银路社区" in str(e.value)
    with pytest.raises(ActionError):
        _send(worker, to=["城关区/没有这个街道"])
    assert not Recipient.objects.exists() and not Notification.objects.exists()


def test_role_and_named_staff(commander, worker, outsider):
    order = _send(commander, to=[], level="", role="community_worker")
    assert sorted(Recipient.objects.filter(order=order).values_list("label", flat=True)) == ["worker_a", "worker_b"]
    o2 = _send(commander, to=[], level="", users=["worker_b"])
    assert list(Recipient.objects.filter(order=o2).values_list("user__username", flat=True)) == ["worker_b"]
    with pytest.raises(ActionError):
        _send(commander, to=[], level="", users=["nobody"])


def test_read_acknowledge_progress_complete(commander, worker, outsider):
    order = _send(commander)
    mine = queries.received(worker).get()
    assert mine.label == "城关区/皋兰路街道/五泉社区"
    with clock.frozen(T0 + dt.timedelta(minutes=3)):
        actions.do_read_order(mine, actor=worker)
    mine.refresh_from_db()
    assert (mine.status, mine.read_at) == ("read", T0 + dt.timedelta(minutes=3))
    with clock.frozen(T0 + dt.timedelta(minutes=10)):
        actions.do_acknowledge_order(mine, actor=worker)
    mine.refresh_from_db()
    assert (mine.status, mine.acknowledged_at, mine.acknowledged_by) == (
        "acknowledged", T0 + dt.timedelta(minutes=10), "worker_a")
    with pytest.raises(ActionError):
        actions.do_acknowledge_order(mine, actor=worker)
    actions.do_report_progress(mine, note="已采 1200 人", actor=worker)
    with pytest.raises(ActionError) as e:
        actions.do_complete_order(mine, evidence="", actor=worker)
    assert e.value.field == "evidence"
    actions.do_complete_order(mine, evidence="全员完成", numbers={"sampled": 2413}, actor=worker)
    mine.refresh_from_db()
    assert (mine.status, mine.evidence_numbers) == ("done", {"sampled": 2413})
    counts = queries.matrix_counts(order)
    assert (counts["done"], counts["sent"], counts["total"], counts["overdue"]) == (1, 1, 2, 0)
    # the other community's row is not the worker's to change
    theirs = Recipient.objects.get(order=order, label__endswith="白银路社区")
    with pytest.raises(access.Forbidden):
        actions.do_acknowledge_order(theirs, actor=worker)
    assert [a for a in AuditEntry.objects.filter(object_type="order_recipient").order_by("id")
            .values_list("action", flat=True)] == ["order.read", "order.acknowledged", "order.in_progress",
                                                    "order.done"]


def test_escalation_timing(commander, worker, outsider, street_officer):
    order = _send(commander)  # urgent: two hours to acknowledge; due at 17:00
    mine = Recipient.objects.get(order=order, label__endswith="五泉社区")
    actions.do_acknowledge_order(mine, actor=worker)
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=1, minutes=59)) == {"unacknowledged": 0, "overdue": 0}
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=2)) == {"unacknowledged": 1, "overdue": 0}
    late = Recipient.objects.get(order=order, label__endswith="白银路社区")
    assert late.ack_escalated_at == T0 + dt.timedelta(hours=2)
    esc = Notification.objects.filter(kind="escalation")
    assert sorted(esc.values_list("user__username", flat=True)) == ["commander", "street_a"]
    assert esc.first().text_en == "Escalated: 1 units have not acknowledged order O20260302-0001 (白银路社区)"
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=3)) == {"unacknowledged": 0, "overdue": 0}  # once
    # past the deadline (17:00): both open units are overdue, once
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=8)) == {"unacknowledged": 0, "overdue": 0}
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=8, seconds=1)) == {"unacknowledged": 0, "overdue": 2}
    assert actions.do_escalate_orders(T0 + dt.timedelta(hours=9)) == {"unacknowledged": 0, "overdue": 0}
    assert AuditEntry.objects.filter(action="order.escalate").count() == 3


def test_revision_keeps_versions_and_tells_open_recipients(commander, worker, outsider):
    order = _send(commander)
    mine = Recipient.objects.get(order=order, label__endswith="五泉社区")
    actions.do_read_order(mine, actor=worker)
    with pytest.raises(ActionError):
        actions.do_revise_order(order, text="新的", actor=commander, reason="")
    actions.do_revise_order(order, text="改为 20:00 前完成", due=T0 + dt.timedelta(hours=11), actor=commander,
                            reason="采样点增加")
    order.refresh_from_db()
    assert order.version == 2
    v1, v2 = OrderVersion.objects.filter(order=order).order_by("version")
    assert (v1.text, v2.text, v2.changed) == ("今日 18:00 前完成本社区全员核酸", "改为 20:00 前完成", ["text", "due"])
    assert Notification.objects.filter(kind="order_change").count() == 2
    mine.refresh_from_db()
    assert mine.read_version == 1  # sees what changed until it opens version 2
    actions.do_read_order(mine, actor=worker)
    mine.refresh_from_db()
    assert mine.read_version == 2


def test_withdrawal(commander, worker, outsider):
    order = _send(commander)
    mine = Recipient.objects.get(order=order, label__endswith="五泉社区")
    with pytest.raises(ActionError):
        actions.do_withdraw_order(order, actor=commander, reason=" ")
    actions.do_withdraw_order(order, actor=commander, reason="已由区里统一安排")
    with pytest.raises(ActionError) as e:
        actions.do_acknowledge_order(mine, actor=worker)
    assert e.value.rule == "order-withdrawn"
    assert Notification.objects.filter(kind="order_change").count() == 2
    assert actions.do_escalate_orders(T0 + dt.timedelta(days=2)) == {"unacknowledged": 0, "overdue": 0}


def test_a_district_officer_cannot_change_the_citys_order(commander, district_officer, worker):
    order = _send(commander)
    with pytest.raises(access.Forbidden):
        actions.do_withdraw_order(order, actor=district_officer, reason="x")


def test_daily_close_counts(commander, worker, outsider):
    from cordon.situation import registry

    order = _send(commander)  # 09:00, due 17:00, two communities
    mine = Recipient.objects.get(order=order, label__endswith="五泉社区")
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        actions.do_acknowledge_order(mine, actor=worker)
    day = T0.date()
    section = registry.collect(registry.SituationScope.city(), day, names={"commands"})["commands"]
    assert (section["orders_sent"], section["recipients"], section["acknowledged"], section["overdue"]) == (1, 2, 1, 2)
    actions.do_complete_order(mine, evidence="完成", actor=worker)
    section = registry.collect(registry.SituationScope.city(), day, names={"commands"}, detail=True)["commands"]
    assert (section["overdue"], section["ids"]) == (1, ["O20260302-0001"])
    assert queries.day_counts(day + dt.timedelta(days=1))["orders_sent"] == 0

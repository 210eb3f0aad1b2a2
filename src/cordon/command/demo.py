"""Demo step for command orders: from the command centre to every community of 城关区, at various stages.
Yesterday's sampling order (due last night) is done in some communities, acknowledged but overdue in others
and never acknowledged in the rest (escalated to the street and to the sender); today's door-to-door order
is read, acknowledged, in progress and done here and there, and was revised once (the units see what
changed). The demo accounts are told of it all (notifications)."""
from __future__ import annotations

import datetime as dt

from cordon.command import actions
from cordon.command.models import Recipient
from cordon.core import clock
from cordon.places.models import Area

DISTRICT = "城关区"


def _at(day: dt.date, h: int, m: int = 0):
    return clock.frozen(dt.datetime.combine(day, dt.time(h, m), tzinfo=clock.tz()))


def _send(day: dt.date, by: int, title: str, text: str, priority: str, basis: str, commander):
    """An order from the command centre to every community of the district, due at ``by`` o'clock on ``day``."""
    return actions.do_send_order(title=title, text=text, due=dt.datetime.combine(day, dt.time(by), tzinfo=clock.tz()),
                                 to=[DISTRICT], level="community", priority=priority, basis=basis, actor=commander,
                                 reason="demo")


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model

    today = today or clock.today()
    yesterday = today - dt.timedelta(days=1)
    commander = get_user_model().objects.get(username="commander")
    if not Area.objects.filter(path=DISTRICT).exists():
        return
    with _at(yesterday, 8):
        sampling = _send(yesterday, 20, "全员核酸采样", "今日 20:00 前完成本社区全员核酸采样，报告应采、实采人数。",
                         "urgent", "市指挥部第 12 号决定", commander)
    recs = list(Recipient.objects.filter(order=sampling).order_by("label"))
    for i, r in enumerate(recs):
        with _at(yesterday, 9, i % 60):
            if i % 3 != 2:
                actions.do_acknowledge_order(r, actor="demo-unit", reason="demo")
        with _at(yesterday, 18, i % 60):
            if i % 3 == 0:
                actions.do_complete_order(r, evidence="全员采样完成", numbers={"应采": 2400 + i, "实采": 2390 + i},
                                          actor="demo-unit", reason="demo")
    with _at(yesterday, 21):
        actions.do_escalate_orders(actor="demo")
    with _at(today, 7, 30):
        visits = _send(today, 18, "入户排查独居老人", "今日 18:00 前完成辖区独居老人入户排查，登记用药和就医需求。",
                       "routine", "区指挥部部署", commander)
    recs = list(Recipient.objects.filter(order=visits).order_by("label"))
    for i, r in enumerate(recs):
        with _at(today, 7, 40):
            if i % 4 >= 1:
                actions.do_read_order(r, actor="demo-unit")
            if i % 4 >= 2:
                actions.do_acknowledge_order(r, actor="demo-unit", reason="demo")
        with _at(today, 7, 50):
            if i % 4 == 3:
                actions.do_report_progress(r, note="已排查一半", actor="demo-unit")
    with _at(today, 7, 55):
        actions.do_revise_order(visits, text="今日 18:00 前完成辖区独居老人和重病患者入户排查，登记用药和就医需求。",
                                actor=commander, reason="增加重病患者")

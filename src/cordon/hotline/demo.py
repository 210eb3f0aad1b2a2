"""Demo step for the hotline desk: a roster with a gap in the coming week, and tickets in every state,
from calls and from the public form: awaiting a first response (some overdue and escalated), being
handled, feedback given, closed with satisfaction, and a repeat call linked as a duplicate."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.hotline import actions as ha, queries as hq
from cordon.hotline.models import Ticket
from cordon.places.models import Area


def _at(when: dt.datetime):
    return clock.frozen(when)


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    today = today or clock.today()
    tz = clock.tz()
    User = get_user_model()
    operator = User.objects.filter(username="hotline").first() or User.objects.get(username="commander")
    start = dt.datetime.combine(today, dt.time(0, 0), tzinfo=tz)
    # Roster: three 8-hour shifts a day for 7 days, except a night shift missing on day 4.
    names = ["话务员 张敏", "话务员 刘洋", "话务员 马莉"]
    for d in range(8):
        for k in range(3):
            if d == 4 and k == 0:
                continue
            s = start + dt.timedelta(days=d, hours=8 * k)
            ha.do_add_shift(operator_name=names[k], starts=s, ends=s + dt.timedelta(hours=8), actor=operator)
    units = list(Area.objects.filter(kind="unit", path__startswith="城关区/皋兰路街道/").order_by("id")[:6])
    loc = [u.path for u in units] or [""]
    calls = [  # (hours ago, category, text, phone, goal)
        (30, "supplies", "封控第三天，家里米面快吃完了，老人行动不便", "13909311001", "closed"),
        (26, "lift_question", "我们楼什么时候解封？", "13909311002", "closed"),
        (20, "complaint", "志愿者送菜不及时，放在楼下没人通知", "13909311003", "answered"),
        (8, "quarantine_question", "密接居家隔离可以下楼取快递吗？", "13909311004", "responded"),
        (5, "supplies", "需要婴儿奶粉（一段）", "13909311005", "open"),            # supplies: 2 h -> overdue
        (3, "medical", "母亲高血压药吃完了，需要购药", "13909311006", "open"),       # urgent: 15 min -> overdue
        (0.1, "other", "想报名当志愿者", "13909311007", "open"),
        (50, "quarantine_question", "隔离期满为什么还没收到解除通知", "13909311008", "escalated"),
    ]
    made = []
    for i, (ago, cat, text, phone, goal) in enumerate(calls):
        when = clock.now() - dt.timedelta(hours=ago)
        with _at(when):
            t = ha.do_create_ticket(phone=phone, category=cat, text=text, caller=["王女士", "李先生", "赵女士"][i % 3],
                                    location=loc[i % len(loc)], source="web" if i % 4 == 3 else "call",
                                    actor=operator if i % 4 != 3 else "public")
        made.append(t)
        if goal in ("open", "escalated"):
            continue
        with _at(when + dt.timedelta(minutes=10)):
            ha.do_respond_ticket(t, note="已联系社区网格员核实情况", actor=operator)
        if goal == "responded":
            continue
        with _at(when + dt.timedelta(hours=3)):
            ha.do_record_feedback(t, feedback="社区已上门处理，已电话告知来电人处理结果", actor=operator)
        if goal == "answered":
            continue
        with _at(when + dt.timedelta(hours=4)):
            ha.do_close_ticket(t, satisfaction=5 if i == 0 else 4, actor=operator)
    # A repeat call about the infant formula: linked as a duplicate.
    with _at(clock.now() - dt.timedelta(hours=1)):
        ha.do_create_ticket(phone="13909311005", category="supplies", text="再次来电：奶粉什么时候送到？", caller="王女士",
                            location=loc[4 % len(loc)], actor=operator)
    escalated = ha.do_escalate_overdue(clock.now(), actor="demo")
    by = {s: Ticket.objects.filter(status=s).count() for s in ("open", "responded", "answered", "closed", "duplicate")}
    gaps = hq.roster_gaps()
    print(f"Demo hotline: tickets {by}; {escalated} escalated; roster gaps in the next 7 days: {len(gaps)}.")

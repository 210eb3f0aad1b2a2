"""Demo step for the situation: imports the Shanghai 2022 daily counts (a real outbreak's curve to study) and
drafts (commander), approves (a second commander) and publishes the bulletins of the last few demo days, and
signs off the district's daily close of the last days, through the real actions."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from cordon.core import clock
from cordon.cases.models import Infection
from cordon.situation import actions

SHANGHAI = Path("/work/shared/data/shanghai-2022/daily_control_vs_screening.csv")
BULLETIN_DAYS = 3


def _shanghai_file() -> Path | None:
    for p in (SHANGHAI, Path(__file__).resolve().parents[3] / "data" / "shanghai-2022" / SHANGHAI.name):
        if p.exists():
            return p
    return None


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    today = today or clock.today()
    path = _shanghai_file()
    if path is not None:
        rep = actions.do_import_counts(path, series="shanghai-2022", actor="demo")
        print(f"  situation: shanghai-2022 counts, {rep.created + rep.updated + rep.unchanged} days")
    users = get_user_model().objects
    commander = users.filter(username="commander").first() or "demo"
    deputy = users.filter(username="deputy").first() or "demo-deputy"  # a second person approves
    days = sorted(set(Infection.objects.filter(confirmed_on__lte=today).order_by("-confirmed_on")
                      .values_list("confirmed_on", flat=True).distinct()[:BULLETIN_DAYS]))
    if not days:
        days = [today - dt.timedelta(days=i) for i in range(BULLETIN_DAYS, 0, -1)]
    for day in days:
        with clock.frozen(dt.datetime.combine(min(day + dt.timedelta(days=1), today), dt.time(8, 30),
                                              tzinfo=clock.tz())):
            b = actions.do_draft_bulletin(day, actor=commander)
            if b.status == "draft":
                b = actions.do_approve_bulletin(b, actor=deputy)
            if b.status == "approved":
                actions.do_publish_bulletin(b, actor=commander)
    print(f"  situation: bulletins published for {', '.join(d.isoformat() for d in days)}")
    _close_days(today, users.filter(username="district").first() or "demo")


def _close_days(today: dt.date, officer) -> None:
    """The district signs off the last two days' close; the first is reopened with a reason and signed again."""
    from cordon.places.models import Area

    district = Area.objects.filter(kind="district", path="城关区").first()
    if district is None:
        return
    for k in (2, 1):
        day = today - dt.timedelta(days=k)
        with clock.frozen(dt.datetime.combine(day, dt.time(22, 30), tzinfo=clock.tz())):
            c = actions.do_sign_off_day(district, day, actor=officer, note="日清日结")
            if k == 2:
                actions.do_reopen_day(c, reason="漏报一条热线工单，补录后重新签收", actor=officer)
                c = actions.do_sign_off_day(district, day, actor=officer, note="补录后签收")
        print(f"  situation: {district.name} signed off {day} ({len(c.open_items)} open items carried over)")

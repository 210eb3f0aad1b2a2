"""Demo step for the situation: imports the Shanghai 2022 daily counts (a real outbreak's curve to study) and
drafts, approves and publishes the bulletins of the last few demo days through the real actions."""
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
    commander = get_user_model().objects.filter(username="commander").first() or "demo"
    days = sorted(set(Infection.objects.filter(confirmed_on__lte=today).order_by("-confirmed_on")
                      .values_list("confirmed_on", flat=True).distinct()[:BULLETIN_DAYS]))
    if not days:
        days = [today - dt.timedelta(days=i) for i in range(BULLETIN_DAYS, 0, -1)]
    for day in days:
        with clock.frozen(dt.datetime.combine(min(day + dt.timedelta(days=1), today), dt.time(8, 30),
                                              tzinfo=clock.tz())):
            b = actions.do_draft_bulletin(day, actor=commander)
            if b.status == "draft":
                b = actions.do_approve_bulletin(b, actor=commander)
            if b.status == "approved":
                actions.do_publish_bulletin(b, actor=commander)
    print(f"  situation: bulletins published for {', '.join(d.isoformat() for d in days)}")

"""Demo step for key workers: two delivery platforms and their riders (residents of the demo city), samples over
the last days so that some riders are current and some overdue (one never sampled, one overdue since
yesterday, one with a positive on-site sample, which records an infection), and the ``employer`` demo account
linked to the first platform (it then sees that platform's riders only)."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.keyworkers import actions as ka
from cordon.places.models import Resident

PLATFORMS = ("美团外卖（城关站）", "饿了么（城关站）")
RIDERS = 12


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model

    today = today or clock.today()
    User = get_user_model()
    actor = User.objects.get(username="commander")
    people = list(Resident.objects.filter(birth_date__gte=dt.date(1975, 1, 1), birth_date__lte=dt.date(2002, 12, 31))
                  .order_by("id")[:RIDERS])
    if len(people) < RIDERS:
        return
    employers = [ka.do_create_employer(name, kind="delivery_platform", actor=actor, reason="demo")
                 for name in PLATFORMS]
    if User.objects.filter(username="employer").exists():
        ka.do_link_contact(employers[0], username="employer", actor=actor, reason="demo: the platform's contact")
    start = today - dt.timedelta(days=10)
    # (days before today of the latest negative sample, or None: never sampled); delivery: N = 3, so a sample
    # 0..3 days ago is current and 4 or more days ago overdue (5 days ago: overdue since yesterday)
    plan = [0, 1, 2, 3, 4, 5, 6, None, 1, 2, 8, "positive"]
    for i, (person, last) in enumerate(zip(people, plan)):
        w = ka.do_register_key_worker(person, group="delivery", employer=employers[i % 2], registered_on=start,
                                      actor=actor, reason="demo")
        if last is None:
            continue
        if last == "positive":
            ka.do_record_sample(w, result="negative", on=today - dt.timedelta(days=3), actor=actor, reason="demo")
            ka.do_record_sample(w, result="positive", on=today - dt.timedelta(days=1), actor=actor, reason="demo")
            continue
        for back in (last + 6, last + 3, last):
            ka.do_record_sample(w, result="negative", on=today - dt.timedelta(days=back), actor=actor, reason="demo")

"""Demo step for passes: passes of several kinds in 城关区 (delivery, supply, medical, utility, a driver from outside
the city), one revoked with its reason, two checkpoints (one a city exit), and a day of checks by the
``checkpoint`` account: allowed, refused outside the pass's areas, a revoked pass replayed, a forged code."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock, ids
from cordon.passes import actions, signing
from cordon.places.models import Area, Resident


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model

    today = today or clock.today()
    User = get_user_model()
    issuer = User.objects.filter(username="district").first() or User.objects.get(username="commander")
    officer = User.objects.filter(username="checkpoint").first() or User.objects.get(username="commander")
    district = Area.objects.filter(path="城关区").first() or Area.objects.filter(kind="district").order_by("id").first()
    streets = list(Area.objects.filter(kind="street", district_id=district.pk).order_by("id")[:2])
    if not streets:
        return
    inside = Resident.objects.filter(district_id=district.pk).order_by("id")
    people = list(inside[:6])
    week = today + dt.timedelta(days=6)
    made = []
    for kind, who, areas in (("delivery", people[0], [streets[0]]), ("delivery", people[1], streets),
                             ("supply", people[2], [district]), ("medical", people[3], [streets[0]]),
                             ("utility", people[4], [district])):
        made.append(actions.do_issue_pass(kind=kind, areas=areas, valid_from=today - dt.timedelta(days=1),
                                          valid_to=week, holder=who, actor=issuer, reason="demo"))
    driver = actions.do_issue_pass(kind="driver", areas=[district], valid_from=today, valid_to=week,
                                   holder_name="马建军", holder_id_number=ids.make_id_number("620502", dt.date(1979, 4, 12), 31, "M"),
                                   actor=issuer, reason="demo: freight driver from 天水")
    revoked = made[1]
    actions.do_revoke_pass(revoked, reason="骑手已离职 / the rider left the platform", actor=issuer)
    gate = actions.do_create_checkpoint("城关区东岗卡口", area=streets[0], actor=issuer, reason="demo")
    exit_gate = actions.do_create_checkpoint("兰州东收费站出城卡口", area=district, city_exit=True, actor=issuer,
                                             reason="demo")
    morning = clock.now().replace(hour=8, minute=0, second=0, microsecond=0)
    other = district  # outside the first delivery pass's street
    checks = [(made[0], gate, None), (made[2], gate, None), (made[3], gate, None), (revoked, gate, None),
              (made[0], None, other), (driver, gate, None), (made[4], exit_gate, None)]
    for n, (p, cp, area) in enumerate(checks):
        with clock.frozen(morning + dt.timedelta(minutes=17 * n)):
            actions.do_check_pass(token=signing.token_for(p), checkpoint=cp, area=area, actor=officer)
    token = signing.token_for(made[0])
    with clock.frozen(morning + dt.timedelta(hours=3)):
        actions.do_check_pass(token=token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), checkpoint=gate,
                              actor=officer)

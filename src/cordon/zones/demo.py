"""Demo step for risk areas: three weeks of a small outbreak, replayed day by day through the real actions,
so the command view shows areas at several levels, lifted areas under observation and closed, an open
proposal, numbered notices, and one area kept past its date (flagged, nine prohibitions #3)."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.cases.actions import do_record_infection
from cordon.cases.queries import residents_not_yet_infections
from cordon.core.actions import do_set_pack
from cordon.places.models import Area
from cordon.zones import actions as za, queries as zq
from cordon.zones.models import Designation, Flag, Proposal

HOME_A = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
HAND_ROUNDS_UNTIL = 15  # day of the replay from which full-area rounds are not recorded by hand


def _units(prefix: str, n: int, skip=()) -> list:
    qs = Area.objects.filter(kind="unit", path__startswith=prefix + "/").exclude(path__in=list(skip)).order_by("id")
    return list(qs[:n])


def _pick(prefix: str, kind: str, n: int = 1, exclude_prefix: str = ""):
    qs = Area.objects.filter(kind=kind, path__startswith=prefix + "/").order_by("id")
    if exclude_prefix:
        qs = qs.exclude(path__startswith=exclude_prefix)
    return list(qs[:n])


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model


    today = today or clock.today()
    start = today - dt.timedelta(days=20)
    commander = get_user_model().objects.get(username="commander")
    home_a = Area.objects.get(path=HOME_A)
    community_a = "城关区/皋兰路街道/五泉社区"
    wuquan = _units(community_a, 6, skip=[HOME_A])
    # one unit from each of several other streets, so the outbreak spreads over the city
    other = []
    for street in Area.objects.filter(kind="street").exclude(path="城关区/皋兰路街道").order_by("id")[:40:5]:
        other += _units(street.path, 1)
    other = (other + _units("城关区", 12, skip=[HOME_A]))[:8]
    qilihe = _pick("七里河区", "compound", 1) or _pick("城关区", "compound", 1, exclude_prefix=community_a)
    visited = _pick("城关区", "building", 3, exclude_prefix=community_a)

    do_set_pack("ninth-edition", effective_from=start, actor=commander, reason="第九版防控方案")
    plan = {
        0: [("P1", home_a, "community", visited[:1], True)],
        5: [("P2", other[0], "community", [], True)],
        8: [("P3", wuquan[0], "community", visited[1:2], True), ("P4", wuquan[0], "controlled_area", [], False)],
        14: [("P5", wuquan[1], "community", [], True), ("P6", other[1], "community", [], True)],
        16: [("P7", other[2], "quarantine_site", [], False)],
        18: [("P8", other[3], "community", [], True)],
        20: [("P9", other[4], "community", [], False)],
    }
    n = 0
    for k in range(0, 21):
        day = start + dt.timedelta(days=k)
        with clock.frozen(dt.datetime.combine(day, dt.time(0, 5), tzinfo=clock.tz())):
            za.do_tick(day, actor="demo")
        with clock.frozen(dt.datetime.combine(day, dt.time(10, 0), tzinfo=clock.tz())):
            for label, home, found, places, confirm in plan.get(k, []):
                n += 1
                # the person is a resident of that unit: their page shows the infection (and later orders)
                # (one not already an infection: one person, one bed)
                person = residents_not_yet_infections(home.pk).order_by("id").first()
                do_record_infection(label=f"兰州-{day:%m%d}-{label}", home=home, found=found, confirmed_on=day,
                                    visited=places, resident=person, actor=commander, reason="demo outbreak")
                if confirm:
                    for p in Proposal.objects.filter(status="open", kind__in=["new", "reseal"]).order_by("id"):
                        if p.area_id == home.pk or (p.level == "medium" and k < 10):
                            za.do_confirm_proposal(p, actor=commander, on=day)
            if k == 3 and qilihe:
                d = za.do_designate(qilihe[0], "medium", on=day, reason="多名感染者曾在此停留（暴露场所）",
                                    exposure_note="农贸市场", actor=commander)
            if k == 9 and qilihe:
                d = Designation.objects.get(area=qilihe[0])
                za.do_keep(d, on=day, reason="街道申请延长管控，待评估", actor=commander)
        with clock.frozen(dt.datetime.combine(day, dt.time(22, 0), tzinfo=clock.tz())):
            # rounds of the last days are left to the screening demo: one is held as a screening round and
            # closed (counting for the area's clock), the others stay missing (flagged, #3)
            for d in zq.rounds_due(day) if k < HAND_ROUNDS_UNTIL else ():
                za.do_record_round(d, on=day, result="negative", actor="demo", reason="全员核酸 (demo)")
            if k % 4 == 0:
                za.do_publish_notice(actor=commander, effective=day)
    active = Designation.objects.filter(status="active")
    print(f"Demo outbreak: {n} infections over 21 days; {active.filter(level='high').count()} high and "
          f"{active.filter(level='medium').count()} medium areas now, "
          f"{Designation.objects.filter(status='observation').count()} under observation, "
          f"{Designation.objects.filter(status='closed').count()} closed, "
          f"{Proposal.objects.filter(status='open').count()} open proposals, "
          f"{Flag.objects.filter(on=today).count()} guardrail flags today.")

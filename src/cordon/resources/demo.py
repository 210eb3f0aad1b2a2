"""Demo step for resources: a volunteer team in each community with sealed buildings, with staff, samplers and
drivers; delivery vans; today's shifts in the sealed buildings (one building with staff only: the gap the
pages and the daily close flag); the district's lab, its capacity just above the tubes of its next round
(near capacity). A volunteer account (the demo's ``volunteer``) is the record of one volunteer of its community's
team (``Person.user``)."""
from __future__ import annotations

import datetime as dt
import math

from cordon.core import clock
from cordon.places.models import Area
from cordon.resources import actions as ra, queries
from cordon.resources.models import PersonKind

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("建华", "秀兰", "志强", "海燕", "国栋", "晓梅", "永红", "文博", "丽娟", "德明", "春花", "子涵")
SKILLS = {PersonKind.VOLUNTEER: ["delivery"], PersonKind.STAFF: ["first_aid"], PersonKind.SAMPLER: ["sampling"],
          PersonKind.DRIVER: ["driving"]}


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]


def run(today: dt.date | None = None) -> None:
    from django.contrib.auth import get_user_model

    from cordon.core.models import Grant, Role

    today = today or clock.today()
    actor = get_user_model().objects.get(username="commander")
    # volunteer accounts by the community they are granted: each becomes one volunteer's record
    accounts = {g.area_id: g.user for g in Grant.objects.filter(role=Role.VOLUNTEER, area__kind="community")
                .select_related("user").order_by("id")}
    buildings = list(Area.objects.filter(pk__in=list(queries.sealed_buildings(today))).order_by("path"))
    n, teams, shifts = 0, {}, 0
    for b in buildings:
        community = Area.objects.get(pk=b.community_id)
        if community.pk in teams:
            continue
        team = ra.do_create_team(f"{community.name}志愿服务队", kind="volunteer", area=community, actor=actor,
                                 reason="demo")
        members = []
        for kind in (PersonKind.VOLUNTEER,) * 4 + (PersonKind.STAFF, PersonKind.DRIVER):
            members.append(ra.do_register_person(
                _name(n), kind=kind, area=community, phone=f"1390931{5000 + n:04d}", skills=SKILLS[kind],
                team=team if kind == PersonKind.VOLUNTEER else None, actor=actor, reason="demo",
                user=accounts.pop(community.pk, None) if kind == PersonKind.VOLUNTEER else None))
            n += 1
        van = ra.do_add_van(f"甘A·P{len(teams) + 1:04d}", area=community, team=team, actor=actor, reason="demo")
        teams[community.pk] = (team, members, van)
    for community_id, account in accounts.items():  # a community with no sealed building: no team there
        ra.do_register_person(_name(n), kind=PersonKind.VOLUNTEER, area=Area.objects.get(pk=community_id),
                              skills=SKILLS[PersonKind.VOLUNTEER], user=account, actor=actor, reason="demo")
        n += 1
    district = Area.objects.filter(kind="district").order_by("id").first()
    if district is not None:
        sampling = ra.do_create_team("城关区采样一队", kind="sampling", area=district, actor=actor, reason="demo")
        for _i in range(3):
            ra.do_register_person(_name(n), kind=PersonKind.SAMPLER, area=district, skills=["sampling"],
                                  team=sampling, actor=actor, reason="demo")
            n += 1
    for i, b in enumerate(buildings):
        team, members, van = teams[b.community_id]
        staff = [p for p in members if p.kind == PersonKind.STAFF]
        if i == len(buildings) - 1 and len(buildings) > 1:  # the gap: staff only, no volunteer
            ra.do_plan_shift(area=b, on=today, start=dt.time(8), end=dt.time(20), people=staff, actor=actor,
                             note="志愿者待补充", reason="demo")
        else:
            volunteers = [p for p in members if p.kind == PersonKind.VOLUNTEER]
            ra.do_plan_shift(area=b, on=today, start=dt.time(8), end=dt.time(20),
                             people=volunteers[i % 2::2], van=van if i % 2 == 0 else None, actor=actor,
                             reason="demo")
        shifts += 1
    lab_note = ""
    if district is not None:
        lab = ra.do_register_lab("城关区疾控中心实验室", area=district, tubes_per_day=1, actor=actor, reason="demo")
        row = next((x for x in queries.lab_load(queries.Within.of(actor), today) if x["area"].pk == district.pk), None)
        tubes = row["tubes"] if row and row["tubes"] else 1900
        ra.do_set_lab_capacity(lab, math.ceil(tubes / 0.95), actor=actor, reason="demo: two shifts")
        lab_note = f"; lab {lab.name}: {tubes} tubes for its next round against {math.ceil(tubes / 0.95)} a day"
    print(f"Demo resources: {len(teams)} volunteer teams, {n} people, {shifts} shifts in sealed buildings today "
          f"({len(queries.uncovered_sealed_buildings(queries.Within.of(actor), today))} without a volunteer)"
          f"{lab_note}")

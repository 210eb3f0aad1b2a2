"""The gap rules with exact data: sealed buildings with no volunteer on duty; lab catchments over (or near)
capacity for their next screening round; the daily close counts them."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import access
from cordon.resources import actions as ra, queries
from cordon.resources.queries import Within
from tests.resources._rfixtures import res  # noqa: F401

pytestmark = pytest.mark.django_db

CITY = Within(access.Scope(True, {lv: frozenset() for lv in access.LEVELS}))


def test_sealed_building_without_a_volunteer_is_a_gap(city, res):
    on = res["today"]
    assert set(queries.sealed_buildings(on)) == {res["building_1"].pk, res["building_2"].pk}
    gaps = queries.uncovered_sealed_buildings(CITY, on)
    assert [(g["building"].path, g["other_shift"]) for g in gaps] == [
        ("城关区/皋兰路街道/五泉社区/五泉小区/6号楼", True)]
    # the volunteer stood down: building 1 has nobody left from its team
    ra.do_assign_person(res["volunteer_a"], team=res["team_a"], active=False, actor="test")
    assert [g["building"].pk for g in queries.uncovered_sealed_buildings(CITY, on)] == [
        res["building_1"].pk, res["building_2"].pk]


def test_a_volunteer_on_a_unit_covers_its_building_and_a_cancelled_shift_does_not(city, res):
    on = res["today"]
    vol2 = ra.do_register_person("周志愿", kind="volunteer", area=city["community_a"], actor="test")
    s = ra.do_plan_shift(area=res["unit_a2"], on=on, start=dt.time(20), end=dt.time(8), people=[vol2], actor="test")
    assert queries.uncovered_sealed_buildings(CITY, on) == []
    ra.do_cancel_shift(s, actor="test", reason="sick")
    assert len(queries.uncovered_sealed_buildings(CITY, on)) == 1
    # another day: no shift at all, both sealed buildings are gaps
    assert len(queries.uncovered_sealed_buildings(CITY, on + dt.timedelta(days=1))) == 2


def test_a_lifted_building_is_no_longer_a_gap(city, res):
    from cordon.zones.actions import do_lift

    do_lift(res["designation_2"], reason="assessed", actor="test")
    assert queries.uncovered_sealed_buildings(CITY, res["today"]) == []


def test_lab_over_capacity_for_the_next_round(city, res):
    on = res["today"]
    rows = {x["area"].path: x for x in queries.lab_load(CITY, on)}
    a = rows["城关区"]
    # community A: 1200 people / pools of 10 = 120 tubes today against 100 a day
    assert (a["day"], a["tubes"], a["capacity"], a["over"], a["near"], a["rounds"]) == (
        on, 120, 100, True, True, ["五泉社区全员"])
    b = rows["城关区/皋兰路街道/白银路社区"]
    # community B's nearer lab: 550 / 10 = 55 tubes tomorrow against 60 (92 %: near, not over)
    assert (b["day"], b["tubes"], b["capacity"], b["over"], b["near"]) == (on + dt.timedelta(days=1), 55, 60, False,
                                                                           True)
    ra.do_set_lab_capacity(res["lab_a"], 120, actor="test", reason="second shift")
    a = {x["area"].path: x for x in queries.lab_load(CITY, on)}["城关区"]
    assert (a["over"], a["near"]) == (False, True)
    # from tomorrow on, community A's round is past: the district lab has no round coming
    a = {x["area"].path: x for x in queries.lab_load(CITY, on + dt.timedelta(days=1))}["城关区"]
    assert (a["day"], a["tubes"], a["over"]) == (None, 0, False)


def test_tubes_no_lab_takes_are_a_gap_of_their_district(city, res):
    from cordon.resources.models import Lab

    Lab.objects.all().update(active=False)
    rows = queries.lab_load(CITY, res["today"])
    assert [(x["area"].path, x["tubes"], x["capacity"], x["no_lab"], x["over"]) for x in rows] == [
        ("城关区", 120, 0, True, True)]  # the next day of the district is today's round


def test_gaps_are_scoped(city, res, outsider, worker):
    on = res["today"]
    assert queries.uncovered_sealed_buildings(Within.of(outsider), on) == []
    assert [x["area"].name for x in queries.lab_load(Within.of(outsider), on)] == ["白银路社区"]
    assert len(queries.uncovered_sealed_buildings(Within.of(worker), on)) == 1
    # not the district's catchment; the compound's lab, with no round of its own coming
    assert [(x["area"].name, x["day"]) for x in queries.lab_load(Within.of(worker), on)] == [("五泉小区", None)]


def test_daily_close_counts_the_gaps(city, res, commander):
    from cordon.situation.registry import SituationScope
    from cordon.situation.sections import resources

    out = resources(SituationScope.for_user(commander), res["today"], detail=True)
    assert (out["sealed_buildings"], out["uncovered"], out["labs_over"], out["labs_near"]) == (2, 1, 1, 1)
    assert out["ids"] == {"uncovered": [res["building_2"].pk], "labs_over": [city["district"].pk]}
    from cordon.situation import daily

    group = next(g for g in daily.groups(daily.collect(SituationScope.for_user(commander), res["today"],
                                                       detail=True), res["today"]) if g["key"] == "resources")
    assert [r["value"] for r in group["rows"]] == [2, 1, 1, 1]

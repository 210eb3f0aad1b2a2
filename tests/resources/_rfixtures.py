"""Resources fixtures on the personas' city: in community A two sealed buildings (5号楼 with a volunteer on
duty, 6号楼 with staff only: a gap), a volunteer team, a van, a lab for the district that the day's round over
community A overfills, a lab for community B; in community B one volunteer."""
from __future__ import annotations

import datetime as dt

import pytest

BUILDING_1_UNIT = "城关区/皋兰路街道/五泉社区/五泉小区/5号楼/1单元"
BUILDING_2_UNIT = "城关区/皋兰路街道/五泉社区/五泉小区/6号楼/1单元"


def resources_records(city) -> dict:
    from cordon.core import clock
    from cordon.places.actions import do_ensure_area
    from cordon.places.models import Area
    from cordon.resources import actions as ra
    from cordon.screening.actions import do_create_round
    from cordon.zones.actions import do_designate

    today = clock.today()
    unit_a1 = do_ensure_area(BUILDING_1_UNIT, actor="test")
    unit_a2 = do_ensure_area(BUILDING_2_UNIT, actor="test")
    d1 = do_designate(unit_a1, "high", reason="R-P1", exposure_note="home of R-P1", actor="test")
    d2 = do_designate(unit_a2, "high", reason="R-P2", exposure_note="home of R-P2", actor="test")
    team = ra.do_create_team("五泉志愿队", kind="volunteer", area=city["community_a"], actor="test")
    vol = ra.do_register_person("赵志愿", kind="volunteer", area=city["community_a"], phone="13900001111",
                                skills=["first_aid", "delivery"], team=team, actor="test")
    staff = ra.do_register_person("钱干部", kind="staff", area=city["community_a"], phone="13900002222", actor="test")
    vol_b = ra.do_register_person("孙志愿", kind="volunteer", area=city["community_b"], actor="test")
    van = ra.do_add_van("甘A·V001", area=city["community_a"], team=team, actor="test")
    b1 = unit_a1.parent
    shift_1 = ra.do_plan_shift(area=b1, on=today, start=dt.time(8), end=dt.time(20), team=team, van=van, actor="test")
    shift_2 = ra.do_plan_shift(area=unit_a2, on=today, start=dt.time(8), end=dt.time(20), people=[staff],
                               actor="test")
    Area.objects.filter(pk=city["community_a"].pk).update(population=1200)
    Area.objects.filter(pk=city["community_b"].pk).update(population=550)
    lab = ra.do_register_lab("城关区疾控实验室", area=city["district"], tubes_per_day=100, actor="test")
    lab_b = ra.do_register_lab("白银路检测点", area=city["community_b"], tubes_per_day=60, actor="test")
    # a lab for one compound: no round covers only that compound, so no round's tubes go to it
    lab_c = ra.do_register_lab("五泉小区检测点", area=unit_a1.parent.parent, tubes_per_day=40, actor="test")
    round_a = do_create_round(name="五泉社区全员", on=today, areas=[city["community_a"]], actor="test")
    round_b = do_create_round(name="白银路社区全员", on=today + dt.timedelta(days=1), areas=[city["community_b"]],
                              actor="test")
    return {"unit_a1": unit_a1, "unit_a2": unit_a2, "building_1": b1, "building_2": unit_a2.parent, "designation_1": d1,
            "designation_2": d2, "team_a": team, "volunteer_a": vol, "staff_a": staff, "volunteer_b": vol_b,
            "van_a": van, "shift_a": shift_1, "shift_staff_a": shift_2, "lab_a": lab, "lab_b": lab_b, "lab_compound_a": lab_c,
            "round_a": round_a, "round_b": round_b, "today": today}


@pytest.fixture
def res(city):
    return resources_records(city)

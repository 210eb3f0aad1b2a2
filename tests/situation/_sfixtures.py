"""A known day (2022-11-08) in the personas' city plus a second district: infections found in the community,
in a controlled area and in a quarantine site, a designation, a lift, close contacts, a facility."""
from __future__ import annotations

import datetime as dt

DAY = dt.date(2022, 11, 8)
UNIT_C = "七里河区/敦煌路街道/西湖社区/西湖小区/3号楼/2单元"


def situation_records(city) -> dict:
    from cordon.cases import actions as ca
    from cordon.core import clock
    from cordon.places.actions import do_ensure_area
    from cordon.zones import actions as za

    unit_c = do_ensure_area(UNIT_C, actor="test")
    unit_a2 = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元", actor="test")
    with clock.frozen(DAY - dt.timedelta(days=3)):
        earlier = ca.do_record_infection(label="E-1", home=unit_a2, found="community",
                                         confirmed_on=DAY - dt.timedelta(days=3), actor="test")
        lifted = za.do_designate(unit_a2, "high", reason="E-1 lives here", infections=[earlier], actor="test")
    with clock.frozen(DAY):
        i1 = ca.do_record_infection(label="D-1", home=city["unit_a"], found="community", confirmed_on=DAY, actor="test")
        ca.do_record_infection(label="D-2", home=city["unit_a"], found="community", confirmed_on=DAY, actor="test")
        ca.do_record_infection(label="D-3", home=city["unit_a"], found="controlled_area", kind="asymptomatic",
                               confirmed_on=DAY, actor="test")
        ca.do_record_infection(label="D-4", home=city["unit_b"], found="quarantine_site", kind="asymptomatic",
                               confirmed_on=DAY, actor="test")
        ca.do_record_infection(label="D-5", home=unit_c, found="community", confirmed_on=DAY, actor="test")
        d = za.do_designate(city["unit_a"], "high", reason="D-1, D-2 live here", infections=[i1], actor="test")
        za.do_lift(lifted, reason="assessed: no new case", actor="test")
        ca.do_register_contact(i1, label="K-1", last_exposure=DAY - dt.timedelta(days=1), identified_on=DAY,
                               home=city["unit_a"], actor="test")
        ca.do_register_contact(i1, label="K-2", last_exposure=DAY - dt.timedelta(days=1), identified_on=DAY,
                               home=city["unit_b"], actor="test")
        fac = ca.do_create_facility(name="五泉隔离点", kind="quarantine_site", area=city["community_a"], capacity=10,
                                    actor="test")
    return {"unit_c": unit_c, "unit_a2": unit_a2, "designation": d, "lifted": lifted, "facility": fac,
            "infection": i1}

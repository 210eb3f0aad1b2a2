"""Cases fixtures on top of the personas' city: an infection in community A with its response tasks, close
contacts under orders (one with a positive test), a contact who became an infection with a contact of its own,
a quarantine site in community A with one person placed, an outside region and an arrival."""
from __future__ import annotations

import datetime as dt

import pytest


def cases_records(city) -> dict:
    """Records in community A (unit A), as the actions make them; used by the scoping test too."""
    from cordon.cases import actions as ca
    from cordon.core import clock

    today = clock.today()
    inf = ca.do_record_infection(label="C-P1", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    order = ca.do_register_contact(inf, label="C-K1", last_exposure=today - dt.timedelta(days=1),
                                   identified_on=today, home=city["unit_a"], actor="test")
    positive = ca.do_register_contact(inf, label="C-K2", last_exposure=today - dt.timedelta(days=1),
                                      identified_on=today, home=city["unit_a"], actor="test")
    ca.do_record_checkin(positive, on=today, test_result="positive", actor="test")
    facility = ca.do_create_facility(name="五泉隔离点", kind="quarantine_site", area=city["community_a"], capacity=3,
                                     actor="test")
    placed = ca.do_register_contact(inf, label="C-K3", last_exposure=today - dt.timedelta(days=1),
                                    identified_on=today, home=city["unit_a"], actor="test")
    placement = ca.do_place(facility, order=placed, actor="test")
    region = ca.do_upsert_outside_region(name="某市某区", level="high", actor="test")
    arrival, _ = ca.do_register_arrival(label="C-A1", from_level="low", kind="student", arrived_on=today,
                                        destination=city["unit_a"], region=None, actor="test")
    return {"infection_a": inf, "task_a": inf.tasks.get(step="transfer"), "order_a": order,
            "order_positive_a": positive, "facility_a": facility, "placement_a": placement, "region": region,
            "arrival_a": arrival, "placed_order_a": placed}


@pytest.fixture
def cases(city):
    return cases_records(city)

"""Risk-area fixtures on top of the personas' city: more units in community A, an infection that proposes."""
from __future__ import annotations

import datetime as dt

import pytest

UNIT_A2 = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元"
UNIT_A3 = "城关区/皋兰路街道/五泉社区/五泉小区/2号楼/1单元"


@pytest.fixture
def units(city):
    from cordon.places.actions import do_ensure_area

    return {"a2": do_ensure_area(UNIT_A2, actor="test"), "a3": do_ensure_area(UNIT_A3, actor="test")}


@pytest.fixture
def infection_a(city, commander):
    """P1 lives in unit A (community 五泉社区): proposes a high-risk designation of unit A."""
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    return do_record_infection(label="P1", home=city["unit_a"], found="community", confirmed_on=clock.today(),
                               resident=city["resident_a2"], actor=commander)


def designate(area, level="high", reason="P1 lives here", infections=(), actor="test", on=None):
    from cordon.zones.actions import do_designate

    return do_designate(area, level, reason=reason, infections=infections, actor=actor, on=on)


@pytest.fixture
def designation_a(city, infection_a):
    return designate(city["unit_a"], infections=[infection_a])


@pytest.fixture
def designation_b(city):
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    inf = do_record_infection(label="P2", home=city["unit_b"], found="community", confirmed_on=clock.today(),
                              actor="test")
    return designate(city["unit_b"], reason="P2 lives here", infections=[inf])


def today():
    from cordon.core import clock

    return clock.today()


def days(n):
    return dt.timedelta(days=n)

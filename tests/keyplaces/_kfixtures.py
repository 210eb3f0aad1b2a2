"""Key places on the personas' city: a nursing home in 五泉小区 (community A), a market in community B."""
from __future__ import annotations

import datetime as dt

import pytest

D0 = dt.date(2022, 11, 8)
COMPOUND_A = "城关区/皋兰路街道/五泉社区/五泉小区"


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


@pytest.fixture
def home(city):
    """A nursing home in compound A (tests every 2 days in its loop, 5 days of off-shift monitoring)."""
    from cordon.core import clock
    from cordon.keyplaces.actions import do_register_place
    from cordon.places.models import Area

    with clock.frozen(dt.datetime(2022, 11, 8, 8, 0, tzinfo=clock.tz())):
        return do_register_place(ref="NH1", name="五泉养老院", kind="nursing_home",
                                 area=Area.objects.get(path=COMPOUND_A), capacity=120, counts={"residents": 80},
                                 test_every_days=2, monitor_days=5, on=D0, actor="test")


@pytest.fixture
def market(city):
    from cordon.keyplaces.actions import do_register_place

    return do_register_place(ref="MK1", name="白银路市场", kind="market", area=city["unit_b"], on=D0, actor="test")


@pytest.fixture
def manager(city):
    return _manager_of("keyplace_a", COMPOUND_A)


def keyplace_records(city) -> dict:
    """For the API's scoping cases: a nursing home in compound A with one staff member inside."""
    from cordon.keyplaces.actions import do_add_person, do_register_place
    from cordon.places.models import Area

    place = do_register_place(ref="KP-A", name="五泉养老院", kind="nursing_home",
                              area=Area.objects.get(path=COMPOUND_A), counts={"residents": 80}, actor="test")
    staff = do_add_person(place, name="护工甲", role="staff", actor="test")
    return {"keyplace_a": place, "keyplace_staff_a": staff}


def _manager_of(username, path):
    from cordon.core.actions import do_create_user
    from cordon.places.actions import do_ensure_area

    user, _ = do_create_user(username, "test-pass-2022", role="keyplace_manager",
                             area=do_ensure_area(path, actor="test"), actor="test")
    return user


@pytest.fixture
def keyplace_manager_a(city):
    return _manager_of("keyplace_a", COMPOUND_A)


@pytest.fixture
def keyplace_manager_b(city):
    return _manager_of("keyplace_b", "城关区/皋兰路街道/白银路社区/白银小区")

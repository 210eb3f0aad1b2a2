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
    from cordon.core.actions import do_create_user
    from cordon.places.models import Area

    user, _ = do_create_user("keyplace_a", "test-pass-2022", role="keyplace_manager",
                             area=Area.objects.get(path=COMPOUND_A), actor="test")
    return user

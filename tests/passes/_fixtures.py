"""Shared set-up of the passes tests: a fake key-worker overdue source registered in ``passes.hooks.OVERDUE``."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock

#: resident id -> first overdue day (the fake key-worker register)
OVERDUE_FROM: dict[int, dt.date] = {}


def fake_overdue(person_ids, day):
    return {p for p in person_ids if p in OVERDUE_FROM and day >= OVERDUE_FROM[p]}


@pytest.fixture
def overdue_hook():
    from cordon.passes import hooks
    from cordon.places.hooks import connect

    OVERDUE_FROM.clear()
    connect("test.overdue", fake_overdue, hooks.OVERDUE)
    yield OVERDUE_FROM
    hooks.OVERDUE[:] = [h for h in hooks.OVERDUE if h[0] != "test.overdue"]
    OVERDUE_FROM.clear()


def at(day: dt.date, hour: int = 10):
    return clock.frozen(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz()))

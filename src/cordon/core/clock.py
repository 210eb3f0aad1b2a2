"""The system's notion of "today" and "now" (city time zone).

Domain code asks this module, never ``date.today()``, so that scenarios, tests and the demo can run
simulated days. ``CORDON_TODAY=YYYY-MM-DD`` in the environment pins the date for a whole process;
``frozen(day)`` pins it for a block.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import zoneinfo

_frozen: dt.datetime | None = None
#: while set (``not_after``), a pinned time later than this is pinned at this instead
_ceiling: dt.datetime | None = None


def tz() -> zoneinfo.ZoneInfo:
    from django.conf import settings

    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    if _frozen is not None:
        return _frozen
    env = os.environ.get("CORDON_TODAY")
    real = dt.datetime.now(tz())
    if env:
        day = dt.date.fromisoformat(env)
        return real.replace(year=day.year, month=day.month, day=day.day)
    return real


def today() -> dt.date:
    return now().date()


def freeze(when: dt.date | dt.datetime | None) -> None:
    """Pin the clock (``None`` releases it). A date pins 08:00 city time on that day."""
    global _frozen
    if when is None:
        _frozen = None
    elif isinstance(when, dt.datetime):
        _frozen = when if when.tzinfo else when.replace(tzinfo=tz())
    else:
        _frozen = dt.datetime.combine(when, dt.time(8, 0), tzinfo=tz())
    if _frozen is not None and _ceiling is not None and _frozen > _ceiling:
        _frozen = _ceiling


@contextlib.contextmanager
def not_after(limit: dt.datetime):
    """Within the block, a time pinned later than ``limit`` is pinned at ``limit``: the demo replays its
    days up to the present moment and writes nothing (an audit row, an event) dated after it."""
    global _ceiling
    old = _ceiling
    _ceiling = limit
    try:
        yield
    finally:
        _ceiling = old


@contextlib.contextmanager
def frozen(when):
    global _frozen
    old = _frozen
    freeze(when)
    try:
        yield
    finally:
        _frozen = old

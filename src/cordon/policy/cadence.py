"""Key workers' test cadence (POLICY.md "Key workers, key places, passes and checkpoints"). Pure (no Django).

* A group's cadence is ``times`` tests per ``per_days`` days (the pack's ``key_populations``); the interval
  N = per_days // times (daily: 1; twice a week: 7 // 2 = 3; every three days: 3).
* T = the day of the latest negative sample (the sampling day, not the report day). The worker is **current**
  on days T .. T+N and **overdue** from day T+N+1 while no newer negative sample exists; ``due`` = T+N, the last
  day still current.
* A registered worker with no negative sample yet is overdue from the registration day (``due`` None).
* A positive sample never makes anyone current (it becomes an infection elsewhere).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .pack import Pack

CURRENT = "current"
OVERDUE = "overdue"
STATUSES = (CURRENT, OVERDUE)


def interval(times: int, per_days: int) -> int:
    """N: days a negative sample covers after its own day."""
    if times < 1 or per_days < 1:
        raise ValueError("a cadence needs times >= 1 and per_days >= 1")
    return per_days // times


def group_interval(pack: Pack, group: str) -> int:
    """N for a ``key_populations`` key of ``pack``; KeyError for a group the pack lacks."""
    for c in pack.key_populations:
        if c.key == group:
            return interval(c.times, c.per_days)
    raise KeyError(group)


def groups(pack: Pack) -> tuple[str, ...]:
    return tuple(c.key for c in pack.key_populations)


@dataclass(frozen=True)
class Standing:
    status: str | None        # current / overdue, None before registration
    due: dt.date | None       # last day still current (None before a first negative sample)
    overdue_from: dt.date | None  # first overdue day (registration day without a sample)


def due_day(last_negative: dt.date | None, n: int) -> dt.date | None:
    return None if last_negative is None else last_negative + dt.timedelta(days=n)


def overdue_from(registered: dt.date, last_negative: dt.date | None, n: int) -> dt.date:
    """The first day the worker is overdue (given no newer negative sample)."""
    if last_negative is None:
        return registered
    return last_negative + dt.timedelta(days=n + 1)


def standing(day: dt.date, *, registered: dt.date, last_negative: dt.date | None, n: int) -> Standing:
    """The worker's status on ``day``. ``last_negative`` must be the latest negative sample taken on or before
    ``day`` (a later one does not count yet)."""
    if last_negative is not None and last_negative > day:
        raise ValueError("the latest negative sample must not be after the day asked")
    due = due_day(last_negative, n)
    start = overdue_from(registered, last_negative, n)
    if day < registered and last_negative is None:
        return Standing(None, None, start)
    return Standing(OVERDUE if day >= start else CURRENT, due, start)

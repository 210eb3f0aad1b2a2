"""Risk-area KPIs (issue 3, item 6): how fast areas are sealed, how promptly they are lifted.

Per designation:

* **hours to designate**: from the first linked infection's confirmation to the designation.
  ``Designation.first_infection_at`` holds the earliest ``Infection.reported_at`` of the infections linked
  at designation (else ``confirmed_on`` at 00:00 city time); ``designated_at`` is when the action ran.
  None when no infection was linked (a designation on an exposure place alone).
* **lift delay (days)**: from the first day a lift was due (``eligible_on``, recorded when a keep held the
  area past its date) to the actual lift (``lifted_on``). Automatic lifts happen on the due date, and a
  lift by hand before its date is not late, so both count 0 (the goal). None while still designated.
* **overdue days**: for a designation still held past a due date, today minus ``eligible_on``.

``summary`` folds a queryset into the figures the command view shows, in one query.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from cordon.core import clock
from cordon.zones.models import Status

#: Goal for the time from the first confirmation to the designation (快封: within a day).
DESIGNATE_GOAL_HOURS = 24
#: Goal for the delay between lift eligibility and the lift (快解: none).
LIFT_GOAL_DAYS = 0


def hours_to_designate(first_infection_at: dt.datetime | None, designated_at: dt.datetime | None) -> float | None:
    if first_infection_at is None or designated_at is None:
        return None
    return round(max(0.0, (designated_at - first_infection_at).total_seconds() / 3600), 1)


def lift_delay_days(eligible_on: dt.date | None, lifted_on: dt.date | None) -> int | None:
    if lifted_on is None:
        return None
    if eligible_on is None:
        return 0
    return max(0, (lifted_on - eligible_on).days)


def overdue_days(eligible_on: dt.date | None, lifted_on: dt.date | None, today: dt.date) -> int | None:
    if lifted_on is not None or eligible_on is None:
        return None
    return max(0, (today - eligible_on).days)


@dataclass(frozen=True)
class DesignationKpi:
    hours_to_designate: float | None
    lift_delay_days: int | None
    overdue_days: int | None

    @property
    def designate_over_goal(self) -> bool:
        return self.hours_to_designate is not None and self.hours_to_designate > DESIGNATE_GOAL_HOURS

    @property
    def lift_over_goal(self) -> bool:
        return (self.lift_delay_days or 0) > LIFT_GOAL_DAYS or (self.overdue_days or 0) > LIFT_GOAL_DAYS

    def as_dict(self) -> dict:
        return {"hours_to_designate": self.hours_to_designate, "lift_delay_days": self.lift_delay_days,
                "overdue_days": self.overdue_days}


def of(d, today: dt.date | None = None) -> DesignationKpi:
    """The KPIs of one designation (no query)."""

    today = today or clock.today()
    lifted = d.lifted_on if d.status != Status.ACTIVE else None
    return DesignationKpi(hours_to_designate(d.first_infection_at, d.designated_at),
                          lift_delay_days(d.eligible_on, lifted),
                          overdue_days(d.eligible_on, lifted, today) if d.status == Status.ACTIVE else None)


def designation_kpis(d, today: dt.date | None = None) -> dict:
    """The KPIs of one designation as a plain dict (hours_to_designate, lift_delay_days, overdue_days)."""
    return of(d, today).as_dict()


def _stats(values: list, goal) -> dict:
    if not values:
        return {"count": 0, "median": None, "max": None, "over_goal": 0, "goal": goal}
    med = statistics.median(values)
    return {"count": len(values), "median": round(med, 1) if isinstance(med, float) else med,
            "max": max(values), "over_goal": sum(1 for v in values if v > goal), "goal": goal}


def summarize(rows) -> dict:
    """Summary over (first_infection_at, designated_at, eligible_on, lifted_on, status) tuples."""
    hours, delays = [], []
    for first, at, eligible, lifted, status in rows:
        h = hours_to_designate(first, at)
        if h is not None:
            hours.append(h)
        if status != Status.ACTIVE:
            dl = lift_delay_days(eligible, lifted)
            if dl is not None:
                delays.append(dl)
    return {"designate_hours": _stats(hours, DESIGNATE_GOAL_HOURS), "lift_delay_days": _stats(delays, LIFT_GOAL_DAYS)}


def summary(qs) -> dict:
    """KPI summary of a designation queryset (already scoped by the caller): one query.

    ``designate_hours``: count, median, max and how many took longer than DESIGNATE_GOAL_HOURS;
    ``lift_delay_days``: the same over lifted designations, against LIFT_GOAL_DAYS.
    """
    return summarize(qs.order_by().values_list("first_infection_at", "designated_at", "eligible_on", "lifted_on",
                                               "status"))

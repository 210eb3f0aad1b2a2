"""The check of a pass at a checkpoint (../shared/POLICY.md "Key workers, key places, passes and checkpoints").

On day D for area X a pass is **allowed** only when all conditions hold; otherwise it is **refused** with the
FIRST failing reason in this order: ``revoked``, ``not_yet_valid`` (D < A), ``expired`` (D > B),
``area_not_covered`` (X not inside any of the pass's areas), ``holder_under_order`` (the holder is under an
active quarantine/isolation order on D), ``test_overdue`` (the holder is a key worker overdue on D).

Leaving the city from a low-risk area needs a negative sample within 48 hours before departure (sample time to
departure time <= 48 h). Pure: no Django.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

REASONS = ("revoked", "not_yet_valid", "expired", "area_not_covered", "holder_under_order", "test_overdue")
#: the extra reason an exit checkpoint gives after all of the above hold
NO_RECENT_NEGATIVE = "no_negative_48h"
KINDS = ("delivery", "medical", "utility", "supply", "care_transfer", "driver")
EXIT_WINDOW = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Answer:
    allowed: bool
    reason: str | None = None

    @property
    def result(self) -> str:
        return "allowed" if self.allowed else "refused"


ALLOWED = Answer(True, None)


def covers(area_paths: Iterable[str], path: str) -> bool:
    """Is the area at ``path`` inside one of ``area_paths`` (a pass for a street covers everything inside it)?
    Paths are "/"-separated from the district down."""
    path = path.strip("/")
    for a in area_paths:
        a = a.strip("/")
        if path == a or path.startswith(a + "/"):
            return True
    return False


def check_pass(*, day: dt.date, revoked: bool, valid_from: dt.date, valid_to: dt.date, covered: bool,
               under_order: bool, overdue: bool) -> Answer:
    """The answer for one pass on ``day``: the first failing reason in POLICY.md's order, or allowed."""
    if revoked:
        return Answer(False, "revoked")
    if day < valid_from:
        return Answer(False, "not_yet_valid")
    if day > valid_to:
        return Answer(False, "expired")
    if not covered:
        return Answer(False, "area_not_covered")
    if under_order:
        return Answer(False, "holder_under_order")
    if overdue:
        return Answer(False, "test_overdue")
    return ALLOWED


def negative_within_48h(sampled_at: dt.datetime | None, departure: dt.datetime) -> bool:
    """A negative sample taken at ``sampled_at`` qualifies for a departure at ``departure``: taken before it and
    at most 48 hours before (sample time to departure time <= 48 h)."""
    return sampled_at is not None and sampled_at <= departure and departure - sampled_at <= EXIT_WINDOW


def check_exit(answer: Answer, *, low_risk: bool, sampled_at: dt.datetime | None, departure: dt.datetime) -> Answer:
    """At a city-exit checkpoint: a pass that is otherwise allowed, leaving from a low-risk area, also needs a
    negative sample within 48 h of departure."""
    if answer.allowed and low_risk and not negative_within_48h(sampled_at, departure):
        return Answer(False, NO_RECENT_NEGATIVE)
    return answer


def driver_refusal_is_flag(*, kind: str, answer: Answer, pass_valid: bool, negative_48h: bool) -> bool:
    """Prohibition #8: refusing a driver whose pass is valid (active, in its dates, covering the area) and whose
    48-hour test is negative is a possible violation (a flag)."""
    return kind == "driver" and not answer.allowed and pass_valid and negative_48h

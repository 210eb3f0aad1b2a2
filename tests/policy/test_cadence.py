"""Key workers' cadence (POLICY.md): N = per_days // times; current T..T+N, overdue from T+N+1; no sample:
overdue from the registration day; due = T+N (None before a first negative)."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.policy.cadence import CURRENT, OVERDUE, group_interval, groups, interval, overdue_from, standing
from cordon.policy.pack import load_pack

D = dt.date


def test_interval_rounds_down():
    assert interval(1, 1) == 1
    assert interval(2, 7) == 3
    assert interval(1, 3) == 3
    assert interval(3, 7) == 2
    with pytest.raises(ValueError):
        interval(0, 3)


def test_pack_groups():
    p = load_pack("ninth-edition")
    assert groups(p) == ("inbound_contact", "fever_clinic", "high_mobility", "delivery")
    assert group_interval(p, "inbound_contact") == 1
    assert group_interval(p, "high_mobility") == 3
    assert group_interval(p, "delivery") == 3
    with pytest.raises(KeyError):
        group_interval(p, "astronaut")


def test_every_three_days():
    t = D(2022, 4, 10)
    for day, status in [(D(2022, 4, 10), CURRENT), (D(2022, 4, 13), CURRENT), (D(2022, 4, 14), OVERDUE),
                        (D(2022, 4, 20), OVERDUE)]:
        s = standing(day, registered=D(2022, 4, 1), last_negative=t, n=3)
        assert (s.status, s.due, s.overdue_from) == (status, D(2022, 4, 13), D(2022, 4, 14))


def test_daily():
    s = standing(D(2022, 4, 11), registered=D(2022, 4, 1), last_negative=D(2022, 4, 10), n=1)
    assert (s.status, s.due) == (CURRENT, D(2022, 4, 11))
    s = standing(D(2022, 4, 12), registered=D(2022, 4, 1), last_negative=D(2022, 4, 10), n=1)
    assert (s.status, s.due) == (OVERDUE, D(2022, 4, 11))


def test_no_sample_overdue_from_registration():
    s = standing(D(2022, 4, 5), registered=D(2022, 4, 5), last_negative=None, n=3)
    assert (s.status, s.due, s.overdue_from) == (OVERDUE, None, D(2022, 4, 5))
    assert standing(D(2022, 4, 4), registered=D(2022, 4, 5), last_negative=None, n=3).status is None
    assert overdue_from(D(2022, 4, 5), None, 3) == D(2022, 4, 5)


def test_sample_before_registration_counts():
    s = standing(D(2022, 4, 5), registered=D(2022, 4, 5), last_negative=D(2022, 4, 3), n=3)
    assert (s.status, s.due) == (CURRENT, D(2022, 4, 6))


def test_future_sample_refused():
    with pytest.raises(ValueError):
        standing(D(2022, 4, 5), registered=D(2022, 4, 1), last_negative=D(2022, 4, 6), n=3)

"""Hypothesis properties of the area clock and person orders."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cordon.policy.areas import Designate, Infection, area_state, minimum_days_to_lift, timeline
from cordon.policy.pack import load_pack
from cordon.policy.persons import compute_order

PACKS = [load_pack("ninth-edition"), load_pack("twenty-measures")]
D0 = dt.date(2022, 11, 8)
FAR = 90


def day(n):
    return D0 + dt.timedelta(days=n)


@st.composite
def area_history(draw):
    pack = draw(st.sampled_from(PACKS))
    level = draw(st.sampled_from(pack.designated_levels))
    infections = draw(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["community", "controlled_area",
                                                                               "quarantine_site"]),
                                         st.booleans()), max_size=6))
    events = [Designate(D0, level)] + [Infection(day(d), f, h) for d, f, h in sorted(infections)]
    return pack, level, events


def lift_of(pack, events):
    return area_state(pack, events, day(FAR), auto_rounds=True).lifted_on


@settings(max_examples=150, deadline=None)
@given(area_history())
def test_lift_never_earlier_than_the_pack_allows(hist):
    pack, level, events = hist
    lift = lift_of(pack, events)
    assert lift is not None
    assert lift >= D0 + dt.timedelta(days=minimum_days_to_lift(pack, level))
    states = timeline(pack, events, D0, day(FAR // 2), auto_rounds=True)
    for prev, cur in zip(states, states[1:]):
        if cur.level != prev.level:
            assert prev.designated
            ex = pack.exit_for(prev.level, prev.entered_from)
            # every change falls on or after L + N + 1 of the level it leaves
            assert cur.on >= prev.clock_start + dt.timedelta(days=ex.clean_days + 1)
            assert cur.level == ex.to


@settings(max_examples=150, deadline=None)
@given(area_history(), st.integers(0, 30), st.sampled_from(["community", "controlled_area"]))
def test_a_counted_infection_never_makes_a_change_earlier(hist, extra_day, found):
    pack, _level, events = hist
    more = events + [Infection(day(extra_day), found)]
    assert lift_of(pack, more) >= lift_of(pack, events)
    a = timeline(pack, events, D0, day(45), auto_rounds=True)
    b = timeline(pack, more, D0, day(45), auto_rounds=True)
    for x, y in zip(a, b):
        # with the extra infection the area is never at a lower level on any day
        assert pack.level_rank(y.level) <= pack.level_rank(x.level), (x.on, x.level, y.level)
        if x.next and y.next and x.level == y.level and x.next.level == y.next.level:
            assert y.next.on >= x.next.on


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PACKS), st.data(), st.integers(-2, 20))
def test_late_identification_never_lengthens_an_order(pack, data, late):
    category = data.draw(st.sampled_from(sorted(pack.persons)))
    on_time = compute_order(pack, category, D0)
    o = compute_order(pack, category, D0, identified_on=day(late))
    assert o.free_on == on_time.free_on
    assert set(o.test_days) <= set(on_time.test_days)
    assert set(o.test_days) | set(o.missed_test_days) == set(on_time.test_days)
    restricted = sum(p.days for p in o.periods)
    assert restricted <= sum(p.days for p in on_time.periods)
    for p in o.periods:
        assert p.end <= on_time.free_on - dt.timedelta(days=1)
    if on_time.restricts and late > 1:
        assert restricted == max(0, (on_time.free_on - day(late)).days)

"""Person orders: every person rule of POLICY.md with exact dates, for both packs."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.policy.pack import load_pack
from cordon.policy.persons import (CENTRALIZED, FREE, HOME, OrderRefused, arrival_category, check_extension,
                                   check_order, compute_order, extend_order, status_on)

D = dt.date
NINTH = load_pack("ninth-edition")
TWENTY = load_pack("twenty-measures")
A = D(2022, 11, 8)  # anchor, day 0


def iso(ds):
    return [d.isoformat() for d in ds]


# (pack, category, centralized_until, home_until, free_on, test days)
TABLE = [
    (NINTH, "close_contact", "2022-11-15", "2022-11-18", "2022-11-19",
     ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-15", "2022-11-18"]),
    (NINTH, "contact_of_contact", None, "2022-11-15", "2022-11-16", ["2022-11-09", "2022-11-12", "2022-11-15"]),
    (NINTH, "inbound", "2022-11-15", "2022-11-18", "2022-11-19",
     ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-15", "2022-11-18"]),
    (NINTH, "from_high_area", "2022-11-15", None, "2022-11-16",
     ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-15"]),
    (NINTH, "from_medium_area", None, "2022-11-15", "2022-11-16", ["2022-11-09", "2022-11-12", "2022-11-15"]),
    (TWENTY, "close_contact", "2022-11-13", "2022-11-16", "2022-11-17",
     ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-14", "2022-11-16"]),
    (TWENTY, "inbound", "2022-11-13", "2022-11-16", "2022-11-17",
     ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-14", "2022-11-16"]),
    (TWENTY, "from_high_area", None, "2022-11-15", "2022-11-16",
     ["2022-11-09", "2022-11-11", "2022-11-13", "2022-11-15"]),
]


@pytest.mark.parametrize("pack,category,cen,home,free,tests", TABLE,
                         ids=[f"{t[0].name}-{t[1]}" for t in TABLE])
def test_person_table(pack, category, cen, home, free, tests):
    o = compute_order(pack, category, A)
    d = o.as_dict()
    assert d == {"category": category, "centralized_until": cen, "home_until": home, "free_on": free,
                 "test_days": tests}
    assert o.restricts and not o.void and o.missed_test_days == ()


def test_ninth_close_contact_periods_and_status():
    o = compute_order(NINTH, "close_contact", A)
    assert [(p.kind, p.start, p.end) for p in o.periods] == [
        ("centralized", D(2022, 11, 9), D(2022, 11, 15)), ("home_monitoring", D(2022, 11, 16), D(2022, 11, 18))]
    # home day 3 of a 7 + 3 order is anchor + 10
    assert o.periods[1].test_days == (D(2022, 11, 18),)
    assert status_on(o, A) == CENTRALIZED  # placed on identification, day 0
    assert o.status_on(D(2022, 11, 15)) == CENTRALIZED
    assert o.status_on(D(2022, 11, 16)) == HOME
    assert o.status_on(D(2022, 11, 18)) == HOME
    assert o.status_on(D(2022, 11, 19)) == FREE


def test_twenty_close_contact_home_test_days_are_period_relative():
    o = compute_order(TWENTY, "close_contact", A)
    assert o.periods[1].start == D(2022, 11, 14)
    assert o.periods[1].test_days == (D(2022, 11, 14), D(2022, 11, 16))  # home days 1 and 3


@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_from_low_area_no_quarantine_two_tests(pack):
    o = compute_order(pack, "from_low_area", A)
    assert not o.restricts and o.periods == ()
    assert o.centralized_until is None and o.home_until is None and o.free_on == D(2022, 11, 9)
    assert (o.test_window.count, o.test_window.within_days, o.test_window.min_gap_hours) == (2, 3, 24)
    assert o.status_on(A) == FREE and o.status_on(D(2022, 11, 10)) == FREE


@pytest.mark.parametrize("category", ["contact_of_contact", "from_medium_area", "quarantine_everyone"])
def test_twenty_category_missing_is_refused(category):
    with pytest.raises(OrderRefused) as ei:
        compute_order(TWENTY, category, A)
    v = ei.value.verdict
    assert (v.rule, v.action) == ("nine-prohibitions-4", "block")
    assert category in v.message_en and category in v.message_zh


# ------------------------------------------------------------------------------------ late identification

def test_ninth_found_on_day_3_same_free_day():
    o = compute_order(NINTH, "close_contact", A, identified_on=D(2022, 11, 11))
    assert o.free_on == D(2022, 11, 19)
    assert o.centralized_until == D(2022, 11, 15) and o.home_until == D(2022, 11, 18)
    assert o.periods[0].start == D(2022, 11, 11)
    assert (o.periods[0].end - D(2022, 11, 11)).days == 4  # four quarantine days left after day 3
    assert iso(o.missed_test_days) == ["2022-11-09", "2022-11-10"]
    assert iso(o.test_days) == ["2022-11-11", "2022-11-13", "2022-11-15", "2022-11-18"]
    assert o.status_on(D(2022, 11, 10)) == FREE  # not yet identified
    assert o.status_on(D(2022, 11, 11)) == CENTRALIZED


def test_twenty_found_on_day_3_same_free_day():
    o = compute_order(TWENTY, "close_contact", A, identified_on=D(2022, 11, 11))
    assert o.free_on == D(2022, 11, 17) and o.centralized_until == D(2022, 11, 13)
    assert (o.periods[0].end - D(2022, 11, 11)).days == 2


def test_found_during_home_period_has_no_centralized_period():
    o = compute_order(NINTH, "close_contact", A, identified_on=D(2022, 11, 17))
    assert o.centralized_until is None and o.home_until == D(2022, 11, 18) and o.free_on == D(2022, 11, 19)
    assert o.status_on(D(2022, 11, 17)) == HOME
    assert iso(o.test_days) == ["2022-11-18"]


@pytest.mark.parametrize("pack,free", [(NINTH, D(2022, 11, 19)), (TWENTY, D(2022, 11, 17))])
def test_found_after_the_end_no_order(pack, free):
    for found in (free, free + dt.timedelta(days=5)):
        o = compute_order(pack, "close_contact", A, identified_on=found)
        assert o.void and not o.restricts and o.periods == () and o.test_days == ()
        assert o.free_on == free
        assert o.status_on(found) == FREE


def test_identified_on_anchor_day_or_day_1_is_on_time():
    on_time = compute_order(NINTH, "close_contact", A)
    for idd in (A, A + dt.timedelta(days=1)):
        o = compute_order(NINTH, "close_contact", A, idd)
        assert (o.periods, o.test_days, o.free_on) == (on_time.periods, on_time.test_days, on_time.free_on)


# ------------------------------------------------------------------------------------ extensions (#5)

@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_extension_only_with_positive_result(pack):
    o = compute_order(pack, "close_contact", A)
    for kind in ("symptoms", "manual", "community_request", ""):
        v = check_extension(o, 3, kind, person="P2", reason="to be safe")
        assert (v.rule, v.action) == ("nine-prohibitions-5", "block")
        assert "P2" in v.message_zh and "to be safe" in v.message_en
        with pytest.raises(OrderRefused) as ei:
            extend_order(o, 3, kind)
        assert ei.value.verdict.rule == "nine-prohibitions-5"
    assert check_extension(o, 3, "positive_result") is None
    e = extend_order(o, 3, "positive_result", reason="day 5 sample positive")
    assert e.free_on == o.free_on + dt.timedelta(days=3) and e.extended_by == 3
    assert e.home_until == o.home_until + dt.timedelta(days=3)
    assert e.extensions[0].reason_kind == "positive_result"
    with pytest.raises(ValueError):
        check_extension(o, 0, "positive_result")


def test_extension_of_the_period_in_force_moves_later_periods():
    o = compute_order(NINTH, "close_contact", A)
    e = extend_order(o, 2, "positive_result", on=D(2022, 11, 12))
    assert e.centralized_until == D(2022, 11, 17)
    assert e.periods[1].start == D(2022, 11, 18) and e.home_until == D(2022, 11, 20)
    assert e.periods[1].test_days == (D(2022, 11, 20),)
    assert e.free_on == D(2022, 11, 21)


# ------------------------------------------------------------------------------------ order guardrails (#2, #4, #7)

@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_order_guardrails(pack):
    (v,) = check_order(pack, "close_contact", person="P3", arrival_from_level="low", arrival_kind="resident")
    assert (v.rule, v.action) == ("nine-prohibitions-2", "block") and "P3" in v.message_zh
    (v,) = check_order(pack, "from_high_area", person="S1", arrival_from_level="low", arrival_kind="student")
    assert (v.rule, v.action) == ("nine-prohibitions-7", "block") and "S1" in v.message_en
    assert check_order(pack, "from_low_area", arrival_from_level="low", arrival_kind="student") == []
    (v,) = check_order(pack, "close_contact", person="P4", has_link=False)
    assert (v.rule, v.action) == ("nine-prohibitions-4", "block")
    assert check_order(pack, "close_contact", person="P5") == []
    assert check_order(pack, "from_high_area", arrival_from_level="high") == []


def test_order_guardrail_category_missing_twenty():
    (v,) = check_order(TWENTY, "contact_of_contact", person="P6")
    assert (v.rule, v.action) == ("nine-prohibitions-4", "block")
    assert check_order(NINTH, "contact_of_contact", person="P6") == []


def test_arrival_category():
    assert [arrival_category(x) for x in ("high", "medium", "low")] == ["from_high_area", "from_medium_area",
                                                                         "from_low_area"]
    with pytest.raises(ValueError):
        arrival_category("outside")

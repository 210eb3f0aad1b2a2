"""Area clock: every area rule of POLICY.md with the exact date it must produce, for both packs."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.policy.areas import (Designate, Infection, Keep, Lift, Reseal, Resume, Round, area_state,
                                 check_designation, granularity_ok, minimum_days_to_lift, parse_event,
                                 prepare, projected_lift, timeline)
from cordon.policy.pack import load_pack

D = dt.date
NINTH = load_pack("ninth-edition")
TWENTY = load_pack("twenty-measures")
D0 = D(2022, 11, 8)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def levels(pack, events, start=D0, end=None, **kw):
    end = end or day(30)
    return {s.on: s.level for s in timeline(pack, events, start, end, **kw)}


def change_dates(pack, events, **kw):
    """[(date, level)] of every level change in days 0..30."""
    out, prev = [], None
    for s in timeline(pack, events, D0, day(30), **kw):
        if s.level != prev:
            out.append((s.on, s.level))
            prev = s.level
    return out


# ------------------------------------------------------------------------------------ ninth-edition

def test_ninth_high_to_medium_to_low_exact_dates():
    ev = [Designate(D0, "high"), Round(D(2022, 11, 15), "negative")]
    assert change_dates(NINTH, ev) == [(D(2022, 11, 8), "high"), (D(2022, 11, 16), "medium"),
                                       (D(2022, 11, 19), "low")]
    s = area_state(NINTH, ev, D0)
    assert s.level == "high" and s.since == D0 and s.next.level == "medium" and s.next.on == D(2022, 11, 16)
    assert s.waiting is None
    s = area_state(NINTH, ev, D(2022, 11, 16))
    assert (s.level, s.since, s.entered_from) == ("medium", D(2022, 11, 16), "high")
    assert s.clock_start == D(2022, 11, 15)  # the medium clock: days 11-16, 11-17, 11-18 are days 1..3
    assert s.next.level == "low" and s.next.on == D(2022, 11, 19)
    s = area_state(NINTH, ev, D(2022, 11, 19))
    assert not s.designated and s.level == "low" and s.lifted_on == D(2022, 11, 19)
    assert s.as_dict() == {"level": "low", "since": "2022-11-19", "next": None, "waiting": None}


def test_ninth_high_infection_on_day_4_moves_the_clock():
    # infection counted on 11-12 (day 4): L = 11-12, round needed on 11-19, medium on 11-20, low on 11-23
    ev = [Designate(D0, "high"), Infection(day(4), "community"), Round(D(2022, 11, 19), "negative")]
    assert change_dates(NINTH, ev) == [(D0, "high"), (D(2022, 11, 20), "medium"), (D(2022, 11, 23), "low")]
    s = area_state(NINTH, ev, day(4))
    assert s.clock_start == day(4) and s.next.on == D(2022, 11, 20)


def test_ninth_round_on_old_day_7_does_not_count_after_a_reset():
    ev = [Designate(D0, "high"), Infection(day(4)), Round(day(7), "negative")]
    s = area_state(NINTH, ev, D(2022, 11, 20))
    assert s.level == "high" and s.next is None
    assert s.waiting.kind == "round_missing" and s.waiting.on == D(2022, 11, 19)
    assert "2022-11-19" in str(s.waiting)


def test_ninth_medium_designated_directly():
    ev = [Designate(D0, "medium"), Round(day(7), "negative")]
    assert change_dates(NINTH, ev) == [(D0, "medium"), (D(2022, 11, 16), "low")]


def test_ninth_medium_direct_without_round_waits():
    ev = [Designate(D0, "medium")]
    s = area_state(NINTH, ev, day(8))
    assert s.level == "medium" and s.next is None and s.waiting.kind == "round_missing"
    assert area_state(NINTH, ev, day(8), auto_rounds=True).level == "low"


def test_ninth_medium_step_down_infection_restarts_3_days():
    # medium from 11-16; infection 11-17 -> L = 11-17, low on 11-21 (3 clean days 11-18..11-20, no round)
    ev = [Designate(D0, "high"), Round(day(7)), Infection(D(2022, 11, 17))]
    assert change_dates(NINTH, ev) == [(D0, "high"), (D(2022, 11, 16), "medium"), (D(2022, 11, 21), "low")]


def test_ninth_infection_on_change_date_counts_against_new_level():
    ev = [Designate(D0, "high"), Round(day(7)), Infection(D(2022, 11, 16))]
    assert change_dates(NINTH, ev) == [(D0, "high"), (D(2022, 11, 16), "medium"), (D(2022, 11, 20), "low")]


def test_ninth_what_counts():
    base = [Designate(D0, "high")]
    for found, counts in [("community", True), ("controlled_area", True), ("quarantine_site", False)]:
        s = area_state(NINTH, base + [Infection(day(3), found)], day(3), auto_rounds=True)
        assert (s.clock_start == day(3)) is counts, found
        assert s.next.on == (D(2022, 11, 19) if counts else D(2022, 11, 16))
    # residents sealed at home count in the 9th edition
    s = area_state(NINTH, base + [Infection(day(3), "community", at_home_isolating=True)], day(3))
    assert s.clock_start == day(3)


def test_pack_flag_home_isolating_does_not_reset(tmp_path):
    from cordon.policy.pack import PACKS_DIR
    text = (PACKS_DIR / "ninth-edition.yaml").read_text(encoding="utf-8")
    f = tmp_path / "new-ten.yaml"
    f.write_text(text.replace("name: ninth-edition", "name: new-ten-like")
                 .replace("home_isolating_counts: true", "home_isolating_counts: false"), encoding="utf-8")
    pack = load_pack(f)
    ev = [Designate(D0, "high"), Infection(day(3), "community", at_home_isolating=True)]
    s = area_state(pack, ev, day(3))
    assert s.clock_start == D0 and s.next.on == D(2022, 11, 16)
    s = area_state(pack, ev + [Infection(day(4))], day(4))
    assert s.clock_start == day(4)


def test_ninth_round_late_results_delay_change_to_result_date():
    ev = [Designate(D0, "high"), Round(day(7), "negative", result_on=day(9))]
    s = area_state(NINTH, ev, day(8))
    assert s.level == "high" and s.next is None and s.waiting.kind == "round_pending"
    assert area_state(NINTH, ev, day(9)).level == "medium"
    assert area_state(NINTH, ev, day(9)).since == day(9)
    # medium clock starts the day before it took effect: low on 11-17 + 3 + 1... 11-20
    assert change_dates(NINTH, ev) == [(D0, "high"), (day(9), "medium"), (D(2022, 11, 20), "low")]


def test_ninth_round_next_day_results_change_at_midnight_anyway():
    ev = [Designate(D0, "high"), Round(day(7), "negative", result_on=day(8))]
    assert change_dates(NINTH, ev)[1] == (D(2022, 11, 16), "medium")


def test_round_pending_and_positive_wait():
    s = area_state(NINTH, [Designate(D0, "high"), Round(day(7), None)], day(9))
    assert s.level == "high" and s.waiting.kind == "round_pending"
    ev = [Designate(D0, "high"), Round(day(7), "positive")]
    s = area_state(NINTH, ev, day(9), auto_rounds=True)
    assert s.level == "high" and s.next is None and s.waiting.kind == "round_positive"
    assert s.waiting.zh and "not negative" in s.waiting.en
    # a later negative round lets it change on the day its results are in
    s = area_state(NINTH, ev + [Round(day(10), "negative")], day(10))
    assert s.level == "medium" and s.since == day(10)


def test_round_before_day_n_does_not_count():
    s = area_state(NINTH, [Designate(D0, "high"), Round(day(6), "negative")], day(9))
    assert s.level == "high" and s.waiting.kind == "round_missing"


def test_projection_before_day_n_assumes_negative_round():
    s = area_state(NINTH, [Designate(D0, "high")], day(7))
    assert s.next.on == day(8) and s.waiting is None
    s = area_state(NINTH, [Designate(D0, "high")], day(8))
    assert s.next is None and s.waiting.kind == "round_missing"


# ------------------------------------------------------------------------------------ twenty-measures

def test_twenty_high_to_low_after_5_days_and_round_day_5():
    ev = [Designate(D0, "high"), Round(D(2022, 11, 13), "negative")]
    assert change_dates(TWENTY, ev) == [(D0, "high"), (D(2022, 11, 14), "low")]
    s = area_state(TWENTY, ev, D0)
    assert s.next.level == "low" and s.next.on == D(2022, 11, 14)


def test_twenty_infection_on_day_2_moves_the_clock():
    ev = [Designate(D0, "high"), Infection(day(2)), Round(day(7))]
    assert change_dates(TWENTY, ev) == [(D0, "high"), (D(2022, 11, 16), "low")]


def test_twenty_counting_and_no_medium():
    s = area_state(TWENTY, [Designate(D0, "high"), Infection(day(2), "quarantine_site")], day(2), auto_rounds=True)
    assert s.clock_start == D0 and s.next.on == D(2022, 11, 14)
    s = area_state(TWENTY, [Designate(D0, "high"), Infection(day(2), "controlled_area")], day(2), auto_rounds=True)
    assert s.next.on == D(2022, 11, 16)
    with pytest.raises(ValueError):
        area_state(TWENTY, [Designate(D0, "medium")], D0)


def test_twenty_without_round_waits():
    s = area_state(TWENTY, [Designate(D0, "high")], day(6))
    assert s.level == "high" and s.waiting.kind == "round_missing" and s.waiting.on == day(5)


# ------------------------------------------------------------------------------------ keep, lift, observation

@pytest.mark.parametrize("pack,due", [(NINTH, D(2022, 11, 16)), (TWENTY, D(2022, 11, 14))])
def test_keep_flags_every_day_past_due(pack, due):
    ev = [Designate(D0, "high"), Keep(day(3), "waiting for the source to be traced")]
    states = timeline(pack, ev, D0, day(12), auto_rounds=True, subject="A/1单元")
    for s in states:
        assert s.level == "high"
        if s.on < due:
            assert s.flags == ()
        else:
            (f,) = s.flags
            assert f.rule == "nine-prohibitions-3" and f.action == "flag" and f.subject == "A/1单元"
            assert due.isoformat() in f.message_en and s.on.isoformat() in f.message_zh
        if s.on >= day(3):
            assert s.next is None and s.waiting.kind == "kept" and s.kept.reason.startswith("waiting")
        else:
            assert s.next == s.due
        assert s.due.on == due


def test_keep_then_lift_and_resume():
    ev = [Designate(D0, "high"), Keep(day(3), "x"), Lift(day(12), "commander")]
    s = area_state(NINTH, ev, day(12), auto_rounds=True)
    assert s.level == "low" and s.lifted_on == day(12) and s.flags == ()
    ev = [Designate(D0, "high"), Keep(day(3), "x"), Resume(day(12))]
    s = area_state(NINTH, ev, day(12), auto_rounds=True)
    assert s.level == "medium" and s.since == day(12)
    assert s.next.on == day(15)


def test_keep_on_change_date_holds_the_new_level():
    # the change at 00:00 of 11-16 happens first; a keep that day holds medium
    ev = [Designate(D0, "high"), Keep(day(8), "x")]
    s = area_state(NINTH, ev, day(12), auto_rounds=True)
    assert s.level == "medium" and len(s.flags) == 1 and s.due.on == D(2022, 11, 19)


def test_keep_clock_still_runs():
    ev = [Designate(D0, "high"), Keep(day(3), "x"), Infection(day(6))]
    s = area_state(NINTH, ev, day(10), auto_rounds=True)
    assert s.due.on == day(14) and s.flags == ()
    assert area_state(NINTH, ev, day(14), auto_rounds=True).flags[0].rule == "nine-prohibitions-3"


@pytest.mark.parametrize("pack,lift", [(NINTH, D(2022, 11, 19)), (TWENTY, D(2022, 11, 14))])
def test_observation_after_lift_and_reseal_proposal(pack, lift):
    obs = pack.observation_days
    ev = [Designate(D0, "high")]
    s = area_state(pack, ev, lift, auto_rounds=True)
    assert s.lifted_on == lift and s.observation_until == lift + dt.timedelta(days=obs - 1)
    assert s.under_observation and not s.proposes_reseal
    inside = ev + [Infection(lift + dt.timedelta(days=2), ref="P9")]
    s = area_state(pack, inside, lift + dt.timedelta(days=2), auto_rounds=True)
    assert s.proposes_reseal and s.reseal_because == ("P9",) and s.level == "low"
    after = ev + [Infection(lift + dt.timedelta(days=obs), ref="P9")]
    s = area_state(pack, after, lift + dt.timedelta(days=obs), auto_rounds=True)
    assert not s.proposes_reseal and not s.under_observation
    in_qs = ev + [Infection(lift + dt.timedelta(days=1), "quarantine_site")]
    assert not area_state(pack, in_qs, lift + dt.timedelta(days=1), auto_rounds=True).proposes_reseal
    resealed = inside + [Reseal(lift + dt.timedelta(days=3), "high")]
    s = area_state(pack, resealed, lift + dt.timedelta(days=3), auto_rounds=True)
    assert s.level == "high" and s.since == lift + dt.timedelta(days=3) and not s.proposes_reseal


def test_manual_lift_and_step_down():
    s = area_state(NINTH, [Designate(D0, "high"), Lift(day(2), "wrongly drawn")], day(2))
    assert s.level == "low" and s.lifted_on == day(2) and s.under_observation
    s = area_state(NINTH, [Designate(D0, "high"), Lift(day(2), "step", level="medium")], day(2))
    assert s.level == "medium" and s.entered_from == "high" and s.next.on == day(5)
    with pytest.raises(ValueError):
        area_state(NINTH, [Designate(D0, "medium"), Lift(day(2), "up", level="high")], day(2))


def test_upgrade_medium_to_high():
    ev = [Designate(D0, "medium"), Designate(day(3), "high")]
    assert change_dates(NINTH, ev, auto_rounds=True) == [(D0, "medium"), (day(3), "high"), (day(11), "medium"),
                                                         (day(14), "low")]


def test_events_as_dicts_and_prepare():
    ev = [{"type": "designate", "on": "2022-11-08", "level": "high"},
          {"type": "round", "date": "2022-11-15", "result": "negative"}]
    assert area_state(NINTH, ev, day(7)).next.on == D(2022, 11, 16)
    prep = prepare([parse_event(e) for e in ev])
    assert area_state(NINTH, prep, day(8)).level == "medium"
    with pytest.raises(ValueError):
        parse_event({"type": "seal", "on": "2022-11-08"})


def test_never_designated():
    s = area_state(NINTH, [Infection(D0)], day(3))
    assert s.level == "low" and not s.designated and s.since is None and s.next is None


def test_projected_lift_and_minimum():
    assert projected_lift(NINTH, area_state(NINTH, [Designate(D0, "high")], D0)) == D(2022, 11, 19)
    assert projected_lift(NINTH, area_state(NINTH, [Designate(D0, "medium")], D0)) == D(2022, 11, 16)
    assert projected_lift(TWENTY, area_state(TWENTY, [Designate(D0, "high")], D0)) == D(2022, 11, 14)
    assert minimum_days_to_lift(NINTH, "high") == 11
    assert minimum_days_to_lift(NINTH, "medium") == 8
    assert minimum_days_to_lift(TWENTY, "high") == 6


# ------------------------------------------------------------------------------------ designation guardrails

def test_granularity_per_pack():
    assert granularity_ok(NINTH, "compound") and not granularity_ok(NINTH, "community")
    assert granularity_ok(NINTH, "unit") and granularity_ok(NINTH, "building")
    assert granularity_ok(TWENTY, "building") and not granularity_ok(TWENTY, "compound")
    (v,) = check_designation(TWENTY, node_kind="compound", level="high", area="五泉小区", linked_infections=["P1"])
    assert (v.rule, v.action) == ("nine-prohibitions-4", "flag") and "五泉小区" in v.message_zh
    assert check_designation(NINTH, node_kind="compound", level="high", linked_infections=["P1"]) == []
    (v,) = check_designation(NINTH, node_kind="street", level="medium", linked_places=["market"])
    assert v.rule == "nine-prohibitions-4"


def test_designation_without_link_flags_rule_1():
    (v,) = check_designation(NINTH, node_kind="unit", level="high", area="1单元")
    assert (v.rule, v.action) == ("nine-prohibitions-1", "flag")
    assert "1单元" in v.message_zh and "1单元" in v.message_en
    vs = check_designation(TWENTY, node_kind="street", level="high")
    assert [x.rule for x in vs] == ["nine-prohibitions-1", "nine-prohibitions-4"]
    assert check_designation(NINTH, node_kind="unit", level="high", linked_places=["菜市场"]) == []

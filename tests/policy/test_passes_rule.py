"""The pass check's reasons in POLICY.md's order, with exact dates (pure rule, no Django)."""
import datetime as dt

import pytest

from cordon.policy import passes as p

A, B = dt.date(2022, 5, 10), dt.date(2022, 5, 20)


def check(day, **kw):
    base = dict(day=day, revoked=False, valid_from=A, valid_to=B, covered=True, under_order=False, overdue=False)
    return p.check_pass(**{**base, **kw})


def test_allowed_on_first_and_last_day_inclusive():
    assert check(A) == p.Answer(True, None)
    assert check(B).allowed and check(B).result == "allowed"


def test_not_yet_valid_the_day_before_and_expired_the_day_after():
    assert check(dt.date(2022, 5, 9)).reason == "not_yet_valid"
    assert check(dt.date(2022, 5, 21)).reason == "expired"


@pytest.mark.parametrize("kw,reason", [
    (dict(revoked=True, day=dt.date(2022, 5, 9), covered=False, under_order=True, overdue=True), "revoked"),
    (dict(day=dt.date(2022, 5, 9), covered=False, under_order=True, overdue=True), "not_yet_valid"),
    (dict(day=dt.date(2022, 5, 21), covered=False, under_order=True, overdue=True), "expired"),
    (dict(day=dt.date(2022, 5, 15), covered=False, under_order=True, overdue=True), "area_not_covered"),
    (dict(day=dt.date(2022, 5, 15), under_order=True, overdue=True), "holder_under_order"),
    (dict(day=dt.date(2022, 5, 15), overdue=True), "test_overdue"),
])
def test_first_failing_reason_wins(kw, reason):
    day = kw.pop("day")
    a = check(day, **kw)
    assert (a.allowed, a.reason, a.result) == (False, reason, "refused")
    assert p.REASONS.index(reason) == list(p.REASONS).index(reason)


def test_reason_order_is_policy_order():
    assert p.REASONS == ("revoked", "not_yet_valid", "expired", "area_not_covered", "holder_under_order",
                         "test_overdue")


def test_covers_inside_a_street_not_a_sibling_with_a_common_prefix():
    areas = ["城关区/皋兰路街道"]
    assert p.covers(areas, "城关区/皋兰路街道")
    assert p.covers(areas, "城关区/皋兰路街道/五泉社区/1号院")
    assert not p.covers(areas, "城关区/皋兰路街道二")
    assert not p.covers(areas, "城关区")
    assert p.covers(["城关区", "七里河区/西园街道"], "七里河区/西园街道/x")


def test_exit_needs_a_negative_within_48_hours():
    dep = dt.datetime(2022, 5, 15, 12, 0)
    assert p.negative_within_48h(dt.datetime(2022, 5, 13, 12, 0), dep)          # exactly 48 h
    assert not p.negative_within_48h(dt.datetime(2022, 5, 13, 11, 59), dep)     # 48 h 1 min
    assert not p.negative_within_48h(dt.datetime(2022, 5, 15, 12, 1), dep)      # after departure
    assert not p.negative_within_48h(None, dep)
    ok = p.ALLOWED
    assert p.check_exit(ok, low_risk=True, sampled_at=None, departure=dep).reason == "no_negative_48h"
    assert p.check_exit(ok, low_risk=False, sampled_at=None, departure=dep).allowed
    assert p.check_exit(ok, low_risk=True, sampled_at=dt.datetime(2022, 5, 14), departure=dep).allowed
    refused = p.Answer(False, "expired")
    assert p.check_exit(refused, low_risk=True, sampled_at=None, departure=dep).reason == "expired"


def test_driver_refusal_flag():
    no = p.Answer(False, "test_overdue")
    assert p.driver_refusal_is_flag(kind="driver", answer=no, pass_valid=True, negative_48h=True)
    assert not p.driver_refusal_is_flag(kind="delivery", answer=no, pass_valid=True, negative_48h=True)
    assert not p.driver_refusal_is_flag(kind="driver", answer=no, pass_valid=False, negative_48h=True)
    assert not p.driver_refusal_is_flag(kind="driver", answer=no, pass_valid=True, negative_48h=False)
    assert not p.driver_refusal_is_flag(kind="driver", answer=p.ALLOWED, pass_valid=True, negative_48h=True)

"""Doubling/halving time, epi curves by where found, days since the last community infection."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from cordon.epi.rt import (
    COMMUNITY,
    UNDER_CONTROL,
    EpiInputError,
    days_since_last_community,
    doubling_time,
    doubling_times,
    epi_curve,
)

D = dt.date


def test_exact_exponential_growth():
    counts = [10 * 2 ** (t / 5) for t in range(14)]
    est = doubling_time(counts)
    assert est.kind == "doubling"
    assert est.time == pytest.approx(5.0, rel=1e-9)
    assert est.growth_rate == pytest.approx(math.log(2) / 5, rel=1e-9)
    assert est.time_lo == pytest.approx(5.0, rel=1e-6) and est.time_hi == pytest.approx(5.0, rel=1e-6)


def test_halving_time():
    counts = [1000 * 0.5 ** (t / 3) * (1.1 if t % 2 else 0.9) for t in range(10)]
    est = doubling_time(counts, window=10)
    assert est.kind == "halving"
    assert est.growth_rate < 0
    assert est.time_lo < est.time < est.time_hi
    assert est.time == pytest.approx(math.log(2) / -est.growth_rate)
    assert 2.0 < est.time < 4.5


def test_confidence_interval_matches_ols_formula():
    y = np.array([3, 5, 4, 8, 9, 12, 11, 17, 20, 19], dtype=float)
    from scipy import stats

    fit = stats.linregress(np.arange(10), np.log(y))
    est = doubling_time(y, level=0.9)
    tq = stats.t.ppf(0.95, 8)
    assert est.growth_rate == pytest.approx(fit.slope, rel=1e-12)
    assert est.growth_rate_lo == pytest.approx(fit.slope - tq * fit.stderr, rel=1e-12)
    assert est.growth_rate_hi == pytest.approx(fit.slope + tq * fit.stderr, rel=1e-12)
    assert est.time_lo == pytest.approx(math.log(2) / est.growth_rate_hi)
    assert est.time_hi == pytest.approx(math.log(2) / est.growth_rate_lo)


def test_uncertain_sign_gives_open_interval():
    est = doubling_time([10, 14, 8, 12, 9, 13, 11])
    assert est.growth_rate_lo < 0 < est.growth_rate_hi
    assert est.time_hi == math.inf
    assert est.as_dict()["time_hi"] is None


def test_last_window_only():
    counts = [1, 2, 4, 8, 16, 100, 100, 100, 100]
    est = doubling_time(counts, window=4)
    assert (est.t_start, est.t_end) == (6, 9)
    assert est.kind == "flat"


def test_sliding_windows_skip_zeros():
    out = doubling_times([0, 1, 2, 4, 8, 16], window=3)
    assert out[0] is None
    assert [(e.t_start, e.t_end) for e in out[1:]] == [(2, 4), (3, 5), (4, 6)]
    assert all(e.time == pytest.approx(1.0) for e in out[1:])


@pytest.mark.parametrize(
    "counts,window,match",
    [([1, 2, 0, 4], None, "0 cases"), ([1, 2, -1, 4], None, "negative"), ([1, 2], None, ">= 3"),
     ([1, 2, 3], 5, "too short")],
)
def test_doubling_bad_input(counts, window, match):
    with pytest.raises(EpiInputError, match=match):
        doubling_time(counts, window)


def test_epi_curve_split_and_fill():
    curve = epi_curve(
        [D(2022, 4, 1), D(2022, 4, 1), D(2022, 4, 3), "2022-04-03", D(2022, 4, 4)],
        [COMMUNITY, UNDER_CONTROL, UNDER_CONTROL, UNDER_CONTROL, COMMUNITY],
    )
    assert curve.days == [D(2022, 4, 1), D(2022, 4, 2), D(2022, 4, 3), D(2022, 4, 4)]
    assert curve.community.tolist() == [1, 0, 0, 1]
    assert curve.under_control.tolist() == [1, 0, 2, 0]
    assert curve.total.tolist() == [2, 0, 2, 1]
    assert curve.rows()[2] == {"date": "2022-04-03", "community": 0, "under_control": 2, "total": 2}


def test_epi_curve_aggregated_counts_and_range():
    curve = epi_curve(
        ["2022-04-01", "2022-04-01", "2022-04-05"],
        [COMMUNITY, UNDER_CONTROL, COMMUNITY],
        counts=[7, 300, 2],
        start="2022-03-31",
        end="2022-04-02",
    )
    assert len(curve.days) == 3
    assert curve.community.tolist() == [0, 7, 0]
    assert curve.under_control.tolist() == [0, 300, 0]


def test_epi_curve_bad_input():
    with pytest.raises(EpiInputError):
        epi_curve([D(2022, 4, 1)], ["somewhere"])
    with pytest.raises(EpiInputError):
        epi_curve([D(2022, 4, 1)], [COMMUNITY], counts=[-1])
    assert epi_curve([], []).days == []


def test_days_since_last_community():
    dates = [D(2022, 5, 1), D(2022, 5, 10), D(2022, 6, 3)]
    assert days_since_last_community(dates, D(2022, 5, 10)) == 0
    assert days_since_last_community(dates, D(2022, 5, 13)) == 3
    assert days_since_last_community(dates, "2022-06-02") == 23  # the June case is in the future
    assert days_since_last_community(dates, D(2022, 4, 30)) is None
    assert days_since_last_community([], D(2022, 4, 30)) is None

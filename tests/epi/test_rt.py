"""Rt (Cori et al. 2013) against EpiEstim's own expected outputs, to 1e-9 relative."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

from cordon.epi.rt import (
    EpiInputError,
    default_windows,
    discr_si,
    estimate_r,
    overall_infectivity,
    process_incidence,
)

from ._data import COLUMNS, DATA, incidence, needs_data, read_dicts, si_distr

REL = 1e-9

pytestmark = needs_data

EXAMPLES = {
    # expected file: kwargs of estimate_R (Flu2009, default weekly windows, prior 5/5)
    "expected_Example1_R_fullprec.csv": {"method": "non_parametric_si", "si_distr": "Flu2009"},
    "expected_Example3_R_fullprec.csv": {"method": "parametric_si", "mean_si": 2.6, "std_si": 1.5},
}


def _kwargs(spec: dict) -> dict:
    kw = dict(spec)
    if isinstance(kw.get("si_distr"), str):
        kw["si_distr"] = si_distr(kw["si_distr"])
    return kw


def _flu2009():
    rows = incidence("Flu2009")
    return [float(r["I"]) for r in rows], [dt.date.fromisoformat(r["date"]) for r in rows]


_cache: dict[str, object] = {}


def _result(name: str):
    if name not in _cache:
        counts, dates = _flu2009()
        _cache[name] = estimate_r(counts, dates=dates, **_kwargs(EXAMPLES[name]))
    return _cache[name]


def _cases():
    for name in EXAMPLES:
        for i, row in enumerate(read_dicts(DATA / name)):
            yield pytest.param(name, i, row, id=f"{name.split('_')[1]}-t{row['t_start']}-{row['t_end']}")


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_same_windows_as_epiestim(name):
    expected = read_dicts(DATA / name)
    assert expected, f"{name} missing"
    res = _result(name)
    assert [(w.t_start, w.t_end) for w in res.windows] == [
        (int(r["t_start"]), int(r["t_end"])) for r in expected
    ]


@pytest.mark.parametrize("name,i,row", list(_cases()))
def test_matches_epiestim_row(name, i, row):
    w = _result(name).windows[i]
    assert (w.t_start, w.t_end) == (int(row["t_start"]), int(row["t_end"]))
    assert w.date_start.isoformat() == row["date_start"]
    assert w.date_end.isoformat() == row["date_end"]
    for col, key in COLUMNS.items():
        exp = float(row[col])
        got = getattr(w, key)
        assert got == pytest.approx(exp, rel=REL, abs=0), (col, got, exp)


def test_discr_si_matches_epiestim():
    expected = read_dicts(DATA / "expected_Example3_si_distr_discr_si_2.6_1.5.csv")
    assert len(expected) == 33  # discr_si(0..T-1) for T = 32, padded with one zero to T + 1
    ks = [int(r["k"]) for r in expected]
    assert ks == list(range(33))
    got = np.append(discr_si(np.arange(32), 2.6, 1.5), 0.0)
    for r, g in zip(expected, got):
        exp = float(r["w"])
        assert g == pytest.approx(exp, rel=REL, abs=0 if exp else 1e-300), (r["k"], g, exp)
    # and the distribution the estimator actually used
    res = _result("expected_Example3_R_fullprec.csv")
    assert res.si_distr.size == 33
    np.testing.assert_allclose(res.si_distr, [float(r["w"]) for r in expected], rtol=REL, atol=0)


def test_discr_si_basic_properties():
    w = discr_si(np.arange(200), 6.5, 4.0)
    assert w[0] == 0
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-9)
    assert (w * np.arange(200)).sum() == pytest.approx(6.5, abs=1e-6)  # discretisation keeps the mean


@pytest.mark.parametrize("mean_si,std_si", [(1.0, 1.0), (0.5, 1.0), (3.0, 0.0), (3.0, -1.0), (math.nan, 1.0)])
def test_discr_si_rejects_bad_parameters(mean_si, std_si):
    with pytest.raises(EpiInputError):
        discr_si([0, 1, 2], mean_si, std_si)


# --- independent brute-force reference (plain loops, scipy.stats.gamma) --------------------------------

def _reference(local, imported, w, t_start, t_end, mean_prior=5.0, std_prior=5.0):
    T = len(local)
    local = list(local)
    imported = list(imported)
    imported[0] += local[0]
    local[0] = 0
    w = list(w) + [0.0] * max(0, T + 1 - len(w))
    mean_si = sum(k * wk for k, wk in enumerate(w))
    a0 = (mean_prior / std_prior) ** 2
    b0 = std_prior**2 / mean_prior
    lam = [None] + [sum(w[k] * (local[t - k] + imported[t - k]) for k in range(t + 1)) for t in range(1, T)]
    out = []
    for s, e in zip(t_start, t_end):
        if not e > mean_si:
            continue
        a = a0 + sum(local[s - 1 : e])
        b = 1 / (1 / b0 + sum(lam[s - 1 : e]))
        g = stats.gamma(a, scale=b)
        out.append((s, e, a * b, math.sqrt(a) * b, g.ppf(0.025), g.ppf(0.5), g.ppf(0.975)))
    return out


def test_local_and_imported_mers_against_reference():
    rows = incidence("mers_2014_15")
    assert rows
    local = [float(r["local"]) for r in rows]
    imported = [float(r["imported"]) for r in rows]
    assert sum(imported) > 1  # the point of this dataset
    res = estimate_r(local=local, imported=imported, mean_si=6.8, std_si=4.1)
    w = discr_si(np.arange(len(local)), 6.8, 4.1)
    ts, te = default_windows(len(local), 7)
    ref = _reference(local, imported, w, ts, te)
    assert [(x.t_start, x.t_end) for x in res.windows] == [(r[0], r[1]) for r in ref]
    for x, r in zip(res.windows, ref):
        got = (x.mean, x.std, x.q025, x.median, x.q975)
        for g, e in zip(got, r[2:]):
            assert g == pytest.approx(e, rel=1e-9)


def test_imported_cases_add_infectivity_not_local_incidence():
    local = [0, 2, 3, 5, 4, 6, 8, 9, 7, 10]
    base = estimate_r(local=local, imported=[1] + [0] * 9, mean_si=2.6, std_si=1.5, window=3)
    more = estimate_r(local=local, imported=[1, 0, 5, 0, 0, 0, 0, 0, 0, 0], mean_si=2.6, std_si=1.5, window=3)
    for b, m in zip(base.windows, more.windows):
        assert m.shape == b.shape  # same local cases in the numerator
        assert m.scale <= b.scale  # more infectivity in the denominator
    assert more.windows[0].mean < base.windows[0].mean


def test_day_one_cases_are_imported():
    loc, imp = process_incidence([4, 1, 2])
    assert loc.tolist() == [0, 1, 2] and imp.tolist() == [4, 0, 0]
    loc, imp = process_incidence(local=[3, 1, 2], imported=[1, 0, 4])
    assert loc.tolist() == [0, 1, 2] and imp.tolist() == [4, 0, 4]
    # a single I series equals local=I (day 1 moved) with no imports
    a = estimate_r([5, 1, 2, 4, 3, 6, 7, 9, 8, 11], mean_si=2.6, std_si=1.5)
    b = estimate_r(local=[5, 1, 2, 4, 3, 6, 7, 9, 8, 11], imported=[0] * 10, mean_si=2.6, std_si=1.5)
    assert a.rows() == b.rows()


def test_overall_infectivity():
    lam = overall_infectivity([1, 2, 3, 4], [0, 0.5, 0.5])
    assert math.isnan(lam[0])
    assert lam[1:].tolist() == [0.5, 1.5, 2.5]


def test_default_windows():
    ts, te = default_windows(32, 7)
    assert ts.tolist() == list(range(2, 27)) and te.tolist() == list(range(8, 33))
    ts, te = default_windows(10, 3)
    assert ts.tolist() == list(range(2, 9)) and te.tolist() == list(range(4, 11))


def test_windows_ending_before_mean_si_are_dropped():
    """EpiEstim returns NA for windows with t_end <= mean SI and drops those rows."""
    rows = incidence("Measles1861")
    counts = [float(r["I"]) for r in rows]
    w = si_distr("Measles1861")
    mean_si = sum(k * x for k, x in enumerate(w))  # 14.9
    res = estimate_r(counts, si_distr=w)
    ts, te = default_windows(len(counts), 7)
    kept = [(s, e) for s, e in zip(ts.tolist(), te.tolist()) if e > mean_si]
    assert [(x.t_start, x.t_end) for x in res.windows] == kept
    assert res.windows[0].t_end == 15
    assert res.si_mean == pytest.approx(mean_si)


@pytest.mark.parametrize("name", ["Flu1918", "SARS2003", "Smallpox1972", "Measles1861"])
def test_bundled_datasets_against_reference(name):
    counts = [float(r["I"]) for r in incidence(name)]
    w = si_distr(name)
    res = estimate_r(counts, si_distr=w)
    ts, te = default_windows(len(counts), 7)
    ref = _reference(counts, [0] * len(counts), w, ts, te)
    assert len(res.windows) == len(ref) > 0
    for x, r in zip(res.windows, ref):
        assert (x.t_start, x.t_end) == r[:2]
        for g, e in zip((x.mean, x.std, x.q025, x.median, x.q975), r[2:]):
            assert g == pytest.approx(e, rel=1e-9)


def test_custom_windows_and_priors():
    counts, _ = _flu2009()
    ts = list(range(2, len(counts) - 13))
    te = [t + 13 for t in ts]
    res = estimate_r(counts, si_distr=si_distr("Flu2009"), t_start=ts, t_end=te, mean_prior=1, std_prior=2)
    ref = _reference(counts, [0] * len(counts), si_distr("Flu2009"), ts, te, 1, 2)
    assert len(res.windows) == len(ref)
    for x, r in zip(res.windows, ref):
        assert x.mean == pytest.approx(r[2], rel=1e-12)


def test_prior_only_when_no_cases():
    res = estimate_r([0] * 10, mean_si=2.6, std_si=1.5)
    # no cases, no infectivity: the posterior is the prior Gamma(shape 1, scale 5)
    assert res.windows
    for w in res.windows:
        assert (w.shape, w.scale, w.mean, w.std) == (1.0, 5.0, 5.0, 5.0)
    # one case on day 1 then nothing: shape stays 1, infectivity shrinks the scale
    res = estimate_r([1] + [0] * 9, mean_si=2.6, std_si=1.5)
    assert all(w.shape == 1.0 and w.scale < 5.0 for w in res.windows)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(incidence=[1, 2, -1, 3, 4, 5, 6, 7, 8]), "negative"),
        (dict(incidence=[1, 2, math.nan, 3, 4, 5, 6, 7, 8]), "finite"),
        (dict(incidence=[1, 2, 3]), "too short"),
        (dict(incidence=[1] * 10, si_distr=[0.1, 0.9]), "start with 0"),
        (dict(incidence=[1] * 10, si_distr=[0, 0.5, 0.3]), "sum to 1"),
        (dict(incidence=[1] * 10, si_distr=[0, 1.5, -0.5]), "non-negative"),
        (dict(incidence=[1] * 10, si_distr=[0, 1], mean_si=2.0), "not both"),
        (dict(incidence=[1] * 10, mean_si=None, std_si=None), "mean_si"),
        (dict(local=[1] * 10, imported=[0] * 9), "length"),
        (dict(local=[1] * 10), "both local and imported"),
        (dict(incidence=[1] * 10, mean_prior=0), "mean_prior"),
        (dict(incidence=[1] * 10, t_start=[1], t_end=[5]), "t_start"),
        (dict(incidence=[1] * 10, t_start=[5], t_end=[3]), "<="),
        (dict(incidence=[1] * 10, t_start=[2], t_end=[11]), "t_end"),
    ],
)
def test_bad_input(kwargs, match):
    kwargs.setdefault("method", "non_parametric_si" if "si_distr" in kwargs else "parametric_si")
    if kwargs["method"] == "parametric_si":
        kwargs.setdefault("mean_si", 2.6)
        kwargs.setdefault("std_si", 1.5)
    with pytest.raises(EpiInputError, match=match):
        estimate_r(**kwargs)

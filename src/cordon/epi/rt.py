"""Instantaneous reproduction number (Cori et al. 2013) as R's EpiEstim computes it, and growth helpers.

Pure numpy/scipy; no Django.  Conventions follow EpiEstim 3.0.0 ``estimate_R`` (methods
``"parametric_si"`` and ``"non_parametric_si"``):

* Time steps are 1-based: day 1 is the first row of the series.  Windows are ``[t_start, t_end]`` inclusive.
* All cases on day 1 are treated as imported (EpiEstim's ``process_I``): with a single ``I`` series,
  ``local = I`` except ``local[1] = 0`` and ``imported = (I[1], 0, 0, ...)``; with ``local``/``imported``
  any local cases on day 1 are moved to ``imported``.
* ``Lambda_t = sum_{k=0}^{t-1} w_k (local + imported)_{t-k}`` for ``t >= 2`` (undefined on day 1).
* Posterior for a window: ``Gamma(shape = a0 + sum(local), scale = 1 / (1/b0 + sum(Lambda)))`` with
  ``a0 = (mean_prior/std_prior)^2`` and ``b0 = std_prior^2/mean_prior``.
* Default windows: ``t_start = 2 .. T-window+1``, ``t_end = t_start + window - 1``.  A window is dropped
  (as EpiEstim drops its NA rows) when ``t_end <= mean of the discrete serial interval``.
* For ``"parametric_si"`` the serial interval is ``discr_si(0..T-1, mean_si, std_si)`` (shifted gamma,
  Cori et al. 2013 supplement), padded with a zero to length ``T + 1``.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from scipy import special, stats

__all__ = [
    "EpiInputError",
    "RtWindow",
    "RtResult",
    "QUANTILES",
    "discr_si",
    "process_incidence",
    "overall_infectivity",
    "default_windows",
    "check_si_distr",
    "estimate_r",
    "GrowthEstimate",
    "doubling_time",
    "doubling_times",
    "EpiCurve",
    "epi_curve",
    "days_since_last_community",
    "COMMUNITY",
    "UNDER_CONTROL",
]

QUANTILES: tuple[float, ...] = (0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975)
_QUANTILE_KEYS = ("q025", "q05", "q25", "median", "q75", "q95", "q975")


class EpiInputError(ValueError):
    """Invalid input to an epidemiology function (bad counts, serial interval, windows...)."""


# --------------------------------------------------------------------------------------------------
# Serial interval
# --------------------------------------------------------------------------------------------------

def _pgamma(x: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """Gamma CDF, 0 for x <= 0 (as R's pgamma)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, special.gammainc(shape, np.maximum(x, 0.0) / scale), 0.0)


def discr_si(k: Iterable[float] | float, mean_si: float, std_si: float) -> np.ndarray:
    """EpiEstim's ``discr_si``: discrete serial interval of a gamma shifted by one day.

    ``w_k = k F(k) + (k-2) F(k-2) - 2 (k-1) F(k-1) + a b (2 G(k-1) - G(k-2) - G(k))``, floored at 0, where
    ``F`` is the CDF of Gamma(shape a = ((mu-1)/sigma)^2, scale b = sigma^2/(mu-1)) and ``G`` that of
    Gamma(a + 1, b).
    """
    if not (math.isfinite(mean_si) and math.isfinite(std_si)):
        raise EpiInputError("mean_si and std_si must be finite numbers")
    if std_si <= 0:
        raise EpiInputError(f"std_si must be > 0 (got {std_si})")
    if mean_si <= 1:
        raise EpiInputError(f"mean_si must be > 1 (the serial interval is shifted by one day; got {mean_si})")
    k = np.atleast_1d(np.asarray(k, dtype=float))
    if np.any(k < 0):
        raise EpiInputError("all values in k must be >= 0")
    a = ((mean_si - 1.0) / std_si) ** 2
    b = std_si**2 / (mean_si - 1.0)
    res = k * _pgamma(k, a, b) + (k - 2) * _pgamma(k - 2, a, b) - 2 * (k - 1) * _pgamma(k - 1, a, b)
    res = res + a * b * (2 * _pgamma(k - 1, a + 1, b) - _pgamma(k - 2, a + 1, b) - _pgamma(k, a + 1, b))
    return np.maximum(res, 0.0)


def check_si_distr(si_distr: Sequence[float] | np.ndarray) -> np.ndarray:
    """Validate a discrete serial interval as EpiEstim does (``w_0 == 0``, ``w >= 0``, ``|sum - 1| <= 0.01``)."""
    w = np.asarray(si_distr, dtype=float).ravel()
    if w.size == 0:
        raise EpiInputError("si_distr is empty")
    if not np.all(np.isfinite(w)):
        raise EpiInputError("si_distr must contain only finite numbers")
    if w[0] != 0:
        raise EpiInputError(f"si_distr must start with 0 (probability of a zero serial interval), got {w[0]!r}")
    if np.any(w < 0):
        i = int(np.argmax(w < 0))
        raise EpiInputError(f"si_distr must be non-negative (element k={i} is {w[i]!r})")
    if abs(w.sum() - 1.0) > 0.01:
        raise EpiInputError(f"si_distr must sum to 1 (within 0.01); it sums to {w.sum():.6g}")
    return w


# --------------------------------------------------------------------------------------------------
# Incidence and infectivity
# --------------------------------------------------------------------------------------------------

def _as_counts(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        i = int(np.argmax(~np.isfinite(arr)))
        raise EpiInputError(f"{name}: value at day {i + 1} is not a finite number")
    if np.any(arr < 0):
        i = int(np.argmax(arr < 0))
        raise EpiInputError(f"{name}: negative count {arr[i]:g} at day {i + 1}")
    return arr


def process_incidence(
    incidence: Sequence[float] | np.ndarray | None = None,
    *,
    local: Sequence[float] | np.ndarray | None = None,
    imported: Sequence[float] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(local, imported)`` arrays with EpiEstim's day-1 convention (all day-1 cases imported)."""
    if incidence is not None and (local is not None or imported is not None):
        raise EpiInputError("give either incidence (total I) or local and imported, not both")
    if incidence is not None:
        total = _as_counts("I", incidence)
        loc = total.copy()
        imp = np.zeros_like(total)
        if total.size:
            loc[0] = 0.0
            imp[0] = total[0]
        return loc, imp
    if local is None or imported is None:
        raise EpiInputError("need incidence (total I), or both local and imported")
    loc = _as_counts("local", local).copy()
    imp = _as_counts("imported", imported).copy()
    if loc.size != imp.size:
        raise EpiInputError(f"local and imported differ in length ({loc.size} vs {imp.size})")
    if loc.size and loc[0] > 0:
        imp[0] += loc[0]
        loc[0] = 0.0
    return loc, imp


def overall_infectivity(total: Sequence[float] | np.ndarray, si_distr: Sequence[float] | np.ndarray) -> np.ndarray:
    """``Lambda_t = sum_{k=0}^{t-1} w_k I_{t-k}`` (1-based t); element 0 (day 1) is NaN as in EpiEstim.

    ``total`` is the total (local + imported) incidence.
    """
    inc = np.asarray(total, dtype=float).ravel()
    w = np.asarray(si_distr, dtype=float).ravel()
    T = inc.size
    lam = np.full(T, np.nan)
    if T == 0:
        return lam
    wt = np.zeros(T)
    n = min(T, w.size)
    wt[:n] = w[:n]
    conv = np.convolve(inc, wt)[:T]
    lam[1:] = conv[1:]
    return lam


def default_windows(T: int, window: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """EpiEstim's default sliding windows: ``t_start = 2..T-window+1``, ``t_end = t_start + window - 1``."""
    if window < 1:
        raise EpiInputError(f"window must be >= 1 (got {window})")
    if T < window + 1:
        raise EpiInputError(
            f"series too short: {T} day(s); sliding windows of {window} day(s) starting on day 2 need at "
            f"least {window + 1} days"
        )
    t_start = np.arange(2, T - window + 2)
    return t_start, t_start + window - 1


def _check_times(t_start: np.ndarray, t_end: np.ndarray, T: int) -> None:
    if t_start.size != t_end.size:
        raise EpiInputError("t_start and t_end must have the same length")
    if t_start.size == 0:
        raise EpiInputError("no time windows given")
    for name, arr in (("t_start", t_start), ("t_end", t_end)):
        if np.any(arr % 1 != 0) or np.any(arr < 2) or np.any(arr > T):
            raise EpiInputError(f"{name} must be integers between 2 and the number of days ({T})")
    if np.any(t_start > t_end):
        raise EpiInputError("t_start[i] must be <= t_end[i] for all i")


# --------------------------------------------------------------------------------------------------
# Rt
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RtWindow:
    """Posterior of R over one window (1-based days, inclusive)."""

    t_start: int
    t_end: int
    mean: float
    std: float
    q025: float
    q05: float
    q25: float
    median: float
    q75: float
    q95: float
    q975: float
    shape: float
    scale: float
    date_start: _dt.date | None = None
    date_end: _dt.date | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict with the CLI's keys (dates as ISO strings when present)."""
        d = {
            "t_start": self.t_start,
            "t_end": self.t_end,
            "mean": self.mean,
            "std": self.std,
            "q025": self.q025,
            "q05": self.q05,
            "q25": self.q25,
            "median": self.median,
            "q75": self.q75,
            "q95": self.q95,
            "q975": self.q975,
        }
        if self.date_start is not None:
            d["date_start"] = self.date_start.isoformat()
            d["date_end"] = self.date_end.isoformat() if self.date_end is not None else None
        return d


@dataclass
class RtResult:
    method: str
    windows: list[RtWindow]
    si_distr: np.ndarray
    si_mean: float
    si_std: float
    local: np.ndarray
    imported: np.ndarray
    infectivity: np.ndarray
    dates: list[_dt.date] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> np.ndarray:
        return self.local + self.imported

    def rows(self) -> list[dict]:
        return [w.as_dict() for w in self.windows]


def estimate_r(
    incidence: Sequence[float] | np.ndarray | None = None,
    *,
    local: Sequence[float] | np.ndarray | None = None,
    imported: Sequence[float] | np.ndarray | None = None,
    method: str | None = None,
    mean_si: float | None = None,
    std_si: float | None = None,
    si_distr: Sequence[float] | np.ndarray | None = None,
    window: int = 7,
    t_start: Sequence[int] | None = None,
    t_end: Sequence[int] | None = None,
    mean_prior: float = 5.0,
    std_prior: float = 5.0,
    cv_posterior: float = 0.3,
    dates: Sequence[_dt.date] | None = None,
) -> RtResult:
    """Cori et al. (2013) instantaneous R, exactly as EpiEstim's ``estimate_R`` (certain serial interval).

    Give either ``incidence`` (total daily cases, EpiEstim's ``I``) or ``local`` and ``imported``.
    ``method`` is ``"parametric_si"`` (needs ``mean_si``, ``std_si``) or ``"non_parametric_si"`` (needs
    ``si_distr`` with ``si_distr[0] == 0``); if omitted it is inferred from the arguments given.
    Windows default to EpiEstim's sliding windows of ``window`` days; windows ending on or before the
    serial interval's mean are dropped.  ``dates`` (one per day) adds ``date_start``/``date_end``.
    """
    if method is None:
        method = "non_parametric_si" if si_distr is not None else "parametric_si"
    if method not in ("parametric_si", "non_parametric_si"):
        raise EpiInputError(f"method must be 'parametric_si' or 'non_parametric_si' (got {method!r})")
    if not (math.isfinite(mean_prior) and mean_prior > 0):
        raise EpiInputError(f"mean_prior must be > 0 (got {mean_prior})")
    if not (math.isfinite(std_prior) and std_prior > 0):
        raise EpiInputError(f"std_prior must be > 0 (got {std_prior})")

    loc, imp = process_incidence(incidence, local=local, imported=imported)
    T = loc.size
    if dates is not None:
        dates = list(dates)
        if len(dates) != T:
            raise EpiInputError(f"dates has {len(dates)} entries but the series has {T} days")

    if t_start is None and t_end is None:
        ts, te = default_windows(T, window)
    elif t_start is None or t_end is None:
        raise EpiInputError("give both t_start and t_end, or neither")
    else:
        if T < 2:
            raise EpiInputError(f"series too short: {T} day(s); need at least 2")
        ts = np.asarray(t_start, dtype=float).ravel()
        te = np.asarray(t_end, dtype=float).ravel()
        _check_times(ts, te, T)
        ts = ts.astype(int)
        te = te.astype(int)

    a_prior = (mean_prior / std_prior) ** 2
    b_prior = std_prior**2 / mean_prior

    if method == "parametric_si":
        if mean_si is None or std_si is None:
            raise EpiInputError("method parametric_si needs mean_si and std_si")
        if si_distr is not None:
            raise EpiInputError("give either si_distr or mean_si/std_si, not both")
        w = discr_si(np.arange(T), mean_si, std_si)
    else:
        if si_distr is None:
            raise EpiInputError("method non_parametric_si needs si_distr")
        if mean_si is not None or std_si is not None:
            raise EpiInputError("give either si_distr or mean_si/std_si, not both")
        w = check_si_distr(si_distr)
    if w.size < T + 1:
        w = np.concatenate([w, np.zeros(T + 1 - w.size)])
    kk = np.arange(w.size, dtype=float)
    si_mean = float(np.sum(w * kk))
    si_std = float(math.sqrt(max(np.sum(w * kk**2) - si_mean**2, 0.0)))

    total = loc + imp
    lam = overall_infectivity(total, w)

    warnings: list[str] = []
    min_cases = math.ceil(1 / cv_posterior**2 - a_prior)
    first_cases = float(np.sum(total[ts[0] - 1 : te[0]]))
    if first_cases < min_cases:
        warnings.append(
            f"estimating R too early in the epidemic to get the desired posterior CV ({cv_posterior}): "
            f"{first_cases:g} cases in the first window, {min_cases} wanted"
        )

    windows: list[RtWindow] = []
    for s, e in zip(ts.tolist(), te.tolist()):
        if not e > si_mean:
            continue  # EpiEstim leaves NA and drops the row
        shape = a_prior + float(np.sum(loc[s - 1 : e]))
        scale = 1.0 / (1.0 / b_prior + float(np.sum(lam[s - 1 : e])))
        qs = special.gammaincinv(shape, np.asarray(QUANTILES)) * scale
        windows.append(
            RtWindow(
                t_start=int(s),
                t_end=int(e),
                mean=shape * scale,
                std=math.sqrt(shape) * scale,
                **{k: float(v) for k, v in zip(_QUANTILE_KEYS, qs)},
                shape=shape,
                scale=scale,
                date_start=dates[s - 1] if dates is not None else None,
                date_end=dates[e - 1] if dates is not None else None,
            )
        )
    if not windows:
        warnings.append("no window ends after the mean serial interval; nothing to estimate")
    return RtResult(
        method=method,
        windows=windows,
        si_distr=w,
        si_mean=si_mean,
        si_std=si_std,
        local=loc,
        imported=imp,
        infectivity=lam,
        dates=dates,
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------------
# Doubling / halving time
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GrowthEstimate:
    """Exponential growth over a window, from OLS of ln(daily count) on day.

    ``kind`` is ``"doubling"`` when the growth rate is positive, ``"halving"`` when negative, ``"flat"``
    when exactly zero.  ``time`` is ``ln 2 / |r|`` in days; ``time_lo``/``time_hi`` bound it from the
    confidence interval of ``r`` (``time_hi`` is ``inf`` when that interval includes 0, i.e. the sign of
    growth is not established).
    """

    t_start: int
    t_end: int
    n: int
    growth_rate: float
    growth_rate_lo: float
    growth_rate_hi: float
    kind: str
    time: float
    time_lo: float
    time_hi: float
    level: float

    def as_dict(self) -> dict:
        def f(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "t_start": self.t_start,
            "t_end": self.t_end,
            "n": self.n,
            "growth_rate": self.growth_rate,
            "growth_rate_lo": self.growth_rate_lo,
            "growth_rate_hi": self.growth_rate_hi,
            "kind": self.kind,
            "time": f(self.time),
            "time_lo": f(self.time_lo),
            "time_hi": f(self.time_hi),
            "level": self.level,
        }


def _growth(y: np.ndarray, t_start: int, level: float) -> GrowthEstimate:
    n = y.size
    x = np.arange(n, dtype=float)
    ly = np.log(y)
    xm = x.mean()
    sxx = float(np.sum((x - xm) ** 2))
    r = float(np.sum((x - xm) * (ly - ly.mean())) / sxx)
    resid = ly - (ly.mean() + r * (x - xm))
    df = n - 2
    if df > 0:
        s2 = float(np.sum(resid**2) / df)
        se = math.sqrt(s2 / sxx)
        tq = float(stats.t.ppf(0.5 + level / 2, df))
        lo, hi = r - tq * se, r + tq * se
    else:
        lo, hi = -math.inf, math.inf
    ln2 = math.log(2)
    if r > 0:
        kind, time = "doubling", ln2 / r
        time_lo = ln2 / hi if hi > 0 else math.inf
        time_hi = ln2 / lo if lo > 0 else math.inf
    elif r < 0:
        kind, time = "halving", ln2 / -r
        time_lo = ln2 / -lo if lo < 0 else math.inf
        time_hi = ln2 / -hi if hi < 0 else math.inf
    else:
        kind, time, time_lo, time_hi = "flat", math.inf, math.inf, math.inf
    return GrowthEstimate(
        t_start=t_start,
        t_end=t_start + n - 1,
        n=n,
        growth_rate=r,
        growth_rate_lo=lo,
        growth_rate_hi=hi,
        kind=kind,
        time=time,
        time_lo=time_lo,
        time_hi=time_hi,
        level=level,
    )


def doubling_time(counts: Sequence[float] | np.ndarray, window: int | None = None, *, level: float = 0.95) -> GrowthEstimate:
    """Doubling (or halving) time over the last ``window`` days of ``counts`` (all days when None).

    Log-linear regression: OLS of ``ln(count)`` on day; ``r`` is the slope, its ``level`` confidence
    interval uses Student's t with n-2 degrees of freedom.  Every count in the window must be > 0.
    """
    y = _as_counts("counts", counts)
    if window is None:
        window = y.size
    if window < 3:
        raise EpiInputError(f"window must be >= 3 days for a confidence interval (got {window})")
    if y.size < window:
        raise EpiInputError(f"series too short: {y.size} day(s), window is {window}")
    if not 0 < level < 1:
        raise EpiInputError(f"level must be in (0, 1) (got {level})")
    seg = y[y.size - window :]
    if np.any(seg <= 0):
        i = int(np.argmax(seg <= 0)) + y.size - window
        raise EpiInputError(f"day {i + 1} has 0 cases; log-linear regression needs positive counts in the window")
    return _growth(seg, y.size - window + 1, level)


def doubling_times(
    counts: Sequence[float] | np.ndarray, window: int = 7, *, level: float = 0.95
) -> list[GrowthEstimate | None]:
    """Sliding :func:`doubling_time` over every window of ``window`` days (1-based ``t_start = 1..T-window+1``).

    A window containing a zero count gives ``None``.
    """
    y = _as_counts("counts", counts)
    if window < 3:
        raise EpiInputError(f"window must be >= 3 days for a confidence interval (got {window})")
    if y.size < window:
        raise EpiInputError(f"series too short: {y.size} day(s), window is {window}")
    out: list[GrowthEstimate | None] = []
    for s in range(0, y.size - window + 1):
        seg = y[s : s + window]
        out.append(None if np.any(seg <= 0) else _growth(seg, s + 1, level))
    return out


# --------------------------------------------------------------------------------------------------
# Epi curves and community-zero status
# --------------------------------------------------------------------------------------------------

COMMUNITY = "community"  # 社会面: found by screening / outside control
UNDER_CONTROL = "under_control"  # 隔离管控中发现: found among people already isolated or in controlled areas


@dataclass
class EpiCurve:
    days: list[_dt.date]
    community: np.ndarray
    under_control: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.community + self.under_control

    def rows(self) -> list[dict]:
        return [
            {"date": d.isoformat(), "community": int(c), "under_control": int(u), "total": int(c + u)}
            for d, c, u in zip(self.days, self.community.tolist(), self.under_control.tolist())
        ]


def _as_date(x) -> _dt.date:
    if isinstance(x, _dt.datetime):
        return x.date()
    if isinstance(x, _dt.date):
        return x
    if isinstance(x, str):
        try:
            return _dt.date.fromisoformat(x)
        except ValueError as exc:
            raise EpiInputError(f"not an ISO date (YYYY-MM-DD): {x!r}") from exc
    raise EpiInputError(f"not a date: {x!r}")


def epi_curve(
    dates: Sequence,
    where_found: Sequence[str],
    counts: Sequence[int] | None = None,
    *,
    start: _dt.date | str | None = None,
    end: _dt.date | str | None = None,
) -> EpiCurve:
    """Daily counts split by where infections were found, every day from ``start`` to ``end`` (zeros filled).

    ``dates[i]`` is the day infection ``i`` was reported, ``where_found[i]`` is ``"community"`` or
    ``"under_control"``; ``counts[i]`` (default 1) lets aggregated rows be passed.  ``start``/``end``
    default to the first/last date given; records outside are ignored.
    """
    if len(dates) != len(where_found):
        raise EpiInputError("dates and where_found differ in length")
    if counts is not None and len(counts) != len(dates):
        raise EpiInputError("counts and dates differ in length")
    ds = [_as_date(d) for d in dates]
    s = _as_date(start) if start is not None else (min(ds) if ds else None)
    e = _as_date(end) if end is not None else (max(ds) if ds else None)
    if s is None or e is None:
        return EpiCurve([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if e < s:
        raise EpiInputError(f"end {e} is before start {s}")
    n = (e - s).days + 1
    comm = np.zeros(n, dtype=np.int64)
    ctrl = np.zeros(n, dtype=np.int64)
    for i, (d, wf) in enumerate(zip(ds, where_found)):
        c = 1 if counts is None else int(counts[i])
        if c < 0:
            raise EpiInputError(f"negative count {c} on {d}")
        if wf == COMMUNITY:
            target = comm
        elif wf == UNDER_CONTROL:
            target = ctrl
        else:
            raise EpiInputError(f"where_found must be {COMMUNITY!r} or {UNDER_CONTROL!r} (got {wf!r})")
        if s <= d <= e:
            target[(d - s).days] += c
    return EpiCurve([s + _dt.timedelta(days=i) for i in range(n)], comm, ctrl)


def days_since_last_community(dates: Iterable, today: _dt.date | str) -> int | None:
    """Days from the last community (社会面) infection on or before ``today`` to ``today``.

    0 means a community infection was reported today; ``None`` means none so far.  Dates after
    ``today`` are ignored.  社会面清零 ("community zero") holds for ``today`` when the result is >= 1.
    """
    t = _as_date(today)
    last = None
    for d in dates:
        d = _as_date(d)
        if d <= t and (last is None or d > last):
            last = d
    return None if last is None else (t - last).days

"""Person orders: quarantine / home periods, test days and release dates from the pack and the anchor day.

Pure (no Django). Counting convention (POLICY.md):

* The anchor day is day 0: date of last exposure (contacts), of arrival (inbound and arrivals) or of
  leaving the risk area (spill-over). Day k is anchor + k.
* A period of "N days centralized + M days home" covers days 1..N, then N+1..N+M; the person is free from
  day N+M+1 (`free_on`).
* Test days of the first period are anchor-relative; test days of a following period are relative to
  that period ("home day 3" of a 7 + 3 order is anchor + 10). (For the first period the two agree.)
* Identifying someone late never restarts the clock (nine prohibitions #5). A person identified on date
  I keeps the order's dates: periods that ended before I are dropped, the period in force on I starts on
  I, test days before I are listed as missed (`missed_test_days`), not moved. Found on day 3 of a 7-day
  period: four days left (days 4..7) after the day of identification.
* Identified on or after the order's `free_on`: no order (`void=True`, no periods); the person is free
  at once. A category without periods (from_low_area) gives an order with no periods and its test window.
* Before identification a person is "free"; from identification to the first period (identified on the
  anchor day) the person is already under the first period's measures.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from . import guardrails as _g
from .pack import Pack, TestWindow, load_pack

ONE = dt.timedelta(days=1)

CENTRALIZED = "centralized"
HOME = "home"
FREE = "free"

ARRIVAL_CATEGORY = {"high": "from_high_area", "medium": "from_medium_area", "low": "from_low_area"}


class OrderRefused(ValueError):
    """An order or extension a guardrail blocks; `.verdict` says which rule and why."""

    def __init__(self, verdict: _g.Verdict):
        self.verdict = verdict
        super().__init__(f"{verdict.rule}: {verdict.message_en}")


@dataclass(frozen=True)
class Period:
    kind: str                       # centralized | home_quarantine | home_monitoring
    start: dt.date
    end: dt.date                    # inclusive
    test_days: tuple[dt.date, ...]

    @property
    def status(self) -> str:
        return CENTRALIZED if self.kind == "centralized" else HOME

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Extension:
    days: int
    reason_kind: str
    reason: str = ""


@dataclass(frozen=True)
class Order:
    pack: str
    category: str
    anchor: dt.date
    identified_on: dt.date | None
    periods: tuple[Period, ...]
    centralized_until: dt.date | None   # last centralized day (None: no centralized period left)
    home_until: dt.date | None          # last home day (None: no home period left)
    free_on: dt.date                    # first free day
    test_days: tuple[dt.date, ...]      # tests still to do, in date order
    missed_test_days: tuple[dt.date, ...] = ()  # test days before identification
    test_window: TestWindow | None = None       # e.g. from_low_area: 2 tests within 3 days, 24 h apart
    void: bool = False                  # identified after the order would have ended: no order
    extended_by: int = 0
    extensions: tuple[Extension, ...] = ()

    @property
    def restricts(self) -> bool:
        return bool(self.periods)

    def status_on(self, day: dt.date) -> str:
        return status_on(self, day)

    def as_dict(self) -> dict:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"category": self.category, "centralized_until": iso(self.centralized_until),
                "home_until": iso(self.home_until), "free_on": iso(self.free_on),
                "test_days": [d.isoformat() for d in self.test_days]}


def _finish(base: dict, periods: list[Period]) -> Order:
    cen = [p.end for p in periods if p.status == CENTRALIZED]
    home = [p.end for p in periods if p.status == HOME]
    return Order(periods=tuple(periods), centralized_until=max(cen) if cen else None,
                 home_until=max(home) if home else None,
                 test_days=tuple(sorted(d for p in periods for d in p.test_days)), **base)


def compute_order(pack: Pack, category: str, anchor: dt.date, identified_on: dt.date | None = None) -> Order:
    """The order for a person of `category` whose anchor day (day 0) is `anchor`, identified on
    `identified_on` (None: on time). Raises OrderRefused (nine-prohibitions-4) for a category the pack
    lacks."""
    cat = pack.category(category)
    if cat is None:
        raise OrderRefused(_g.verdict(pack, "nine-prohibitions-4", "order_category_missing", None, person="",
                                      category=category))
    periods: list[Period] = []
    start = anchor + ONE
    for spec in cat.periods:
        end = start + dt.timedelta(days=spec.days - 1)
        tests = tuple(start + dt.timedelta(days=k - 1) for k in spec.tests)  # period day k = start - 1 + k
        periods.append(Period(spec.kind, start, end, tests))
        start = end + ONE
    free_on = start
    base = dict(pack=pack.name, category=category, anchor=anchor, identified_on=identified_on,
                free_on=free_on, test_window=cat.test_window)
    if identified_on is None or identified_on <= anchor + ONE:
        return _finish(base, periods)
    if identified_on >= free_on:
        missed = tuple(d for p in periods for d in p.test_days)
        return _finish({**base, "void": True, "missed_test_days": missed}, [])
    kept: list[Period] = []
    missed: list[dt.date] = []
    for p in periods:
        missed.extend(d for d in p.test_days if d < identified_on)
        if p.end < identified_on:
            continue
        kept.append(Period(p.kind, max(p.start, identified_on), p.end,
                           tuple(d for d in p.test_days if d >= identified_on)))
    return _finish({**base, "missed_test_days": tuple(missed)}, kept)


def status_on(order: Order, day: dt.date) -> str:
    """"centralized", "home" or "free" on `day`."""
    if order.void or not order.periods or day >= order.free_on:
        return FREE
    if order.identified_on is not None and day < order.identified_on:
        return FREE
    for p in order.periods:
        if p.start <= day <= p.end:
            return p.status
    if day < order.periods[0].start and day >= (order.identified_on or order.anchor):
        return order.periods[0].status
    return FREE


def _pack_of(order: Order, pack: Pack | None) -> Pack:
    return pack if pack is not None else load_pack(order.pack)


def check_extension(order: Order, days: int, reason_kind: str, *, pack: Pack | None = None,
                    person: str | None = None, reason: str = "") -> _g.Verdict | None:
    """None when the extension is allowed (a positive result is the reason: `reason_kind`
    "positive_result"); otherwise the blocking verdict (nine-prohibitions-5)."""
    if days <= 0:
        raise ValueError("an extension adds at least one day")
    vs = _g.check_extension(_pack_of(order, pack), days=days, reason_kind=reason_kind, person=person,
                            reason=reason)
    return vs[0] if vs else None


def extend_order(order: Order, days: int, reason_kind: str, *, on: dt.date | None = None,
                 pack: Pack | None = None, person: str | None = None, reason: str = "") -> Order:
    """The order extended by `days` (added to the period in force on `on`, default the last period; later
    periods move with it). Raises OrderRefused when check_extension blocks it, ValueError when there is
    no period to extend."""
    v = check_extension(order, days, reason_kind, pack=pack, person=person, reason=reason)
    if v is not None:
        raise OrderRefused(v)
    if not order.periods:
        raise ValueError("the order has no period to extend")
    idx = len(order.periods) - 1
    if on is not None:
        for i, p in enumerate(order.periods):
            if p.start <= on <= p.end:
                idx = i
                break
    delta = dt.timedelta(days=days)
    periods = []
    for i, p in enumerate(order.periods):
        if i < idx:
            periods.append(p)
        elif i == idx:
            periods.append(replace(p, end=p.end + delta))
        else:
            periods.append(Period(p.kind, p.start + delta, p.end + delta, tuple(d + delta for d in p.test_days)))
    base = dict(pack=order.pack, category=order.category, anchor=order.anchor, identified_on=order.identified_on,
                free_on=order.free_on + delta, test_window=order.test_window, missed_test_days=order.missed_test_days,
                extended_by=order.extended_by + days,
                extensions=(*order.extensions, Extension(days, reason_kind, reason)))
    return _finish(base, periods)


def check_order(pack: Pack, category: str, *, person: str | None = None, has_link: bool = True,
                arrival_from_level: str | None = None, arrival_kind: str | None = None) -> list[_g.Verdict]:
    """Guardrails on placing a person under `category` (#2, #4 persons, #7); see guardrails.check_order."""
    return _g.check_order(pack, category, person=person, has_link=has_link,
                          arrival_from_level=arrival_from_level, arrival_kind=arrival_kind)


def arrival_category(from_level: str) -> str:
    """The person category of an arrival from an area at `from_level` (high|medium|low)."""
    try:
        return ARRIVAL_CATEGORY[from_level]
    except KeyError:
        raise ValueError(f"from_level must be one of {', '.join(ARRIVAL_CATEGORY)}, not {from_level!r}") from None


__all__ = ["Period", "Order", "Extension", "OrderRefused", "compute_order", "status_on", "check_extension",
           "extend_order", "check_order", "arrival_category", "CENTRALIZED", "HOME", "FREE"]

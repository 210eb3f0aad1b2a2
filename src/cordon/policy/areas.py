"""The area clock: which level an area is at on a date, when it changes next, what it waits for.

Pure (no Django). Input is one area's history as plain event values; output is an `AreaState`.

Counting convention (POLICY.md, "Area clock"), followed exactly:

* L is the last date on which a new infection counted against the area; at designation L = the
  designation date.
* "N clean days" hold when no infection counted on L+1 .. L+N.
* Where the level's exit also asks for a negative full round "on day N", a round dated L+N (day N) must be
  recorded with all results in and negative.
* The change takes effect at 00:00 of L+N+1, or on the date the round's last result arrives if that is
  later (`Round.result_on`).
* A new counted infection sets L again.

Decisions POLICY.md leaves open (documented in docs/policy-pack.md too):

* **Stepping down.** When an area changes level on date C (automatically or by a manual step-down), the
  new level's clock starts with L = C - 1: the days at the new level are days 1, 2, ... So ninth-edition
  high designated 11-08 with a negative round on 11-15 is medium from 11-16 and, with "then 3 clean days",
  low from 11-19 (clean 11-16, 11-17, 11-18). A level entered by stepping down uses the exit the pack gives
  under `exit_if_entered_from` (ninth-edition medium from high: 3 clean days, no round); a level designated
  directly uses its own `exit` (medium: 7 clean days and a negative round on day 7).
* **Same-day order.** Events on one date apply in the order given. A change due on date C happens at
  00:00 of C, before that day's events: an infection dated C counts against the new level (or, after a
  lift, proposes a re-seal); a keep dated C holds the level in force after that change. To hold an area
  past a change due on C, record the keep on C - 1 or earlier.
* **Rounds.** A round dated before L+N does not count. The first negative round dated on or after L+N
  satisfies the exit (so a late round lets the change happen the day its results are in, never earlier
  than L+N+1). A positive round is simply "not negative": the area waits, and the engine does not
  invent infections from it - the infections the round found are recorded separately and set L again.
  A round whose results are not in yet (`result=None`, or `result_on` after the evaluation date) makes
  the area wait for them. On a date before day N (or on day N itself, when no round for that day is
  recorded yet) the next change is projected assuming the round on day N will be negative.
  `auto_rounds=True` supplies every required round on its day, negative, unless a round event on that
  day says otherwise.
* **Keep.** A `Keep` holds the area at its current level: no automatic change happens until a `Lift`,
  a new `Designate`/`Reseal` or a `Resume`. The clock still runs (infections still set L). Every day on
  which the pack's change date has passed while the keep holds carries a nine-prohibitions-3 flag.
  After a `Resume` on date R, an overdue change takes effect on R.
* **Lift and observation.** A lift (to the base level, automatic or manual) on date C starts the
  pack's observation period: dates C .. C + observation_days - 1. A counted infection in that period
  sets `proposes_reseal` (the engine never re-seals by itself; a `Reseal` does).
* Infections while the area is not designated and not under observation are not the area clock's
  business (designation proposals are made elsewhere).

Cost: `area_state` is O(E log E) in the area's events; `timeline` is O(days * E).
"""
from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

from . import guardrails as _g
from .pack import FOUND_KINDS, Pack

ONE = dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------- events

@dataclass(frozen=True)
class Designate:
    on: dt.date
    level: str
    reason: str = ""
    reseal: bool = False


@dataclass(frozen=True)
class Reseal(Designate):
    reseal: bool = True


@dataclass(frozen=True)
class Infection:
    on: dt.date
    found: str = "community"  # community | controlled_area | quarantine_site
    at_home_isolating: bool = False
    ref: str | None = None  # who / which record, echoed in reseal proposals

    def __post_init__(self):
        if self.found not in FOUND_KINDS:
            raise ValueError(f"found must be one of {', '.join(FOUND_KINDS)}, not {self.found!r}")


@dataclass(frozen=True)
class Round:
    """A full-area test round dated `on`. `result`: "negative", "positive" or None (results not all in).
    `result_on`: the date the last result arrived (default: the round's date)."""
    on: dt.date
    result: str | None = "negative"
    result_on: dt.date | None = None

    def __post_init__(self):
        if self.result not in ("negative", "positive", None):
            raise ValueError(f"round result must be negative, positive or None, not {self.result!r}")
        if self.result_on is not None and self.result_on < self.on:
            raise ValueError("a round's results cannot arrive before the round")

    @property
    def known_on(self) -> dt.date:
        return self.result_on or self.on


@dataclass(frozen=True)
class Keep:
    on: dt.date
    reason: str


@dataclass(frozen=True)
class Resume:
    on: dt.date
    reason: str = ""


@dataclass(frozen=True)
class Lift:
    """A manual lift on `on`: to `level` (default: the pack's base level, i.e. lifted)."""
    on: dt.date
    reason: str = ""
    level: str | None = None


Event = Union[Designate, Infection, Round, Keep, Resume, Lift]
_TYPES = {"designate": Designate, "reseal": Reseal, "infection": Infection, "round": Round, "keep": Keep,
          "resume": Resume, "lift": Lift}


def parse_event(d: Mapping[str, Any]) -> Event:
    """An event from a plain mapping: {"type": "designate", "on": "2022-11-08", "level": "high", ...}.
    `date` is accepted for `on`; dates may be ISO strings."""
    d = dict(d)
    kind = d.pop("type")
    cls = _TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown area event type {kind!r} (known: {', '.join(_TYPES)})")
    if "date" in d and "on" not in d:
        d["on"] = d.pop("date")
    for k in ("on", "result_on"):
        if isinstance(d.get(k), str):
            d[k] = dt.date.fromisoformat(d[k])
    return cls(**d)


# ------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Change:
    level: str
    on: dt.date

    def as_dict(self) -> dict:
        return {"level": self.level, "on": self.on.isoformat()}


@dataclass(frozen=True)
class Waiting:
    kind: str  # round_pending | round_positive | round_missing | kept
    on: dt.date | None
    en: str
    zh: str

    def __str__(self) -> str:
        return self.en

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class AreaState:
    on: dt.date
    level: str
    designated: bool
    since: dt.date | None                # date the level in force began (None: never designated)
    clock_start: dt.date | None          # L (None when not designated)
    clean_days: int | None               # days since L with nothing counted (on - L)
    entered_from: str | None             # level it stepped down from (None: designated directly)
    next: Change | None                  # change that falls due if nothing more counts; None -> see waiting
    due: Change | None                   # the change the pack makes due (also while a keep holds the area)
    waiting: Waiting | None
    kept: Keep | None                    # the keep holding the area (its day and reason)
    flags: tuple[_g.Verdict, ...]
    lifted_on: dt.date | None
    observation_until: dt.date | None
    proposes_reseal: bool
    reseal_because: tuple[str, ...]
    last_counted: dt.date | None         # last counted infection (any level)
    designated_on: dt.date | None        # first designation of the current spell

    @property
    def under_observation(self) -> bool:
        return (not self.designated and self.lifted_on is not None and self.observation_until is not None
                and self.lifted_on <= self.on <= self.observation_until)

    def as_dict(self) -> dict:
        return {"level": self.level, "since": self.since.isoformat() if self.since else None,
                "next": self.next.as_dict() if self.next else None,
                "waiting": str(self.waiting) if self.waiting else None}


# ------------------------------------------------------------------------------------------- engine

class _St:
    __slots__ = ("level", "designated", "since", "L", "entered_from", "keep", "not_before", "lifted_on",
                 "obs_until", "reseal_because", "last_counted", "designated_on")

    def __init__(self, base: str):
        self.level = base
        self.designated = False
        self.since = None
        self.L = None
        self.entered_from = None
        self.keep: Keep | None = None
        self.not_before = None
        self.lifted_on = None
        self.obs_until = None
        self.reseal_because: list[str] = []
        self.last_counted = None
        self.designated_on = None


class _Prepared:
    __slots__ = ("others", "other_dates", "rounds", "round_dates")

    def __init__(self, events: Iterable[Event]):
        others, rounds = [], []
        for e in events:
            if isinstance(e, Mapping):
                e = parse_event(e)
            (rounds if isinstance(e, Round) else others).append(e)
        others.sort(key=lambda e: e.on)  # stable: same-day order as given
        rounds.sort(key=lambda e: e.on)
        self.others = others
        self.other_dates = [e.on for e in others]
        self.rounds = rounds
        self.round_dates = [r.on for r in rounds]


class _Engine:
    def __init__(self, pack: Pack, prep: _Prepared, D: dt.date, auto_rounds: bool):
        self.pack, self.prep, self.D, self.auto = pack, prep, D, auto_rounds
        self.base = pack.base_level
        self.r_end = bisect.bisect_right(prep.round_dates, D)

    # when does the current level change, per the pack, knowing what is known on D?
    def due(self, st: _St) -> tuple[Change | None, Waiting | None]:
        ex = self.pack.exit_for(st.level, st.entered_from)
        if ex is None:
            return None, None
        C = st.L + dt.timedelta(days=ex.clean_days + 1)
        waiting = None
        if ex.round_on_day is not None:
            C, waiting = self._round(st, ex.round_on_day, C)
        if C is None:
            return None, waiting
        if st.not_before is not None and st.not_before > C:
            C = st.not_before
        return Change(ex.to, C), None

    def _round(self, st: _St, n: int, base: dt.date) -> tuple[dt.date | None, Waiting | None]:
        rd = st.L + dt.timedelta(days=n)
        prep = self.prep
        i = bisect.bisect_left(prep.round_dates, rd)
        cands: list[Round] = prep.rounds[i:self.r_end]
        if self.auto and rd <= self.D and not (cands and cands[0].on == rd):
            cands = [Round(rd, "negative"), *cands]
        positive = None
        for r in cands:
            if r.result is None or r.known_on > self.D:
                return None, Waiting(
                    "round_pending", r.on,
                    f"results of the full round on {r.on.isoformat()} (day {(r.on - st.L).days}) pending",
                    f"等待{r.on.isoformat()}（第{(r.on - st.L).days}天）全员核酸检测结果")
            if r.result == "negative":
                return max(base, r.known_on), None
            positive = r.on
        if positive is not None:
            return None, Waiting(
                "round_positive", positive,
                f"a negative full round (the round on {positive.isoformat()} was not negative)",
                f"等待全员核酸检测阴性（{positive.isoformat()}一轮未全部阴性）")
        if rd >= self.D:
            return base, None  # projected: the round on day n is assumed negative
        return None, Waiting(
            "round_missing", rd,
            f"a negative full round on day {n} ({rd.isoformat()}): none recorded",
            f"等待第{n}天（{rd.isoformat()}）全员核酸检测阴性：未记录")

    def change(self, st: _St, on: dt.date, to: str) -> None:
        if to == self.base:
            st.level, st.designated, st.since = to, False, on
            st.L = st.entered_from = st.keep = st.not_before = None
            st.lifted_on = on
            obs = self.pack.observation_days
            st.obs_until = on + dt.timedelta(days=obs - 1) if obs > 0 else None
            st.reseal_because = []
            st.designated_on = None
        else:
            st.entered_from, st.level, st.since = st.level, to, on
            st.L = on - ONE
            st.keep = st.not_before = None

    def advance(self, st: _St, t: dt.date) -> None:
        while st.designated and st.keep is None:
            ch, _w = self.due(st)
            if ch is None or ch.on > t:
                return
            self.change(st, ch.on, ch.level)

    def apply(self, st: _St, e: Event) -> None:
        pack = self.pack
        if isinstance(e, Designate):
            if e.level not in pack.designated_levels:
                raise ValueError(f"cannot designate {e.level!r}: pack {pack.name} designates "
                                 f"{', '.join(pack.designated_levels)}")
            if not (st.designated and st.level == e.level):
                st.since = e.on
            if not st.designated:
                st.designated_on = e.on
            st.level, st.designated, st.L = e.level, True, e.on
            st.entered_from = st.keep = st.not_before = None
            st.lifted_on = st.obs_until = None
            st.reseal_because = []
        elif isinstance(e, Infection):
            if not pack.counts(e.found, e.at_home_isolating):
                return
            st.last_counted = e.on
            if st.designated:
                if st.L is None or e.on > st.L:
                    st.L = e.on
            elif st.lifted_on is not None and st.obs_until is not None and st.lifted_on <= e.on <= st.obs_until:
                st.reseal_because.append(e.ref or e.on.isoformat())
        elif isinstance(e, Keep):
            if st.designated and st.keep is None:
                st.keep = e
        elif isinstance(e, Resume):
            if st.keep is not None:
                st.keep = None
                st.not_before = e.on
        elif isinstance(e, Lift):
            if not st.designated:
                return
            to = e.level or self.base
            if to not in pack.levels:
                raise ValueError(f"cannot lift to {to!r}: pack {pack.name} has levels {', '.join(pack.levels)}")
            if pack.level_rank(to) <= pack.level_rank(st.level):
                raise ValueError(f"a lift goes down: {to!r} is not below {st.level!r}")
            self.change(st, e.on, to)

    def run(self, subject: str | None) -> AreaState:
        st = _St(self.base)
        prep, D = self.prep, self.D
        end = bisect.bisect_right(prep.other_dates, D)
        for e in prep.others[:end]:
            self.advance(st, e.on)
            self.apply(st, e)
        self.advance(st, D)

        nxt = due = waiting = None
        flags: tuple[_g.Verdict, ...] = ()
        if st.designated:
            due, waiting = self.due(st)
            if st.keep is not None:
                waiting = Waiting("kept", st.keep.on, f"held since {st.keep.on.isoformat()}: {st.keep.reason}",
                                  f"{st.keep.on.isoformat()}起暂缓调整：{st.keep.reason}")
                if due is not None and due.on <= D:
                    flags = (_g.kept_past_due(self.pack, area=subject, level=st.level, to=due.level, due=due.on,
                                              on=D, reason=st.keep.reason),)
            else:
                nxt = due
        return AreaState(
            on=D, level=st.level, designated=st.designated, since=st.since, clock_start=st.L,
            clean_days=(D - st.L).days if st.L is not None else None, entered_from=st.entered_from,
            next=nxt, due=due, waiting=waiting, kept=st.keep, flags=flags, lifted_on=st.lifted_on,
            observation_until=st.obs_until,
            proposes_reseal=bool(st.reseal_because) and not st.designated,
            reseal_because=tuple(st.reseal_because), last_counted=st.last_counted,
            designated_on=st.designated_on)


def area_state(pack: Pack, events: Iterable[Event | Mapping], on: dt.date, *, auto_rounds: bool = False,
               subject: str | None = None) -> AreaState:
    """The state of one area at the end of date `on`, from its events dated up to `on`.
    `subject` (the area's name or path) is used in flag messages."""
    prep = events if isinstance(events, _Prepared) else _Prepared(events)
    return _Engine(pack, prep, on, auto_rounds).run(subject)


def prepare(events: Iterable[Event | Mapping]) -> _Prepared:
    """Sort one area's events once, for repeated `area_state` calls (e.g. a tick over many dates)."""
    return _Prepared(events)


def timeline(pack: Pack, events: Iterable[Event | Mapping], start: dt.date, end: dt.date, *,
             auto_rounds: bool = False, subject: str | None = None) -> list[AreaState]:
    """One AreaState per date from `start` to `end` inclusive."""
    prep = _Prepared(events)
    out, d = [], start
    while d <= end:
        out.append(_Engine(pack, prep, d, auto_rounds).run(subject))
        d += ONE
    return out


def projected_lift(pack: Pack, state: AreaState) -> dt.date | None:
    """The date the area would reach the base level if nothing more counts and every required round is
    negative on its day (None when it waits for something, or when a keep holds it)."""
    if not state.designated:
        return state.lifted_on
    ch = state.next
    level = state.level
    guard = 0
    while ch is not None and guard < 16:
        if ch.level == pack.base_level:
            return ch.on
        ex = pack.exit_for(ch.level, level)
        if ex is None:
            return None
        level = ch.level
        ch = Change(ex.to, ch.on - ONE + dt.timedelta(days=ex.clean_days + 1))
        guard += 1
    return None


def minimum_days_to_lift(pack: Pack, level: str) -> int:
    """Fewest days from L (designation or last counted infection) to the lift date the pack allows for an
    area designated directly at `level`: the sum of the clean days along the exits, plus one."""
    total, entered_from, lv = 0, None, level
    while lv != pack.base_level:
        ex = pack.exit_for(lv, entered_from)
        total += ex.clean_days
        entered_from, lv = lv, ex.to
    return total + 1


# ------------------------------------------------------------------------------------------- checks

def check_designation(pack: Pack, *, node_kind: str, level: str, area: str | None = None,
                      linked_infections: Iterable[Any] = (), linked_places: Iterable[Any] = ()) -> list[_g.Verdict]:
    """Guardrails on a designation: #1 (no linked infection or exposure place: flag) and #4 (a node larger
    than the pack's granularity: flag). See guardrails.check_designation."""
    return _g.check_designation(pack, node_kind=node_kind, level=level, area=area,
                                linked_infections=linked_infections, linked_places=linked_places)


def granularity_ok(pack: Pack, node_kind: str) -> bool:
    """True when a node of this kind may be designated without a flag (not larger than the granularity)."""
    return not pack.above_granularity(node_kind)


__all__ = ["Designate", "Reseal", "Infection", "Round", "Keep", "Resume", "Lift", "Event", "parse_event",
           "Change", "Waiting", "AreaState", "area_state", "prepare", "timeline", "projected_lift",
           "minimum_days_to_lift", "check_designation", "granularity_ok"]

"""Policy packs: loading and validation.

A pack is a YAML file (format: docs/policy-pack.md) holding every figure the engines use: area levels and
how they are left, what counts against an area's clock, person categories with their periods and test
days, response-task deadlines, and the guardrail messages. This module is pure: no Django.

    load_pack("ninth-edition") -> Pack        (built-in name or a path; raises PackInvalid)
    list_packs() -> list[str]                 (built-in names, default first)
    validate(text_or_path) -> list[PackError] (each with line, field path and reason)

Validation composes the YAML into nodes first, so every error carries the line it points at.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping


from cordon import tabular
from cordon.policy.schema import (IDENT, Bool, Ctx, Date, Int, Invalid, ListOf, MapOf, Opt, SchemaError, Str,
                                  Struct, TEXT, check_yaml)

PACKS_DIR = Path(__file__).resolve().parent / "packs"
DEFAULT_PACK = "ninth-edition"
FORMAT_VERSION = 1

CATEGORY_KEYS = ("close_contact", "contact_of_contact", "inbound", "from_high_area", "from_medium_area",
                 "from_low_area")
PERIOD_KINDS = ("centralized", "home_quarantine", "home_monitoring")
FOUND_KINDS = ("community", "controlled_area", "quarantine_site")
AUDIENCES = ("staff", "volunteer", "hotline", "sampling", "medical", "driver")
REQUIRED_TASKS = ("transfer", "investigation", "contact_tracing", "designation", "disinfection", "area_round")
ACTIONS = ("block", "flag")
# guardrail rule -> the check keys the engines look up (each needs a message in the pack)
GUARDRAIL_CHECKS: dict[str, tuple[str, ...]] = {
    "nine-prohibitions-1": ("designation_without_link",),
    "nine-prohibitions-2": ("quarantine_low_area_arrival",),
    "nine-prohibitions-3": ("kept_past_due", "round_missing"),
    "nine-prohibitions-4": ("order_category_missing", "order_without_link", "designation_above_granularity"),
    "nine-prohibitions-5": ("extension_without_positive",),
    "nine-prohibitions-6": ("care_refused",),
    "nine-prohibitions-7": ("student_low_area_quarantine",),
    "nine-prohibitions-8": ("driver_refused",),
    "nine-prohibitions-9": ("essential_place_closure",),
}


# --------------------------------------------------------------------------------------------- errors

class PackError(SchemaError):
    UNNAMED = ("<pack>", "(pack)")


class PackInvalid(Invalid):
    def __init__(self, errors: list[PackError], source: str | None = None):
        super().__init__(errors, source, "policy pack")


# --------------------------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def format(self, lang: str = "zh", **values: Any) -> str:
        return _fill(self.get(lang), values)


@dataclass(frozen=True, kw_only=True)
class Cited:
    """What every rule of a pack carries: its source (a key of the pack's ``sources`` or a citation) and whether
    that source is still to be verified."""
    source: str = ""
    unverified: bool = False


def _cited(v: dict) -> dict:
    return {"source": v.get("source", ""), "unverified": v.get("unverified", False)}


@dataclass(frozen=True)
class Exit(Cited):
    """How a level is left: `clean_days` with no counted infection (L+1 .. L+N), optionally a negative full
    round on `round_on_day` (date L+round_on_day), then the area moves `to` another level."""
    clean_days: int
    to: str
    round_on_day: int | None = None


@dataclass(frozen=True)
class AreaTests(Cited):
    days: tuple[int, ...]
    antigen_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class Level:
    key: str
    title: Text
    measures: Text
    what: Text | None = None
    exit: Exit | None = None
    exit_if_entered_from: Mapping[str, Exit] = field(default_factory=lambda: MappingProxyType({}))
    area_tests: AreaTests | None = None
    designated: bool = True  # False for the base level (the undesignated rest of a county)


@dataclass(frozen=True)
class Counting(Cited):
    found: frozenset[str]  # where-found kinds that count against an area's clock
    home_isolating_counts: bool


@dataclass(frozen=True)
class PeriodSpec(Cited):
    kind: str  # centralized | home_quarantine | home_monitoring
    days: int
    tests: tuple[int, ...]  # period-relative days (for the first period this equals anchor-relative)

    @property
    def status(self) -> str:
        return "centralized" if self.kind == "centralized" else "home"


@dataclass(frozen=True)
class TestWindow:
    count: int
    within_days: int
    min_gap_hours: int


@dataclass(frozen=True)
class Category(Cited):
    key: str
    title: Text
    periods: tuple[PeriodSpec, ...]
    test_window: TestWindow | None = None
    note: Text | None = None

    @property
    def total_days(self) -> int:
        return sum(p.days for p in self.periods)

    @property
    def restricts(self) -> bool:
        return bool(self.periods)


@dataclass(frozen=True)
class Task(Cited):
    key: str
    title: Text
    deadline_hours: int
    playbook: tuple[Text, ...]

    @property
    def playbook_key(self) -> str:
        """The task's default playbook in the pack's library."""
        return task_playbook_key(self.key)


@dataclass(frozen=True)
class Step(Cited):
    """One checkable step of a playbook; `key` is stable across pack versions while the step means the same."""
    key: str
    text: Text


@dataclass(frozen=True)
class Playbook(Cited):
    """A checklist (工作指引) for one job: who it is for, its steps in order. A response task's inline checklist
    is a playbook too (key ``task_<step>``, step keys ``s1``..), so every task has a default playbook."""
    key: str
    title: Text
    steps: tuple[Step, ...]
    audience: tuple[str, ...] = ()
    summary: Text | None = None

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    @property
    def digest(self) -> str:
        """Identifies this wording of the steps: a run records it, so a later pack's changed text shows."""
        blob = "\n".join(f"{s.key}\t{s.text.zh}\t{s.text.en}" for s in self.steps)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12]


def task_playbook_key(task_key: str) -> str:
    return f"task_{task_key}"


@dataclass(frozen=True)
class Cadence(Cited):
    key: str
    title: Text
    times: int
    per_days: int


@dataclass(frozen=True)
class Screening(Cited):
    pool_size: int
    round_hours: int
    alt_pool_size: int | None = None
    note: Text | None = None


@dataclass(frozen=True)
class GuardrailCheck:
    key: str
    action: str  # block | flag
    message: Text


@dataclass(frozen=True)
class Guardrail:
    rule: str  # nine-prohibitions-N
    number: int
    prohibits: Text
    checks: tuple[GuardrailCheck, ...]
    in_scope: bool = True
    source: str = ""


@dataclass(frozen=True)
class Pack:
    name: str
    title: Text
    effective: dt.date
    node_kinds: tuple[str, ...]
    granularity: str
    default_kind: str
    granularity_source: str
    base_level: str
    levels: Mapping[str, Level]  # in pack order, highest first, base level last
    counting: Counting
    observation_days: int
    observation_source: str
    observation_unverified: bool
    persons: Mapping[str, Category]
    tasks: Mapping[str, Task]
    key_populations: tuple[Cadence, ...]
    screening: Screening
    essential_places: tuple[str, ...]
    guardrails: Mapping[str, Guardrail]
    playbooks: Mapping[str, Playbook] = field(default_factory=lambda: MappingProxyType({}))
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    path: str | None = None

    __hash__ = object.__hash__  # identity: packs are loaded once and cached

    # levels
    @property
    def level_order(self) -> tuple[str, ...]:
        return tuple(self.levels)

    @property
    def designated_levels(self) -> tuple[str, ...]:
        return tuple(k for k, lv in self.levels.items() if lv.designated)

    def level(self, key: str) -> Level:
        try:
            return self.levels[key]
        except KeyError:
            raise KeyError(f"pack {self.name} has no level {key!r} (levels: {', '.join(self.levels)})") from None

    def level_rank(self, key: str) -> int:
        """0 for the highest level; larger is lower."""
        return self.level_order.index(key)

    def exit_for(self, level: str, entered_from: str | None = None) -> Exit | None:
        lv = self.level(level)
        if entered_from is not None and entered_from in lv.exit_if_entered_from:
            return lv.exit_if_entered_from[entered_from]
        return lv.exit

    # counting
    def counts(self, found: str, at_home_isolating: bool = False) -> bool:
        if found not in FOUND_KINDS:
            raise ValueError(f"found must be one of {', '.join(FOUND_KINDS)}, not {found!r}")
        if at_home_isolating and not self.counting.home_isolating_counts:
            return False
        return found in self.counting.found

    # granularity
    def node_rank(self, kind: str) -> int:
        """0 for the largest node kind (district)."""
        try:
            return self.node_kinds.index(kind)
        except ValueError:
            raise KeyError(f"unknown node kind {kind!r} (kinds: {', '.join(self.node_kinds)})") from None

    def above_granularity(self, kind: str) -> bool:
        return self.node_rank(kind) < self.node_rank(self.granularity)

    # persons
    def category(self, key: str) -> Category | None:
        return self.persons.get(key)

    # guardrails
    def check(self, rule: str, key: str) -> GuardrailCheck:
        for c in self.guardrails[rule].checks:
            if c.key == key:
                return c
        raise KeyError(f"pack {self.name}: guardrail {rule} has no check {key!r}")

    # playbooks
    def playbook(self, key: str) -> Playbook | None:
        return self.playbooks.get(key)

    def cite(self, source: str) -> str:
        return self.sources.get(source, source)


EXIT = Struct({"clean_days": (Int(min=1), True), "round_on_day": (Opt(Int(min=1)), False),
               "to": (Str(), True)}, sourced=True)
AREA_TESTS = Struct({"days": (ListOf(Int(min=1), unique=True, ascending=True), True),
                     "antigen_days": (ListOf(Int(min=1), unique=True, ascending=True), False)}, sourced=True)
LEVEL = Struct({"title": (TEXT, True), "what": (TEXT, False), "measures": (TEXT, True), "exit": (EXIT, False),
                "exit_if_entered_from": (MapOf(Str(), EXIT), False), "area_tests": (AREA_TESTS, False),
                "note": (TEXT, False)})
COUNTING = Struct({"found": (Struct({k: (Bool(), True) for k in FOUND_KINDS}), True),
                   "home_isolating_counts": (Bool(), True)}, sourced=True)
OBSERVATION = Struct({"days": (Int(min=0), True)}, sourced=True)
PERIOD = Struct({"kind": (Str(choices=PERIOD_KINDS), True), "days": (Int(min=1), True),
                 "tests": (ListOf(Int(min=1), unique=True, ascending=True), False)}, sourced="optional")
TEST_WINDOW = Struct({"count": (Int(min=1), True), "within_days": (Int(min=1), True),
                      "min_gap_hours": (Int(min=0), True)})
CATEGORY = Struct({"title": (TEXT, True), "periods": (ListOf(PERIOD), True), "test_window": (TEST_WINDOW, False),
                   "note": (TEXT, False)}, sourced=True)
TASK = Struct({"title": (TEXT, True), "deadline_hours": (Int(min=1), True), "playbook": (ListOf(TEXT), True)},
              sourced=True)
CADENCE = Struct({"key": (Str(pattern=IDENT), True), "title": (TEXT, True), "times": (Int(min=1), True),
                  "per_days": (Int(min=1), True)}, sourced=True)
SCREENING = Struct({"pool_size": (Int(min=1), True), "alt_pool_size": (Opt(Int(min=1)), False),
                    "round_hours": (Int(min=1), True), "note": (TEXT, False)}, sourced=True)
CHECK = Struct({"key": (Str(pattern=IDENT), True), "action": (Str(choices=ACTIONS), True), "message": (TEXT, True)})
GUARDRAIL = Struct({"rule": (Str(pattern=r"nine-prohibitions-[1-9]"), True), "prohibits": (TEXT, True),
                    "in_scope": (Bool(), False), "checks": (ListOf(CHECK), True)}, sourced=True)
STEP = Struct({"key": (Str(pattern=IDENT), True), "text": (TEXT, True)}, sourced="optional")
PLAYBOOK = Struct({"title": (TEXT, True), "summary": (TEXT, False),
                   "audience": (ListOf(Str(choices=AUDIENCES), unique=True, min_len=1), True),
                   "steps": (ListOf(STEP, min_len=1), True)}, sourced=True)
DESIGNATION = Struct({"granularity": (Str(), True), "default_kind": (Str(), True)}, sourced=True)
PACK = Struct({
    "format": (Int(min=FORMAT_VERSION, max=FORMAT_VERSION), True),
    "name": (Str(pattern=r"[a-z0-9][a-z0-9-]*"), True),
    "title": (TEXT, True),
    "description": (TEXT, False),
    "effective": (Date(), True),
    "sources": (MapOf(Str(), Str()), False),
    "node_kinds": (ListOf(Str(pattern=IDENT), unique=True, min_len=1), True),
    "designation": (DESIGNATION, True),
    "base_level": (Str(), True),
    "levels": (MapOf(Str(pattern=IDENT), LEVEL, min_len=2), True),
    "counting": (COUNTING, True),
    "observation": (OBSERVATION, True),
    "persons": (MapOf(Str(choices=CATEGORY_KEYS), CATEGORY, min_len=1), True),
    "tasks": (MapOf(Str(pattern=IDENT), TASK), True),
    "key_populations": (ListOf(CADENCE), True),
    "screening": (SCREENING, True),
    "essential_places": (ListOf(Str(pattern=IDENT), unique=True), True),
    "guardrails": (ListOf(GUARDRAIL), True),
    "playbooks": (MapOf(Str(pattern=IDENT), PLAYBOOK), False),
})


# --------------------------------------------------------------------------------------------- semantics

def _semantic(d: dict, ctx: Ctx) -> None:
    L = ctx.line
    levels: dict = d.get("levels") or {}
    order = list(levels)
    base = d.get("base_level")
    if base is not None and levels:
        if base not in levels:
            ctx.err(L("base_level"), "base_level", f"{base!r} is not a level (levels: {', '.join(order)})")
        elif order[-1] != base:
            ctx.err(L(f"levels.{base}"), f"levels.{base}", "the base level must be listed last (levels go highest first)")
    for key, lv in levels.items():
        p = f"levels.{key}"
        if key == base:
            if "exit" in lv:
                ctx.err(L(p + ".exit"), p + ".exit", "the base level is not left: it has no exit")
            continue
        if "exit" not in lv and base in levels:
            ctx.err(L(p), p + ".exit", "required key missing (every designated level needs an exit)")
        exits = []
        if "exit" in lv:
            exits.append((p + ".exit", lv["exit"]))
        for frm, ex in (lv.get("exit_if_entered_from") or {}).items():
            fp = f"{p}.exit_if_entered_from.{frm}"
            if frm not in levels:
                ctx.err(L(fp), fp, f"{frm!r} is not a level")
            elif order.index(frm) >= order.index(key):
                ctx.err(L(fp), fp, f"{frm!r} is not above {key!r}: a level is entered from above by stepping down")
            exits.append((fp, ex))
        for ep, ex in exits:
            to = ex.get("to")
            if to is not None:
                if to not in levels:
                    ctx.err(L(ep + ".to"), ep + ".to", f"exit to unknown level {to!r} (levels: {', '.join(order)})")
                elif order.index(to) <= order.index(key):
                    ctx.err(L(ep + ".to"), ep + ".to", f"exit must lead to a lower level than {key!r}, not {to!r}")
            rd, cd = ex.get("round_on_day"), ex.get("clean_days")
            if rd is not None and cd is not None and rd > cd:
                ctx.err(L(ep + ".round_on_day"), ep + ".round_on_day",
                        f"round on day {rd} falls outside the {cd} clean days")
        at = lv.get("area_tests")
        cd = (lv.get("exit") or {}).get("clean_days")
        if at and cd:
            for fld in ("days", "antigen_days"):
                for i, day in enumerate(at.get(fld) or []):
                    if day > cd:
                        fp = f"{p}.area_tests.{fld}[{i}]"
                        ctx.err(L(fp), fp, f"test day {day} is outside the level's {cd} clean days")

    kinds = d.get("node_kinds") or []
    des = d.get("designation") or {}
    for k in ("granularity", "default_kind"):
        if k in des and kinds and des[k] not in kinds:
            ctx.err(L(f"designation.{k}"), f"designation.{k}", f"{des[k]!r} is not a node kind ({', '.join(kinds)})")
    if des.get("granularity") in kinds and des.get("default_kind") in kinds:
        if kinds.index(des["default_kind"]) < kinds.index(des["granularity"]):
            ctx.err(L("designation.default_kind"), "designation.default_kind",
                    "the default node kind is larger than the granularity")

    for key, cat in (d.get("persons") or {}).items():
        p = f"persons.{key}"
        for i, per in enumerate(cat.get("periods") or []):
            for j, day in enumerate(per.get("tests") or []):
                if "days" in per and day > per["days"]:
                    fp = f"{p}.periods[{i}].tests[{j}]"
                    ctx.err(L(fp), fp, f"test day {day} is outside the {per['days']}-day period")
        if key == "from_low_area" and cat.get("periods"):
            ctx.err(L(p + ".periods"), p + ".periods",
                    "people from a low-risk area get no quarantine (nine prohibitions #2)")
        tw = cat.get("test_window")
        if tw and {"count", "within_days", "min_gap_hours"} <= tw.keys():
            if (tw["count"] - 1) * tw["min_gap_hours"] > tw["within_days"] * 24:
                ctx.err(L(p + ".test_window"), p + ".test_window",
                        f"{tw['count']} tests {tw['min_gap_hours']} h apart do not fit in {tw['within_days']} days")
    if "persons" in d and "close_contact" not in d["persons"]:
        ctx.err(L("persons"), "persons.close_contact", "required key missing")

    if "tasks" in d:
        for t in REQUIRED_TASKS:
            if t not in d["tasks"]:
                ctx.err(L("tasks"), f"tasks.{t}", "required key missing")

    seen: set[str] = set()
    for i, c in enumerate(d.get("key_populations") or []):
        if c.get("key") in seen:
            ctx.err(L(f"key_populations[{i}].key"), f"key_populations[{i}].key", f"{c['key']!r} appears twice")
        seen.add(c.get("key"))

    _semantic_playbooks(d, ctx)

    if "guardrails" in d:
        rules: dict[str, int] = {}
        for i, g in enumerate(d["guardrails"]):
            rule = g.get("rule")
            p = f"guardrails[{i}]"
            if rule is None:
                continue
            if rule in rules:
                ctx.err(L(p + ".rule"), p + ".rule", f"{rule} appears twice")
                continue
            rules[rule] = i
            wanted = GUARDRAIL_CHECKS[rule]
            have = []
            for j, c in enumerate(g.get("checks") or []):
                cp = f"{p}.checks[{j}].key"
                if c.get("key") is None:
                    continue
                if c["key"] not in wanted:
                    ctx.err(L(cp), cp, f"unknown check for {rule} (known: {', '.join(wanted) or 'none'})")
                elif c["key"] in have:
                    ctx.err(L(cp), cp, f"{c['key']!r} appears twice")
                have.append(c["key"])
            for w in wanted:
                if w not in have and g.get("in_scope", True):
                    ctx.err(L(p + ".checks"), p + ".checks", f"{rule} needs a check {w!r} with its message")
        for rule in GUARDRAIL_CHECKS:
            if rule not in rules:
                ctx.err(L("guardrails"), "guardrails", f"{rule} is missing")


def _semantic_playbooks(d: dict, ctx: Ctx) -> None:
    L = ctx.line
    tasks = d.get("tasks") or {}
    for key, pb in (d.get("playbooks") or {}).items():
        p = f"playbooks.{key}"
        if key.startswith("task_") and key[5:] in tasks:
            ctx.err(L(p), p, f"{key!r} is the name of task {key[5:]!r}'s own checklist; choose another key")
        seen: set[str] = set()
        for i, step in enumerate(pb.get("steps") or []):
            k = step.get("key")
            if k in seen:
                ctx.err(L(f"{p}.steps[{i}].key"), f"{p}.steps[{i}].key", f"{k!r} appears twice in this playbook")
            seen.add(k)
            if step.get("unverified") and not step.get("source"):
                ctx.err(L(f"{p}.steps[{i}]"), f"{p}.steps[{i}].source",
                        "an unverified step says where it comes from (a source)")


# --------------------------------------------------------------------------------------------- build

def _text(v: dict | None) -> Text | None:
    return Text(zh=v["zh"], en=v["en"]) if v else None


def _exit(v: dict) -> Exit:
    return Exit(clean_days=v["clean_days"], to=v["to"], round_on_day=v.get("round_on_day"),
                **_cited(v))


def _playbooks(d: dict) -> dict[str, Playbook]:
    out = {}
    for key, pb in (d.get("playbooks") or {}).items():
        out[key] = Playbook(key=key, title=_text(pb["title"]), summary=_text(pb.get("summary")),
                            audience=tuple(pb["audience"]),
                            steps=tuple(Step(key=s["key"], text=_text(s["text"]), **_cited(s)) for s in pb["steps"]),
                            **_cited(pb))
    for key, t in d["tasks"].items():
        out[task_playbook_key(key)] = Playbook(
            key=task_playbook_key(key), title=_text(t["title"]), audience=("staff",),
            steps=tuple(Step(key=f"s{i}", text=_text(x)) for i, x in enumerate(t["playbook"], 1)), **_cited(t))
    return out


def _build(d: dict, path: str | None) -> Pack:
    base = d["base_level"]
    levels = {}
    for key, lv in d["levels"].items():
        at = lv.get("area_tests")
        levels[key] = Level(
            key=key, title=_text(lv["title"]), measures=_text(lv["measures"]), what=_text(lv.get("what")),
            exit=_exit(lv["exit"]) if "exit" in lv else None,
            exit_if_entered_from=MappingProxyType({k: _exit(v) for k, v in (lv.get("exit_if_entered_from") or {}).items()}),
            area_tests=AreaTests(tuple(at["days"]), tuple(at.get("antigen_days") or ()), **_cited(at)) if at else None,
            designated=key != base)
    c = d["counting"]
    persons = {}
    for key, cat in d["persons"].items():
        tw = cat.get("test_window")
        persons[key] = Category(
            key=key, title=_text(cat["title"]),
            periods=tuple(PeriodSpec(p["kind"], p["days"], tuple(p.get("tests") or ()), **_cited(p))
                          for p in cat["periods"]),
            test_window=TestWindow(tw["count"], tw["within_days"], tw["min_gap_hours"]) if tw else None,
            note=_text(cat.get("note")), **_cited(cat))
    tasks = {k: Task(k, _text(t["title"]), t["deadline_hours"], tuple(_text(x) for x in t["playbook"]), **_cited(t))
             for k, t in d["tasks"].items()}
    s = d["screening"]
    guardrails = {}
    for g in sorted(d["guardrails"], key=lambda g: int(g["rule"].rsplit("-", 1)[1])):
        guardrails[g["rule"]] = Guardrail(
            rule=g["rule"], number=int(g["rule"].rsplit("-", 1)[1]), prohibits=_text(g["prohibits"]),
            checks=tuple(GuardrailCheck(x["key"], x["action"], _text(x["message"])) for x in g["checks"]),
            in_scope=g.get("in_scope", True), source=g.get("source", ""))
    return Pack(
        name=d["name"], title=_text(d["title"]), effective=d["effective"], node_kinds=tuple(d["node_kinds"]),
        granularity=d["designation"]["granularity"], default_kind=d["designation"]["default_kind"],
        granularity_source=d["designation"].get("source", ""),
        base_level=base, levels=MappingProxyType(levels),
        counting=Counting(frozenset(k for k, v in c["found"].items() if v), c["home_isolating_counts"], **_cited(c)),
        observation_days=d["observation"]["days"], observation_source=d["observation"].get("source", ""),
        observation_unverified=d["observation"].get("unverified", False),
        persons=MappingProxyType(persons), tasks=MappingProxyType(tasks),
        key_populations=tuple(Cadence(x["key"], _text(x["title"]), x["times"], x["per_days"], **_cited(x))
                              for x in d["key_populations"]),
        screening=Screening(s["pool_size"], s["round_hours"], s.get("alt_pool_size"), _text(s.get("note")),
                            **_cited(s)),
        essential_places=tuple(d["essential_places"]), guardrails=MappingProxyType(guardrails),
        playbooks=MappingProxyType(_playbooks(d)),
        sources=MappingProxyType(dict(d.get("sources") or {})), path=path)


# --------------------------------------------------------------------------------------------- API

def _read(text_or_path: str | os.PathLike) -> tuple[str, str | None]:
    if isinstance(text_or_path, os.PathLike):
        p = Path(text_or_path)
        return tabular.read_text(p), str(p)
    s = str(text_or_path)
    if "\n" not in s and len(s) < 1024:
        p = Path(s)
        try:
            is_file = p.is_file()
        except OSError:
            is_file = False
        if is_file or p.suffix in (".yaml", ".yml"):
            return tabular.read_text(p), s
    return s, None


def _parse(text: str, file: str | None) -> tuple[Pack | None, list[PackError]]:
    d, errors = check_yaml(text, PACK, file=file, what="a pack is a mapping", semantic=_semantic, error=PackError)
    return (None, errors) if errors else (_build(d, file), [])


def validate(text_or_path: str | os.PathLike) -> list[PackError]:
    """All errors of a pack (text, or a path to a .yaml file); empty when the pack is valid."""
    text, file = _read(text_or_path)
    return _parse(text, file)[1]


def parse_pack(text: str, file: str | None = None) -> Pack:
    pack, errors = _parse(text, file)
    if errors:
        raise PackInvalid(errors, file)
    assert pack is not None
    return pack


_CACHE: dict[str, tuple[tuple[int, int], Pack]] = {}


def pack_path(name_or_path: str | os.PathLike) -> Path:
    s = str(name_or_path)
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", s) and (PACKS_DIR / f"{s}.yaml").is_file():
        return PACKS_DIR / f"{s}.yaml"
    p = Path(s)
    if p.is_file():
        return p
    raise FileNotFoundError(f"no policy pack {s!r} (built-in: {', '.join(list_packs())}; or give a path to a .yaml file)")


def load_pack(name_or_path: str | os.PathLike = DEFAULT_PACK) -> Pack:
    """A built-in pack by name (see list_packs) or a pack file by path. Cached per file and modification
    time. Raises FileNotFoundError or PackInvalid."""
    if isinstance(name_or_path, Pack):
        return name_or_path
    path = pack_path(name_or_path)
    st = path.stat()
    key = str(path.resolve())
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit and hit[0] == stamp:
        return hit[1]
    pack = parse_pack(tabular.read_text(path), str(path))
    _CACHE[key] = (stamp, pack)
    return pack


def list_packs() -> list[str]:
    """Names of the built-in packs, the default first."""
    names = sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))
    if DEFAULT_PACK in names:
        names.remove(DEFAULT_PACK)
        names.insert(0, DEFAULT_PACK)
    return names


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(_Keep({k: ("" if v is None else v) for k, v in values.items()}))

"""Scenario files: parsing and validation with line numbers (docs/scenario.md).

Event types are registered by the apps that handle them (``register``); each declares its required and
optional fields so that a bad scenario fails before anything runs, with the line and the reason.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml
from cordon.tabular import FileError
from cordon.policy.pack import PackInvalid, load_pack


class ScenarioError(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class EventType:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    handler: Callable | None = None
    check: Callable[[dict], str | None] | None = None


EVENT_TYPES: dict[str, EventType] = {}


def register(name: str, required=(), optional=(), check=None):
    """Decorator: ``@register("designate", required=("area", "level"), optional=("reason",))``."""

    def deco(fn):
        EVENT_TYPES[name] = EventType(name, tuple(required), tuple(optional), fn, check)
        return fn

    return deco


@dataclass
class Event:
    index: int
    line: int
    day: int
    type: str
    data: dict[str, Any]


@dataclass
class Scenario:
    policy: str
    start: dt.date
    days: int
    auto_rounds: bool
    city: dict
    events: list[Event] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


def _plain(node):
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def _line(node) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def parse(text: str) -> Scenario:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(mark.line + 1 if mark else 1, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(root, yaml.MappingNode):
        raise ScenarioError(_line(root), "a scenario is a mapping with policy, start, days, city and events")
    top = {k.value: v for k, v in root.value}
    known = {"policy", "start", "days", "auto_rounds", "city", "events", "options"}
    for k, _v in root.value:
        if k.value not in known:
            raise ScenarioError(_line(k), f"unknown key {k.value!r}; known: {', '.join(sorted(known))}")
    for req in ("start", "days", "city"):
        if req not in top:
            raise ScenarioError(_line(root), f"missing key {req!r}")
    start = top["start"].value if isinstance(top["start"], yaml.ScalarNode) else None
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError:
            raise ScenarioError(_line(top["start"]), "start must be a date YYYY-MM-DD") from None
    if not isinstance(start, dt.date):
        raise ScenarioError(_line(top["start"]), "start must be a date YYYY-MM-DD")
    days = _plain(top["days"])
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
        raise ScenarioError(_line(top["days"]), "days must be a whole number from 1 to 3660")
    policy = _plain(top.get("policy")) or "ninth-edition"
    if not isinstance(policy, str):
        raise ScenarioError(_line(top.get("policy")), "policy must be a pack name or a path")
    _check_policy(policy, _line(top.get("policy")))
    auto = _plain(top.get("auto_rounds")) if "auto_rounds" in top else True
    if not isinstance(auto, bool):
        raise ScenarioError(_line(top["auto_rounds"]), "auto_rounds must be true or false")
    city = _plain(top["city"])
    _check_city(city, top["city"])
    sc = Scenario(policy=policy, start=start, days=days, auto_rounds=auto, city=city,
                  options=_plain(top.get("options")) or {})
    events_node = top.get("events")
    if events_node is not None:
        if not isinstance(events_node, yaml.SequenceNode):
            raise ScenarioError(_line(events_node), "events must be a list")
        for i, node in enumerate(events_node.value):
            sc.events.append(_event(i, node, days))
    return sc


def _check_policy(policy: str, line: int) -> None:
    """The scenario's pack exists and is valid, before anything runs."""
    try:
        load_pack(policy)
    except FileNotFoundError as exc:
        raise ScenarioError(line, f"policy: {exc.args[0] if exc.args else exc}") from None
    except PackInvalid as exc:
        raise ScenarioError(line, f"policy {policy!r} is not a valid pack: {exc.errors[0]}") from None
    except FileError as exc:
        raise ScenarioError(line, f"policy: {exc}") from None


#: A scenario's city is a test bench for rules, built unit by unit through the real actions: these bounds refuse a
#: mistyped size before anything runs (a building of 99 999 999 units would run for days).
MAX_UNITS_PER_BUILDING = 100
MAX_UNITS = 10_000


def _check_city(city, node) -> None:
    total = 0

    def walk(d, depth, path):
        nonlocal total
        if not isinstance(d, dict) or not d:
            raise ScenarioError(_line(node), f"city: {path or 'the city'} must map names to their parts")
        for name, sub in d.items():
            p = f"{path}/{name}" if path else str(name)
            if depth == 4:
                if not isinstance(sub, dict) or set(sub) != {"units"} or not isinstance(sub["units"], int) \
                        or sub["units"] < 1:
                    raise ScenarioError(_line(node), f"city: building {p} needs {{units: N}} with N >= 1")
                if sub["units"] > MAX_UNITS_PER_BUILDING:
                    raise ScenarioError(_line(node), f"city: building {p} has {sub['units']:,} units; at most "
                                                     f"{MAX_UNITS_PER_BUILDING} a building")
                total += sub["units"]
                if total > MAX_UNITS:
                    raise ScenarioError(_line(node), f"city: more than {MAX_UNITS:,} units in all (at {p})")
            else:
                walk(sub, depth + 1, p)

    walk(city, 0, "")


def _event(i: int, node, days: int) -> Event:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError(line, f"event {i} must be a mapping")
    data = _plain(node)
    etype = data.pop("type", None)
    day = data.pop("day", None)
    if etype not in EVENT_TYPES:
        raise ScenarioError(line, f"event {i}: unknown type {etype!r}; known: {', '.join(sorted(EVENT_TYPES))}")
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day < days:
        raise ScenarioError(line, f"event {i}: day must be a whole number from 0 to {days - 1}")
    spec = EVENT_TYPES[etype]
    for req in spec.required:
        if req not in data or data[req] in (None, ""):
            raise ScenarioError(line, f"event {i} ({etype}): missing field {req!r}")
    for key in data:
        if key not in spec.required and key not in spec.optional:
            raise ScenarioError(line, f"event {i} ({etype}): unknown field {key!r}")
    if spec.check:
        problem = spec.check(data)
        if problem:
            raise ScenarioError(line, f"event {i} ({etype}): {problem}")
    return Event(index=i, line=line, day=day, type=etype, data=data)

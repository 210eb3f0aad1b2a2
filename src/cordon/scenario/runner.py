"""Run a scenario through the real actions on a throwaway database and report each day (docs/scenario.md).

Apps plug in with ``spec.register`` (event types) and ``COLLECTORS`` (per-day output keys), so later
issues extend the format without touching this loop.
"""
from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from cordon.core import clock
from cordon.core.actions import ActionError, do_create_user, do_set_pack
from cordon.places.actions import do_ensure_area
from cordon.places.models import Area
from cordon.scenario.spec import EVENT_TYPES, Scenario

#: Modules that register event types and collectors.
PLUGINS = ["cordon.zones.scenario", "cordon.cases.scenario", "cordon.care.scenario", "cordon.keyplaces.scenario",
           "cordon.passes.scenario", "cordon.keyworkers.scenario", "cordon.command.scenario"]

#: Per-day output: (key, function(ctx, date) -> list), in output order.
COLLECTORS: list[tuple[str, Callable]] = []


def collector(key: str):
    def deco(fn):
        COLLECTORS.append((key, fn))
        return fn

    return deco


def load_plugins() -> None:
    for m in PLUGINS:
        importlib.import_module(m)


class Refused(Exception):
    """An event the platform refused (a guardrail block or an invalid action)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass
class Context:
    scenario: Scenario
    actor: Any
    day: int = 0
    date: dt.date | None = None
    refused: list[dict] = field(default_factory=list)
    explicit_rounds: set = field(default_factory=set)  # (area path, day) given as events
    people: dict[str, Any] = field(default_factory=dict)  # person label -> record (per app)
    state: dict[str, Any] = field(default_factory=dict)  # free space for plugins

    def area(self, path: str):
        a = Area.objects.filter(path=str(path).strip().strip("/")).first()
        if a is None:
            raise Refused("unknown-area", f"no such area in the scenario's city: {path}")
        return a


#: Day hooks: functions(ctx) run at the start of each day (before events) and at its end (after events).
DAY_START: list[Callable] = []
DAY_END: list[Callable] = []


def build_city(city: dict, actor) -> None:
    def walk(d, prefix):
        for name, sub in d.items():
            path = f"{prefix}/{name}" if prefix else str(name)
            if isinstance(sub, dict) and set(sub) == {"units"} and isinstance(sub["units"], int):
                for u in range(1, sub["units"] + 1):
                    do_ensure_area(f"{path}/{u}单元", actor=actor, reason="scenario city")
            else:
                walk(sub, path)

    walk(city, "")


def run(sc: Scenario) -> dict:
    """Execute on the configured (fresh) database. Returns the output document."""
    load_plugins()
    actor, _ = do_create_user("scenario", "scenario-runner-pass", role="commander", area=None, actor="scenario",
                              check_password=False)
    ctx = Context(scenario=sc, actor=actor)
    clock.freeze(dt.datetime.combine(sc.start, dt.time(0, 0, 1), tzinfo=clock.tz()))
    do_set_pack(sc.policy, effective_from=sc.start, actor=actor, reason="scenario policy")
    build_city(sc.city, actor)
    for ev in sc.events:
        if ev.type == "round" and "area" in ev.data:
            ctx.explicit_rounds.add((str(ev.data["area"]).strip("/"), ev.day))
    by_day: dict[int, list] = {}
    for ev in sc.events:
        by_day.setdefault(ev.day, []).append(ev)
    out = {"policy": sc.policy, "start": sc.start.isoformat(), "days": []}
    try:
        for day in range(sc.days):
            date = sc.start + dt.timedelta(days=day)
            ctx.day, ctx.date, ctx.refused = day, date, []
            clock.freeze(dt.datetime.combine(date, dt.time(0, 0, 1), tzinfo=clock.tz()))
            for hook in DAY_START:
                hook(ctx)
            for ev in by_day.get(day, []):
                clock.freeze(dt.datetime.combine(date, dt.time(9, 0), tzinfo=clock.tz()))
                try:
                    EVENT_TYPES[ev.type].handler(ctx, ev)
                except Refused as exc:
                    ctx.refused.append({"event": ev.index, "rule": exc.rule, "message": exc.message})
                except ActionError as exc:
                    ctx.refused.append({"event": ev.index, "rule": exc.rule or "invalid",
                                        "message": (f"{exc.field}: " if exc.field else "") + str(exc)})
            clock.freeze(dt.datetime.combine(date, dt.time(23, 0), tzinfo=clock.tz()))
            for hook in DAY_END:
                hook(ctx)
            entry = {"day": day, "date": date.isoformat()}
            for key, fn in COLLECTORS:
                entry[key] = fn(ctx, date)
            entry["refused"] = ctx.refused
            out["days"].append(entry)
    finally:
        clock.freeze(None)
    return out

"""What cases asks of the apps above it without importing them: each list holds functions those apps
register in their ``AppConfig.ready`` (zones registers its area clocks and its risk levels), so cases sits
below zones in the layers and still feeds it.

- ``NEW_INFECTION``: ``fn(infection, *, actor)``, called inside the transaction that records an infection,
  after its response tasks are opened;
- ``RISK_LEVEL``: ``fn(area, day) -> "high" | "medium" | None``, the highest risk level (high or medium)
  a designation covering ``area`` had on ``day``, for a spill-over order.
"""
from __future__ import annotations

from typing import Callable

NEW_INFECTION: list[Callable] = []
RISK_LEVEL: list[Callable] = []


def connect(hooks: list[Callable], fn: Callable) -> None:
    """Register ``fn`` once (``ready`` may run twice in tests)."""
    if fn not in hooks:
        hooks.append(fn)


def new_infection(inf, *, actor=None) -> None:
    for fn in NEW_INFECTION:
        fn(inf, actor=actor)


def risk_level(area, day) -> str | None:
    """The highest level any registered source gives (high over medium), None where none does."""
    levels = {lv for fn in RISK_LEVEL if (lv := fn(area, day))}
    return "high" if "high" in levels else ("medium" if "medium" in levels else None)

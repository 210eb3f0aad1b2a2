"""What supplies asks of the apps above it without importing them (registered in their ``AppConfig.ready`` with
``places.hooks.connect(name, fn, hooks)``).

- ``ASSIGN``: ``(name, fn(order, rider, day) -> str | None)``: may ``rider`` (a resident) take this delivery on
  ``day``? A function answers the reason it may not (a sentence), None when it may. Passes registers: a
  delivery into a sealed unit goes only to a current key worker holding a valid delivery or supply pass
  covering the unit.
- ``REASSIGN``: ``(name, fn(user, day) -> list[DeliveryOrder])``: the open deliveries (within the user's
  jurisdiction) whose rider may no longer carry them on ``day`` (passes: the rider is overdue for a test), shown
  on the deliveries page to give to another rider.
"""
from __future__ import annotations

from typing import Callable

ASSIGN: list[tuple[str, Callable]] = []
REASSIGN: list[tuple[str, Callable]] = []


def refusal(order, rider, day) -> str | None:
    """The first reason a registered function gives against the assignment, None when none does."""
    for _name, fn in ASSIGN:
        why = fn(order, rider, day)
        if why:
            return why
    return None


def to_reassign(user, day) -> list:
    """The open deliveries the registered functions give for reassignment (none when nothing registers)."""
    out = []
    for _name, fn in REASSIGN:
        out += [o for o in fn(user, day) if o not in out]
    return out

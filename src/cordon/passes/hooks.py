"""What passes asks of the apps above it without importing them (registered in their ``AppConfig.ready`` with
``places.hooks.connect(name, fn, hooks)``).

- ``OVERDUE``: ``(name, fn(person_ids, day) -> set[int])``: which of these residents are key workers overdue for
  a test on ``day`` (keyworkers). A pass check refuses such a holder with ``test_overdue``, and the day-start
  job suspends their passes from that day.
"""
from __future__ import annotations

from typing import Callable

OVERDUE: list[tuple[str, Callable]] = []

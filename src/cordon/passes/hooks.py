"""What passes asks of the apps above it without importing them (registered in their ``AppConfig.ready`` with
``places.hooks.connect(name, fn, hooks)``).

- ``OVERDUE``: ``(name, fn(person_ids, day) -> set[int])``: which of these residents are key workers overdue for
  a test on ``day`` (keyworkers). A pass check refuses such a holder with ``test_overdue``, and the day-start
  job suspends their passes from that day.
- ``OVERDUE_EXISTS``: ``(name, fn(person, day) -> Exists)``: the same question as a subquery on a resident id
  expression (``OuterRef("holder_id")``), so a check reads the pass and its holder's status in one statement; an
  app registers it under the name of its ``OVERDUE`` entry, which a check then does not call.
"""
from __future__ import annotations

from typing import Callable

OVERDUE: list[tuple[str, Callable]] = []
OVERDUE_EXISTS: list[tuple[str, Callable]] = []

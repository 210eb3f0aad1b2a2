"""What situation asks of the apps above it without importing them (``places.hooks.connect`` registers; the
maps app does, in its ``ready``):

- ``MAP_PANEL``: ``(name, fn(user, view) -> dict | None)``: a panel on the command and district situation pages
  (``view`` is the page's ``registry.SituationScope``); the dict names its ``template`` and carries its context.
- ``REPORT_MAP``: ``(name, fn(view, day) -> reportlab Flowable | None)``: a static map drawn into the daily
  close PDF on the server (the risk areas of the day within the report's scope).

Each ``fn`` reads only within the view's scope and answers None when it has nothing to show.
"""
from __future__ import annotations

from typing import Callable

MAP_PANEL: list[tuple[str, Callable]] = []
REPORT_MAP: list[tuple[str, Callable]] = []

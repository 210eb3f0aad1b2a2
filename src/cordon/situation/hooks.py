"""What situation asks of the apps above it without importing them (``places.hooks.connect`` registers; the
maps app does, in its ``ready``):

- ``MAP_PANEL``: ``(name, fn(user, view) -> dict | None)``: a panel on the command and district situation pages
  (``view`` is the page's ``registry.SituationScope``); the dict names its ``template`` and carries its context.
- ``REPORT_MAP``: ``(name, fn(view, day) -> reportlab Flowable | None)``: a static map drawn into the daily
  close PDF on the server (the risk areas of the day within the report's scope).
- ``PUBLIC_FAST``: ``{path: fn(q) -> (body, content type)}``: a public GET of ``path`` (no cookie) that
  ``middleware.PublicLookupMiddleware`` answers right after WhiteNoise with ``fn``'s body and the headers the
  full stack would give (``Access-Control-Allow-Origin: *``, ``Cache-Control: public, max-age=60``, ...): the
  view of ``path`` must answer exactly that (its body from the same ``fn``), which its tests compare.

Each ``fn`` reads only within the view's scope and answers None when it has nothing to show.
"""
from __future__ import annotations

from typing import Callable

MAP_PANEL: list[tuple[str, Callable]] = []
REPORT_MAP: list[tuple[str, Callable]] = []
PUBLIC_FAST: dict[str, Callable] = {}

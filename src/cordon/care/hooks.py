"""What care asks of the apps above it without importing them (registered in their ``AppConfig.ready`` with
``places.hooks.connect(name, fn, hooks)``).

- ``DISPATCHED``: ``(name, fn(request, *, actor))``, called when a request inside a sealed area is dispatched
  (a care transfer out of a sealed building): passes issues the transfer's pass with the request. Nothing a
  registered function does can block the dispatch (nine prohibitions #6): each runs in its own savepoint and
  a failure is logged, never raised.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db import transaction

DISPATCHED: list[tuple[str, Callable]] = []

log = logging.getLogger(__name__)


def dispatched(req, *, actor=None) -> None:
    for name, fn in DISPATCHED:
        try:
            with transaction.atomic():
                fn(req, actor=actor)
        except Exception:  # noqa: BLE001 - #6: a transfer is never blocked by what is hung on it
            log.exception("care hook %s failed for request %s", name, req.pk)

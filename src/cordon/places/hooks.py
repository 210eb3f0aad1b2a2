"""What the city's bulk load asks of the apps above places without importing them: ``AFTER_LOAD`` holds
``(name, fn)`` pairs those apps register in their ``AppConfig.ready``; each ``fn()`` runs after a committed
bulk load of the default database, and its time is reported under ``name`` (screening registers the
build of its in-memory resident index, so the first import after a load does not pay for it)."""
from __future__ import annotations

from typing import Callable

AFTER_LOAD: list[tuple[str, Callable[[], object]]] = []


def connect(name: str, fn: Callable[[], object]) -> None:
    """Register ``fn`` under ``name`` once (``ready`` may run twice in tests)."""
    if all(n != name for n, _fn in AFTER_LOAD):
        AFTER_LOAD.append((name, fn))

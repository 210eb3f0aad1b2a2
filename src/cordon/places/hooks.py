"""What places asks of the apps above it without importing them. Each list holds what those apps register in
their ``AppConfig.ready`` (``connect`` keeps one entry per name: ``ready`` may run twice in tests).

- ``AFTER_LOAD``: ``(name, fn)``; each ``fn()`` runs after a committed bulk load of the default database, and
  its time is reported under ``name`` (screening registers the build of its in-memory resident index, so the
  first import after a load does not pay for it).
- ``AREA_SECTIONS``: ``(name, fn(user, area) -> Section | None)``: what an area's page shows of the records
  about it (zones: seal status, designations and their history).
- ``RESIDENT_SECTIONS``: ``(name, fn(user, resident) -> Section | None)``: a resident's orders, infections,
  care requests, screening tests, deliveries (cases, care, screening, supplies).
- ``SEARCH``: ``(name, fn(user, q, limit) -> Section | None)``: the global search box's sections (cases:
  infections and orders; hotline: tickets).

Each ``fn`` answers None when the user's roles may not read that kind of record (``core.access``
capabilities), and reads only within the user's jurisdiction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

AFTER_LOAD: list[tuple[str, Callable[[], object]]] = []
AREA_SECTIONS: list[tuple[str, Callable]] = []
RESIDENT_SECTIONS: list[tuple[str, Callable]] = []
SEARCH: list[tuple[str, Callable]] = []


@dataclass
class Section:
    """A titled table of records on another app's page: ``rows`` are lists of cells, the first cell linked to
    the row's ``urls`` entry (None: no link); ``facts`` are (label, value) lines above the table."""

    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    urls: list[str | None] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    more: bool = False
    more_url: str | None = None
    empty: str = ""

    def add(self, url: str | None, *cells) -> None:
        self.urls.append(url)
        self.rows.append(list(cells))

    @property
    def lines(self) -> list[tuple[str | None, list[tuple[str, object]]]]:
        """``(url, [(column, cell), ...])`` per row (the column names label the cells on a phone)."""
        return [(url, list(zip(self.columns, cells))) for url, cells in zip(self.urls, self.rows)]


def connect(name: str, fn: Callable, hooks: list | None = None) -> None:
    """Register ``fn`` under ``name`` once in ``hooks`` (``AFTER_LOAD`` when not given)."""
    hooks = AFTER_LOAD if hooks is None else hooks
    if all(n != name for n, _fn in hooks):
        hooks.append((name, fn))


def sections(hooks: list, *args) -> list[Section]:
    """The sections the registered functions give for ``args`` (those answering None left out)."""
    return [s for _name, fn in hooks if (s := fn(*args)) is not None]


def empty(sections: list[Section]) -> list[Section]:
    """Those of ``sections`` with nothing to show but their ``empty`` text (one short card on a page)."""
    return [s for s in sections if not s.rows and not s.facts]

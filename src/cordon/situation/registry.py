"""The section registry: each app contributes its part of the situation pages and of the daily report.

A section is a function ``(view, on_date, detail=False) -> dict | None`` named in ``SECTIONS`` as
``"module:function"``; it reads only through its own app's models, scoped by ``view`` (a
:class:`SituationScope`), and returns plain figures plus ``links`` (URLs back to the records) and, when
``detail`` is true (the daily report), ``ids`` of the day's records. ``None`` means "not available here"
(the app is not installed): the page and the report skip it. This app never imports the other apps'
internals at module level, so a section can be added, refined or removed by its own app's authors.
"""
from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field

from django.db.models import Q

from cordon.core import access, clock

SECTIONS = [
    "cordon.situation.sections:epi",
    "cordon.situation.sections:areas",
    "cordon.situation.sections:orders",
    "cordon.situation.sections:facilities",
    "cordon.situation.sections:response",
    "cordon.situation.sections:flags",
    "cordon.situation.sections:care",
    "cordon.situation.sections:hotline",
    "cordon.situation.sections:supplies",
    "cordon.situation.sections:keyworkers",
    "cordon.passes.sections:passes",
    "cordon.situation.sections:keyplaces",
    "cordon.situation.sections:resources",
    "cordon.command.queries:commands",  # orders sent, acknowledged, overdue (an app above: named, not imported)
]


@dataclass
class SituationScope:
    """Whose view: the part of the city a viewer may see (``access.Scope``), optionally narrowed to one
    district. ``q()`` filters any record carrying ancestor ids (``ScopedFields``)."""

    scope: access.Scope
    district: object | None = None  # places.Area of kind district
    params: dict = field(default_factory=dict)  # page options (mean_si, std_si, days)

    @classmethod
    def for_user(cls, user, district=None, **params) -> "SituationScope":
        return cls(access.scope_for(user, access.VIEW), district, params)

    @classmethod
    def city(cls, **params) -> "SituationScope":
        return cls(access.Scope(True, {lv: frozenset() for lv in access.LEVELS}), None, params)

    @property
    def nothing(self) -> bool:
        return self.scope.nothing

    @property
    def city_wide(self) -> bool:
        return self.scope.everything and self.district is None

    def q(self, prefix: str = "") -> Q:
        if self.scope.nothing:
            return Q(pk__in=[])
        q = Q()
        if not self.scope.everything:
            q = Q(pk__in=[])
            for level, ids in self.scope.by_level.items():
                if ids:
                    q |= Q(**{f"{prefix}{level}_id__in": sorted(ids)})
        if self.district is not None:
            q &= Q(**{f"{prefix}district_id": self.district.pk})
        return q

    def filter(self, qs, prefix: str = ""):
        if self.scope.nothing:
            return qs.none()
        return qs.filter(self.q(prefix))

    def key(self) -> str:
        """A short description (for caches and headings)."""
        if self.scope.everything:
            base = "city"
        else:
            base = ";".join(f"{lv}:{','.join(map(str, sorted(ids)))}" for lv, ids in self.scope.by_level.items() if ids)
        return base + (f"|district:{self.district.pk}" if self.district is not None else "")


def end_of(day: dt.date) -> dt.datetime:
    """The moment a day closes (24:00 city time), or now for today."""
    if day >= clock.today():
        return clock.now()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=clock.tz())


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=clock.tz())


def load(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def collect(view: SituationScope, on_date: dt.date, *, names=None, detail: bool = False) -> dict:
    """{section name: figures} for every registered section that answers (``None`` ones are left out)."""
    out = {}
    for spec in SECTIONS:
        name = spec.split(":")[1]
        if names is not None and name not in names:
            continue
        data = load(spec)(view, on_date, detail=detail)
        if data is not None:
            out[name] = data
    return out

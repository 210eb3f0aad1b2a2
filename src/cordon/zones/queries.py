"""Read helpers shared by the zones pages and API: people inside designations, counted without N+1.

Residents carry their ancestor ids (``unit_id``, ``building_id`` ...), so the residents inside a member node
of kind K are ``Resident.objects.filter(K_id=node)``. For a page of designations the counts take one
query for the members and one grouped query per member kind present (usually one: units).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q

from cordon.core import clock
from cordon.core.models import LEVELS
from cordon.places.models import Resident
from cordon.zones.models import Member
from cordon.places.models import Area
from cordon.zones.models import Designation, Status


def special_q(today: dt.date) -> Q:
    """Residents in a special group on ``today`` (as ``places.models.special_groups`` decides)."""
    try:
        cutoff80 = today.replace(year=today.year - 80)
    except ValueError:  # 29 Feb
        cutoff80 = today.replace(year=today.year - 80, day=28)
    try:
        cutoff1 = today.replace(year=today.year - 1)
    except ValueError:
        cutoff1 = today.replace(year=today.year - 1, day=28)
    return (Q(birth_date__lte=cutoff80) | Q(birth_date__gt=cutoff1) | Q(lives_alone=True)
            | Q(pregnant_due__gte=today) | ~Q(treatment="") | Q(disability=True) | Q(chronic_illness=True))


def _outermost(members) -> list:
    """Drop members lying under another member of the same designation (no double counting)."""
    ids = {m.area_id for m in members}
    out = []
    for m in members:
        a = m.area
        anc = [getattr(a, f"{lv}_id") for lv in LEVELS if getattr(a, f"{lv}_id") and getattr(a, f"{lv}_id") != a.pk]
        if not any(x in ids for x in anc):
            out.append(m)
    return out


def people_inside(designations, members_by_d: dict | None = None, today: dt.date | None = None) -> dict:
    """{designation id: (residents, special-group residents)} inside each designation's current extent.

    ``members_by_d`` (designation id -> current members with ``area`` loaded) saves the members query
    when the caller already has them."""
    today = today or clock.today()
    ids = [d.pk for d in designations]
    if members_by_d is None:
        members_by_d = defaultdict(list)
        for m in Member.objects.filter(designation_id__in=ids, removed_on__isnull=True).select_related("area"):
            members_by_d[m.designation_id].append(m)
    by_kind: dict[str, set[int]] = defaultdict(set)
    outer = {}
    for did in ids:
        outer[did] = _outermost(members_by_d.get(did, []))
        for m in outer[did]:
            by_kind[m.area.kind].add(m.area_id)
    counts: dict[int, tuple[int, int]] = {}
    sq = special_q(today)
    for kind, area_ids in by_kind.items():
        col = f"{kind}_id"
        rows = (Resident.objects.filter(**{f"{col}__in": sorted(area_ids)}).order_by().values(col)
                .annotate(n=Count("id"), s=Count("id", filter=sq)))
        for r in rows:
            counts[r[col]] = (r["n"], r["s"])
    out = {}
    for did in ids:
        n = s = 0
        for m in outer[did]:
            a, b = counts.get(m.area_id, (0, 0))
            n, s = n + a, s + b
        out[did] = (n, s)
    return out


def members_of(designations) -> dict:
    """designation id -> current members (area loaded), in one query."""
    out = defaultdict(list)
    for m in (Member.objects.filter(designation_id__in=[d.pk for d in designations], removed_on__isnull=True)
              .select_related("area").order_by("area__path")):
        out[m.designation_id].append(m)
    return out


def covering(area: Area, statuses=(Status.ACTIVE,)):
    """Designations whose current extent contains ``area`` (a member that is ``area`` or an ancestor)."""
    anc = [getattr(area, f"{lv}_id") for lv in LEVELS if getattr(area, f"{lv}_id")]
    return Designation.objects.filter(
        status__in=statuses, members__area_id__in=anc, members__removed_on__isnull=True).distinct()

"""Reads of screening: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q

from cordon.core import access
from cordon.core.models import LEVELS
from cordon.places.models import Area, Resident
from cordon.screening.models import (BLOCK, Coverage, CoverageRow, RecallMember, RecallTask, Registered, Round, RoundArea, Sample,
                                     SampleTally, TubeResult)

MATERIALISED = ("district", "street", "community", "compound")  # levels whose coverage rows are stored
#: A unit's people sampled: its tally, never more than its residents now (people sampled who moved out since
#: stay in the tally of the unit they lived in; counted per unit, they cannot hide who is still missing there or
#: in another unit of the same node). SQL with ``{n}`` (the unit's tally) and ``{population}``.
SAMPLED_IN_UNIT = "CASE WHEN {n} < {population} THEN {n} ELSE {population} END"


def access_round(user, pk, *, write: bool = False) -> Round:
    """A round the user may see (NotFound otherwise); ``write`` demands write rights over all its areas."""
    try:
        r = Round.objects.for_user(user).get(pk=pk)
    except (Round.DoesNotExist, ValueError, TypeError):
        raise access.NotFound from None
    if write:
        areas = [ra.area for ra in r.areas.select_related("area")]
        scope = access.scope_for(user, access.SCREENING_WRITE)
        if r.coverage == Coverage.CITY:
            if not scope.everything:
                raise access.Forbidden
        elif not scope.everything and not any(scope.contains(a) or _above(a, scope) for a in areas):
            raise access.Forbidden
    return r


def _above(area: Area, scope) -> bool:
    """True when a node of the scope lies below ``area`` (a worker of one community in a district round)."""
    for ids_ in scope.by_level.values():
        for i in ids_:
            a = Area.objects.filter(pk=i).only(f"{area.kind}_id").first()
            if a is not None and getattr(a, f"{area.kind}_id") == area.pk:
                return True
    return False


def covered_filter(r: Round, alias: str) -> tuple[str, list]:
    """SQL condition on ``alias``'s ancestor ids selecting the round's nodes (empty for the whole city)."""
    if r.coverage == Coverage.CITY:
        return "", []
    parts, params = [], []
    by_level: dict[str, list[int]] = {}
    for ra in RoundArea.objects.filter(round=r).select_related("area"):
        by_level.setdefault(ra.area.kind, []).append(ra.area_id)
    if not by_level:
        return " AND 1 = 0", []
    for lv, ids_ in by_level.items():
        parts.append(f"{alias}.{lv}_id IN ({', '.join(['%s'] * len(ids_))})")
        params += ids_
    return " AND (" + " OR ".join(parts) + ")", params


def coverage_children(r: Round, user, parent: Area | None = None) -> list[CoverageRow]:
    """Coverage of the nodes directly below ``parent`` in the user's jurisdiction, by area id (default: the
    top of it: districts for a city-wide grant, else the granted nodes). The one reader of coverage for the
    round page and the API.

    District .. compound rows come from what ``refresh_coverage`` keeps. Buildings and units (the children of
    a compound or a building, or a granted building or unit itself) are counted now, as unsaved
    ``CoverageRow`` objects: due = population of the node's covered units, sampled = their tally rows (read
    by the (round, unit) index: a compound has ~20 units). Only nodes with a covered unit have a row, as
    for the stored levels."""
    scope = access.scope_for(user)
    stored = CoverageRow.objects.for_user(user).filter(round=r)
    if parent is None:
        if scope.everything:
            return list(stored.filter(kind="district").order_by("area_id"))
        granted = {g.area_id: g.area for g in access.grants_of(user) if g.area_id}
        rows = list(stored.filter(area_id__in=sorted(i for i, a in granted.items() if a.kind in MATERIALISED)))
        for a in granted.values():
            if a.kind not in MATERIALISED:
                rows += [c for c in _count_below(r, a, a.kind) if scope.contains(c)]
        return sorted(rows, key=lambda c: c.area_id)
    if parent.kind in MATERIALISED[:-1]:
        return list(stored.filter(parent_id=parent.pk).order_by("area_id"))
    if parent.kind == LEVELS[-1]:  # a unit has no children
        return []
    # a compound's buildings, a building's units
    return [c for c in _count_below(r, parent, LEVELS[LEVELS.index(parent.kind) + 1]) if scope.contains(c)]


def _count_below(r: Round, node: Area, level: str) -> list[CoverageRow]:
    """Coverage of the ``level`` nodes at or under ``node`` (``level`` = its own kind: the node itself),
    counted from its covered units and their tally rows (for ``coverage_children``)."""
    area, tally = Area._meta.db_table, SampleTally._meta.db_table
    cond, params = covered_filter(r, "a")
    cols = ["id", "kind", "parent_id", *(f"{lv}_id" for lv in LEVELS)]
    with connection.cursor() as c:
        c.execute(
            f"SELECT x.due, x.sampled, {', '.join(f'n.{k}' for k in cols)} FROM "
            f"(SELECT u.g, sum(u.population) AS due, "
            f"sum({SAMPLED_IN_UNIT.format(n='u.n', population='u.population')}) AS sampled FROM "
            f"(SELECT a.{level}_id AS g, a.population, coalesce((SELECT sum(t.n) FROM {tally} t "
            f"WHERE t.round_id = %s AND t.unit_id = a.id), 0) AS n FROM {area} a "
            f"WHERE a.{node.kind}_id = %s AND a.kind = 'unit'{cond}) u GROUP BY u.g) x "
            f"JOIN {area} n ON n.id = x.g ORDER BY n.id", [r.pk, node.pk, *params])
        got = c.fetchall()
    return [CoverageRow(round_id=r.pk, area_id=x[2], due=int(x[0]), sampled=int(x[1]),
                        **dict(zip(cols[1:], x[3:]))) for x in got]


def tube_figures(r: Round) -> dict:
    """Tubes registered in the round, with a result, positive, invalid (joined on barcode now)."""
    smp, res = Sample._meta.db_table, TubeResult._meta.db_table
    with transaction.atomic(), connection.cursor() as c:
        if connection.vendor == "postgresql":
            # a city round has ~400 k tubes: grouped in memory in one process. With the default 4 MB the
            # grouping spills to disk, and the spilling parallel plan was seen to run for minutes instead of
            # two seconds (PostgreSQL 15)
            c.execute("SET LOCAL work_mem = '64MB'")
            c.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        c.execute(f"SELECT count(*), count(t.barcode), "
                  f"coalesce(sum(CASE WHEN t.result = 'positive' THEN 1 ELSE 0 END), 0), "
                  f"coalesce(sum(CASE WHEN t.result = 'invalid' THEN 1 ELSE 0 END), 0) "
                  f"FROM (SELECT DISTINCT barcode FROM {smp} WHERE round_id = %s) b "
                  f"LEFT JOIN {res} t ON t.barcode = b.barcode", [r.pk])
        n, rep, pos, inv = c.fetchone()
        if connection.vendor == "postgresql":
            c.execute("SET LOCAL work_mem TO DEFAULT")
            c.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    return {"tubes": int(n), "tubes_reported": int(rep), "tubes_positive": int(pos), "tubes_invalid": int(inv)}


def positives_of(r: Round, user):
    """Recall tasks of the round in the user's jurisdiction, with their members (masked in templates)."""
    return RecallTask.objects.for_user(user).filter(round=r).select_related("area")


def recall_members(r: Round, user):
    """Everyone registered in the round's positive pools whom the user may read, by task (the recall list)."""
    return RecallMember.objects.for_user(user, access.READ_HEALTH).filter(task__round=r).order_by("task_id", "id")


def latest_round_over(user, area: Area) -> Round | None:
    """The latest round the user may see that covers ``area`` (the whole city, or a node at or above it)."""
    above = [a for a in (getattr(area, f"{lv}_id", None) for lv in access.LEVELS) if a]
    return (Round.objects.for_user(user).filter(Q(coverage=Coverage.CITY) | Q(areas__area_id__in=above))
            .order_by("-on", "-id").first())


def missing_residents(r: Round, user, area: Area | None = None):
    """Residents due in ``area`` (within the user's scope) with no registration in the round."""
    qs = Resident.objects.for_user(user)
    if area is not None:
        qs = qs.filter(**access.within(area))
    if r.coverage != Coverage.CITY:
        cover = Q(pk__in=[])
        for ra in RoundArea.objects.filter(round=r).select_related("area"):
            cover |= Q(**access.within(ra.area))
        qs = qs.filter(cover)
    return qs.filter(~registered_in(r)).order_by("unit_id", "household_id", "id")


def registered_in(r: Round):
    """Condition on residents: registered in round ``r`` (their bit is set in the round's ``Registered``
    bitmaps; ``cordon_bit`` is registered on SQLite connections)."""
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    t, res = Registered._meta.db_table, Resident._meta.db_table
    bit = ("get_bit(g.bits, ({res}.id - g.block * {n})::int)" if connection.vendor == "postgresql"
           else "cordon_bit(g.bits, {res}.id - g.block * {n})").format(res=res, n=BLOCK)
    return RawSQL(f"EXISTS (SELECT 1 FROM {t} g WHERE g.round_id = %s AND g.block = {res}.id / {BLOCK} "
                  f"AND {bit} = 1)", [r.pk], output_field=BooleanField())


def designations_covered(r: Round) -> list:
    """Active risk-area designations whose whole current extent lies inside the round's coverage (a city
    round covers every one): a round that samples only part of an area is not that area's full round."""
    from cordon.zones.models import Designation, Member, Status

    members: dict[int, list[Area]] = {}
    for m in (Member.objects.filter(designation__status=Status.ACTIVE, removed_on__isnull=True)
              .select_related("area").order_by("designation_id", "id")):
        members.setdefault(m.designation_id, []).append(m.area)
    if r.coverage == Coverage.CITY:
        ids_ = sorted(members)
    else:
        nodes = set(RoundArea.objects.filter(round=r).values_list("area_id", flat=True))
        ids_ = [d for d, areas in sorted(members.items())
                if areas and all(nodes & {getattr(a, f"{lv}_id") for lv in LEVELS} for a in areas)]
    return list(Designation.objects.filter(pk__in=ids_).select_related("area").order_by("pk"))


def positive_inside(r: Round, designation) -> bool:
    """Did the round find a positive pool with someone living inside the designation's current extent (a recall
    task of the round in one of its units)?"""
    from cordon.zones.models import Member

    inside = Q(pk__in=[])
    for m in Member.objects.filter(designation=designation, removed_on__isnull=True).select_related("area"):
        inside |= Q(**{f"{m.area.kind}_id": m.area_id})
    return RecallTask.objects.filter(round=r).filter(inside).exists()

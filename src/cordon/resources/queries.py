"""Reads of resources: lists, who is on duty where on a day, what each area has and uses, and the gaps.

Gaps (the daily close counts them, the pages flag them):

- ``uncovered_sealed_buildings(within, on)``: a building is *sealed* on ``on`` when an active high-risk
  designation's extent on that day holds the building, one of its units, or an area above it; it is
  *covered* when a shift that is not cancelled, on ``on``, in the building or one of its units, has at least
  one active volunteer (named on the shift or an active member of the shift's team). Sealed and not covered
  is a gap.
- ``lab_load(within, on)``: the tubes of the next screening round of each lab catchment against the
  catchment's capacity. Each open round dated ``on`` or later is split into its areas (a city-wide round into
  the districts); an area's tubes are ceil(population / the round's pool size) and go to the catchment of the
  nearest lab area at or above it (the labs of one catchment pool their capacity). The catchment's next
  round day is the earliest such round day; its tubes are those of every round of that day. Over capacity
  (tubes > capacity) is a gap; at 90 % or more it is flagged as near. Tubes of areas no lab takes are a gap
  of their district (capacity 0).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from cordon.core import access
from cordon.core.access import LEVELS
from cordon.places.models import Area
from cordon.resources.models import Lab, Person, PersonKind, Shift, Team, Van
from cordon.screening.models import Coverage, Round, RoundStatus
from cordon.zones.models import Designation, Level, Member, Status as ZStatus

NEAR = 0.9  # a catchment at or above this share of its capacity is flagged "near capacity"


@dataclass(frozen=True)
class Within:
    """The part of the city a reader sees: an ``access.Scope`` and optionally one district (the situation
    pages' view)."""

    scope: access.Scope
    district_id: int | None = None

    @classmethod
    def of(cls, user, cap: str = access.RESOURCES_READ) -> "Within":
        return cls(access.scope_for(user, cap))

    def filter(self, qs):
        if self.scope.nothing:
            return qs.none()
        qs = qs.filter(self.scope.q())
        return qs.filter(district_id=self.district_id) if self.district_id else qs

    def contains(self, record) -> bool:
        if self.district_id and getattr(record, "district_id", None) != self.district_id:
            return False
        return self.scope.contains(record)


# ------------------------------------------------------------------------------------------ lists

def people_list(qs, *, kind: str = "", team: int | None = None, skill: str = "", q: str = ""):
    """Staff and volunteers (active first, by name): the people page and its export."""
    if kind:
        qs = qs.filter(kind=kind)
    if team:
        qs = qs.filter(team_id=team)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(phone__endswith=q))
    if skill:  # the JSON list's text holds the quoted value (containment lookups differ by database)
        qs = qs.filter(skills__icontains=f'"{skill}"')
    return qs.select_related("team", "area").order_by("-active", "name", "id")


def team_list(qs):
    return (qs.select_related("area")
            .annotate(n_members=Count("members", filter=Q(members__active=True)))
            .order_by("-active", "name", "id"))


def shift_list(qs, on: dt.date, *, area: Area | None = None):
    """Who is assigned where on ``on``: the shifts of the day (cancelled ones last) with their people."""
    qs = qs.filter(on=on)
    if area is not None:
        qs = qs.filter(**{f"{area.kind}_id": area.pk})
    return (qs.select_related("area", "team", "van")
            .prefetch_related(Prefetch("people", queryset=Person.objects.order_by("name", "id")),
                              Prefetch("team__members", queryset=Person.objects.filter(active=True)
                                       .order_by("name", "id")))
            .order_by("cancelled", "area__path", "start", "id"))


def on_duty(shift: Shift) -> list[Person]:
    """The people of a shift: those named on it and the active members of its team, once each."""
    seen: dict[int, Person] = {p.pk: p for p in shift.people.all() if p.active}
    if shift.team_id:
        for p in shift.team.members.all():
            seen.setdefault(p.pk, p)
    return sorted(seen.values(), key=lambda p: (p.name, p.pk))


def labs(qs):
    return qs.select_related("area").order_by("-active", "name", "id")


def vans(qs):
    return qs.select_related("team", "area").order_by("-active", "plate", "id")


def ambulances_today(on: dt.date) -> list[dict]:
    """Care's closed-loop vehicles (the green channel's ambulances) with what they did on ``on``: requests
    dispatched with them and whether one is in flight now."""
    from cordon.care.models import OPEN_STATUSES, CareRequest, Vehicle

    used = dict(CareRequest.objects.filter(dispatched_at__date=on).order_by().values_list("vehicle_id")
                .annotate(n=Count("id")))
    busy = set(CareRequest.objects.filter(status__in=OPEN_STATUSES, dispatched_at__isnull=False)
               .values_list("vehicle_id", flat=True))
    return [{"v": v, "trips": used.get(v.pk, 0), "busy": v.pk in busy}
            for v in Vehicle.objects.order_by("-active", "plate")]


# ------------------------------------------------------------------------------------------ what each area has

def area_summary(within: Within, parent: Area | None, on: dt.date) -> list[dict]:
    """For each child area of ``parent`` (the districts for None) the reader sees: the people based there (by
    kind), teams and vans, and on ``on`` the shifts, people on duty and ambulance trips (care requests of the
    area dispatched that day)."""
    from cordon.care.models import CareRequest

    children = list(within.filter(Area.objects.filter(parent=parent) if parent is not None
                                  else Area.objects.filter(kind="district")).order_by("name", "id")) \
        if parent is None or parent.kind != "unit" else []
    if not children:
        return []
    level = children[0].kind
    key = f"{level}_id"
    ids = [c.pk for c in children]

    def count(qs) -> dict[int, int]:
        return dict(qs.filter(**{f"{key}__in": ids}).order_by().values_list(key).annotate(n=Count("id")))

    people = {}
    for cid, kind, n in Person.objects.filter(active=True, **{f"{key}__in": ids}).order_by() \
            .values_list(key, "kind").annotate(n=Count("id")):
        people.setdefault(cid, {})[kind] = n
    teams = count(Team.objects.filter(active=True))
    van_n = count(Van.objects.filter(active=True))
    shifts = Shift.objects.filter(on=on, cancelled=False, **{f"{key}__in": ids}).select_related("team") \
        .prefetch_related("people", Prefetch("team__members", queryset=Person.objects.filter(active=True)))
    shift_n: dict[int, int] = {}
    duty: dict[int, set[int]] = {}
    for s in shifts:
        cid = getattr(s, key)
        shift_n[cid] = shift_n.get(cid, 0) + 1
        duty.setdefault(cid, set()).update(p.pk for p in on_duty(s))
    trips = count(CareRequest.objects.filter(dispatched_at__date=on))
    return [{"area": c, "volunteers": people.get(c.pk, {}).get(PersonKind.VOLUNTEER, 0),
             "staff": sum(n for k, n in people.get(c.pk, {}).items() if k != PersonKind.VOLUNTEER),
             "teams": teams.get(c.pk, 0), "vans": van_n.get(c.pk, 0), "shifts": shift_n.get(c.pk, 0),
             "on_duty": len(duty.get(c.pk, ())), "trips": trips.get(c.pk, 0)} for c in children]


# ------------------------------------------------------------------------------------------ gaps

def sealed_buildings(on: dt.date) -> dict[int, Designation]:
    """Building id -> the high-risk designation sealing it on ``on`` (its extent that day)."""
    designations = {d.pk: d for d in Designation.objects.filter(status=ZStatus.ACTIVE, level=Level.HIGH,
                                                               designated_on__lte=on)}
    out: dict[int, Designation] = {}
    members = (Member.objects.filter(designation_id__in=list(designations), added_on__lte=on)
               .filter(Q(removed_on__isnull=True) | Q(removed_on__gt=on)).select_related("area"))
    for m in members:
        d, a = designations[m.designation_id], m.area
        if a.kind in ("unit", "building"):
            out.setdefault(a.building_id, d)
        else:
            for b in Area.objects.filter(kind="building", **{f"{a.kind}_id": a.pk}).values_list("pk", flat=True):
                out.setdefault(b, d)
    return out


def uncovered_sealed_buildings(within: Within, on: dt.date) -> list[dict]:
    """The sealed buildings the reader sees with no volunteer on a shift in them on ``on`` (path order)."""
    sealed = sealed_buildings(on)
    buildings = list(within.filter(Area.objects.filter(pk__in=list(sealed))).order_by("path"))
    shifts = (Shift.objects.filter(on=on, cancelled=False, building_id__in=[b.pk for b in buildings])
              .select_related("team").prefetch_related(
                  "people", Prefetch("team__members", queryset=Person.objects.filter(active=True))))
    covered, staffed = set(), set()
    for s in shifts:
        staffed.add(s.building_id)
        if any(p.kind == PersonKind.VOLUNTEER for p in on_duty(s)):
            covered.add(s.building_id)
    return [{"building": b, "designation": sealed[b.pk], "other_shift": b.pk in staffed}
            for b in buildings if b.pk not in covered]


def _round_parts(rounds) -> list[tuple[Round, Area]]:
    districts = None
    parts = []
    for r in rounds:
        if r.coverage == Coverage.CITY:
            if districts is None:
                districts = list(Area.objects.filter(kind="district"))
            parts += [(r, a) for a in districts]
        else:
            parts += [(r, ra.area) for ra in r.areas.all()]
    return parts


def lab_load(within: Within, on: dt.date) -> list[dict]:
    """Each lab catchment the reader sees (and each district with tubes no lab takes) with its next round day,
    the tubes expected that day and its capacity (module docstring: the rule)."""
    all_labs = list(Lab.objects.filter(active=True).select_related("area"))
    catchments: dict[int, list[Lab]] = {}
    for lab in all_labs:
        catchments.setdefault(lab.area_id, []).append(lab)
    rounds = (Round.objects.filter(status=RoundStatus.OPEN, on__gte=on)
              .prefetch_related(Prefetch("areas__area")).order_by("on", "id"))
    load: dict[tuple[str, int], dict] = {}
    for r, a in _round_parts(rounds):
        tubes = math.ceil(a.population / max(r.pool_size, 1)) if a.population else 0
        catch = next((getattr(a, f"{lv}_id") for lv in reversed(LEVELS)
                      if getattr(a, f"{lv}_id") in catchments), None)
        key = ("lab", catch) if catch is not None else ("none", a.district_id)
        row = load.setdefault(key, {"day": r.on, "tubes": 0, "rounds": []})
        if r.on < row["day"]:
            row.update(day=r.on, tubes=0, rounds=[])
        if r.on == row["day"]:
            row["tubes"] += tubes
            if r.name not in row["rounds"]:
                row["rounds"].append(r.name)
    areas = Area.objects.in_bulk([k[1] for k in load if k[1] is not None]
                                 + [k for k in catchments])
    out = []
    for (kind, aid), row in load.items():
        area = areas.get(aid)
        if area is None or not within.contains(area):
            continue
        labs_here = catchments.get(aid, []) if kind == "lab" else []
        capacity = sum(x.tubes_per_day for x in labs_here)
        out.append({"area": area, "labs": labs_here, "capacity": capacity, **row,
                    "over": row["tubes"] > capacity, "near": capacity > 0 and row["tubes"] >= NEAR * capacity,
                    "no_lab": kind == "none"})
    for aid, labs_here in catchments.items():  # catchments with no round coming
        if ("lab", aid) not in load and within.contains(labs_here[0].area):
            out.append({"area": labs_here[0].area, "labs": labs_here, "capacity": sum(x.tubes_per_day for x in labs_here),
                        "day": None, "tubes": 0, "rounds": [], "over": False, "near": False, "no_lab": False})
    return sorted(out, key=lambda x: (not x["over"], not x["near"], x["area"].path))


def gap_counts(within: Within, on: dt.date) -> dict:
    """The daily close's figures: sealed buildings with no volunteer, catchments over capacity."""
    uncovered = uncovered_sealed_buildings(within, on)
    load = lab_load(within, on)
    return {"sealed_buildings": len(within.filter(Area.objects.filter(pk__in=list(sealed_buildings(on))))),
            "uncovered": len(uncovered), "labs_over": sum(1 for x in load if x["over"]),
            "labs_near": sum(1 for x in load if x["near"] and not x["over"]),
            "uncovered_ids": [x["building"].pk for x in uncovered],
            "labs_over_ids": [x["area"].pk for x in load if x["over"]]}

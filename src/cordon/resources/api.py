"""API for resources: staff and volunteers, teams, shifts (who is on duty where on a day), vans, labs and the
gaps (sealed buildings with no volunteer on duty, lab catchments over capacity for their next round). Reads
scoped with ``for_user`` under ``resources.read``; writes under ``resources.write`` in the caller's
jurisdiction, through ``resources.actions``. Names and phones are masked."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field
from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.core import access, clock, ids
from cordon.core.api import DayQuery, PageQuery, current_user, page_of, writable
from cordon.core.fields import Day, Id, QueryId, QueryText, Reason, integer, one_of, text_of
from cordon.core.schemas import Page
from cordon.places.queries import area_of
from cordon.resources import actions, queries
from cordon.resources.models import Lab, Person, PersonKind, Shift, Skill, Team, TeamKind, Van

router = Router(tags=["resources"])
#: a time of day, HH:MM (24 h, local time)
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, local time",
                             examples=["08:00"])]
W, R = access.RESOURCES_WRITE, access.RESOURCES_READ


def _area(user, pk: int):
    return area_of(user, pk, perm=W)


def _pick(model, user, pk):
    return access.access(model, user, pk, perm=W, read=R) if pk is not None else None


def _listed(request, model, ordered, out) -> list[dict]:
    """The caller's records of ``model`` (at most 500), in the order ``ordered`` gives, as ``out`` answers."""
    return [out(x) for x in ordered(model.objects.for_user(current_user(request), R))[:500]]


# ------------------------------------------------------------------------------------------ people

class StaffOut(Schema):
    id: int
    name: str                       # masked
    kind: str
    phone: str                      # masked
    skills: list[str]
    team_id: int | None
    team: str | None
    area: str
    active: bool


class StaffList(Page):
    items: list[StaffOut]


class StaffFilter(PageQuery):
    kind: one_of(PersonKind.values) | None = None
    skill: one_of(Skill.values) | None = None
    team: QueryId | None = None
    q: QueryText | None = None


def person_out(p: Person) -> dict:
    return {"id": p.pk, "name": ids.mask_name(p.name), "kind": p.kind, "phone": ids.mask_phone(p.phone),
            "skills": list(p.skills), "team_id": p.team_id, "team": p.team.name if p.team_id else None,
            "area": p.area.path, "active": p.active}


@router.get("/resources/people", response=StaffList)
def list_people(request, f: Query[StaffFilter]):
    qs = queries.people_list(Person.objects.for_user(current_user(request), R), kind=f.kind or "",
                             team=f.team, skill=f.skill or "", q=f.q or "")
    return page_of(qs, f, lambda items: [person_out(p) for p in items])


class StaffIn(Schema):
    name: text_of(Person, "name", min_length=1)
    kind: one_of(PersonKind.values)
    area_id: Id
    phone: text_of(Person, "phone") = ""
    skills: list[one_of(Skill.values)] = []
    team_id: Id | None = None
    reason: Reason = ""


@router.post("/resources/people", response={201: StaffOut})
def register_person(request, payload: StaffIn):
    user = current_user(request)
    p = actions.do_register_person(payload.name, kind=payload.kind, area=_area(user, payload.area_id),
                                   phone=payload.phone, skills=payload.skills[:20],
                                   team=_pick(Team, user, payload.team_id), actor=user, reason=payload.reason)
    return HttpStatus(201, person_out(p))


class PersonAssignIn(Schema):
    team_id: Id | None = None
    active: bool = True
    reason: Reason = ""


@router.post("/resources/people/{person_id}/assign", response=StaffOut)
def assign_person(request, person_id: QueryId, payload: PersonAssignIn):
    user, p = writable(request, Person, person_id, W, read=R)
    p = actions.do_assign_person(p, team=_pick(Team, user, payload.team_id), active=payload.active, actor=user,
                                 reason=payload.reason)
    return person_out(Person.objects.select_related("team", "area").get(pk=p.pk))


# ------------------------------------------------------------------------------------------ teams, vans, labs

class ResourceTeamOut(Schema):
    id: int
    name: str
    kind: str
    area: str
    members: int
    active: bool


@router.get("/resources/teams", response=list[ResourceTeamOut])
def list_teams(request):
    return [{"id": t.pk, "name": t.name, "kind": t.kind, "area": t.area.path, "members": t.n_members,
             "active": t.active} for t in queries.team_list(Team.objects.for_user(current_user(request), R))[:500]]


class ResourceTeamIn(Schema):
    name: text_of(Team, "name", min_length=1)
    kind: one_of(TeamKind.values)
    area_id: Id
    reason: Reason = ""


@router.post("/resources/teams", response={201: ResourceTeamOut})
def create_team(request, payload: ResourceTeamIn):
    user = current_user(request)
    t = actions.do_create_team(payload.name, kind=payload.kind, area=_area(user, payload.area_id), actor=user,
                               reason=payload.reason)
    return HttpStatus(201, {"id": t.pk, "name": t.name, "kind": t.kind, "area": t.area.path, "members": 0,
                            "active": t.active})


class VanOut(Schema):
    id: int
    plate: str
    team: str | None
    area: str
    closed_loop: bool
    active: bool


def van_out(v: Van) -> dict:
    return {"id": v.pk, "plate": v.plate, "team": v.team.name if v.team_id else None, "area": v.area.path,
            "closed_loop": v.closed_loop, "active": v.active}


@router.get("/resources/vans", response=list[VanOut])
def list_vans(request):
    return _listed(request, Van, queries.vans, van_out)


class VanIn(Schema):
    plate: text_of(Van, "plate", min_length=1)
    area_id: Id
    team_id: Id | None = None
    closed_loop: bool = True
    reason: Reason = ""


@router.post("/resources/vans", response={201: VanOut})
def add_van(request, payload: VanIn):
    user = current_user(request)
    v = actions.do_add_van(payload.plate, area=_area(user, payload.area_id), team=_pick(Team, user, payload.team_id),
                           closed_loop=payload.closed_loop, actor=user, reason=payload.reason)
    return HttpStatus(201, van_out(v))


class LabOut(Schema):
    id: int
    name: str
    area: str
    tubes_per_day: int
    active: bool


def lab_out(lab: Lab) -> dict:
    return {"id": lab.pk, "name": lab.name, "area": lab.area.path, "tubes_per_day": lab.tubes_per_day,
            "active": lab.active}


@router.get("/resources/labs", response=list[LabOut])
def list_labs(request):
    return _listed(request, Lab, queries.labs, lab_out)


class LabIn(Schema):
    name: text_of(Lab, "name", min_length=1)
    area_id: Id
    tubes_per_day: integer(1, 10_000_000)
    reason: Reason = ""


@router.post("/resources/labs", response={201: LabOut})
def register_lab(request, payload: LabIn):
    user = current_user(request)
    lab = actions.do_register_lab(payload.name, area=_area(user, payload.area_id),
                                  tubes_per_day=payload.tubes_per_day, actor=user, reason=payload.reason)
    return HttpStatus(201, lab_out(lab))


class CapacityIn(Schema):
    tubes_per_day: integer(1, 10_000_000)
    reason: Reason = ""


@router.post("/resources/labs/{lab_id}/capacity", response=LabOut)
def set_lab_capacity(request, lab_id: QueryId, payload: CapacityIn):
    user, lab = writable(request, Lab.objects.select_related("area"), lab_id, W, read=R)
    return lab_out(actions.do_set_lab_capacity(lab, payload.tubes_per_day, actor=user, reason=payload.reason))


# ------------------------------------------------------------------------------------------ shifts

class ShiftOut(Schema):
    id: int
    area: str
    on: dt.date
    start: Clock
    end: Clock
    team: str | None
    van: str | None
    people: list[str]                # masked names of everyone on duty (named and the team's members)
    note: str
    cancelled: bool


class ShiftList(Page):
    items: list[ShiftOut]


class ShiftFilter(PageQuery):
    on: Day | None = None
    area: QueryId | None = None


def shift_out(s: Shift) -> dict:
    return {"id": s.pk, "area": s.area.path, "on": s.on, "start": f"{s.start:%H:%M}", "end": f"{s.end:%H:%M}",
            "team": s.team.name if s.team_id else None, "van": s.van.plate if s.van_id else None,
            "people": [ids.mask_name(p.name) for p in queries.on_duty(s)], "note": s.note, "cancelled": s.cancelled}


@router.get("/resources/shifts", response=ShiftList)
def list_shifts(request, f: Query[ShiftFilter]):
    user = current_user(request)
    area = area_of(user, f.area, perm=R) if f.area is not None else None
    qs = queries.shift_list(Shift.objects.for_user(user, R), f.on or clock.today(), area=area)
    return page_of(qs, f, lambda items: [shift_out(s) for s in items])


class ShiftIn(Schema):
    area_id: Id
    on: Day
    start: Clock
    end: Clock
    team_id: Id | None = None
    person_ids: list[Id] = []
    van_id: Id | None = None
    note: text_of(Shift, "note") = ""
    reason: Reason = ""


def _shift(pk: int) -> Shift:
    return queries.shift_list(Shift.objects.filter(pk=pk), Shift.objects.get(pk=pk).on).get()


@router.post("/resources/shifts", response={201: ShiftOut})
def plan_shift(request, payload: ShiftIn):
    user = current_user(request)
    start, end = dt.time.fromisoformat(payload.start), dt.time.fromisoformat(payload.end)
    s = actions.do_plan_shift(area=_area(user, payload.area_id), on=payload.on, start=start, end=end,
                              team=_pick(Team, user, payload.team_id),
                              people=[_pick(Person, user, pk) for pk in payload.person_ids[:200]],
                              van=_pick(Van, user, payload.van_id), note=payload.note, actor=user,
                              reason=payload.reason)
    return HttpStatus(201, shift_out(_shift(s.pk)))


class CancelIn(Schema):
    reason: Reason


@router.post("/resources/shifts/{shift_id}/cancel", response=ShiftOut)
def cancel_shift(request, shift_id: QueryId, payload: CancelIn):
    user, s = writable(request, Shift, shift_id, W, read=R)
    actions.do_cancel_shift(s, actor=user, reason=payload.reason)
    return shift_out(_shift(s.pk))


# ------------------------------------------------------------------------------------------ gaps

class UncoveredOut(Schema):
    building_id: int
    building: str
    designation_id: int
    staff_only: bool                 # a shift is there, but no volunteer on it


class LabLoadOut(Schema):
    area_id: int
    area: str
    labs: list[str]
    capacity: int
    day: dt.date | None
    tubes: int
    rounds: list[str]
    over: bool
    near: bool
    no_lab: bool


class GapsOut(Schema):
    on: dt.date
    uncovered_sealed_buildings: list[UncoveredOut]
    labs: list[LabLoadOut]


@router.get("/resources/gaps", response=GapsOut)
def gaps(request, f: Query[DayQuery]):
    on = f.on or clock.today()
    within = queries.Within.of(current_user(request))
    return {"on": on,
            "uncovered_sealed_buildings": [{"building_id": g["building"].pk, "building": g["building"].path,
                                            "designation_id": g["designation"].pk, "staff_only": g["other_shift"]}
                                           for g in queries.uncovered_sealed_buildings(within, on)],
            "labs": [{"area_id": x["area"].pk, "area": x["area"].path, "labs": [lab.name for lab in x["labs"]],
                      "capacity": x["capacity"], "day": x["day"], "tubes": x["tubes"], "rounds": x["rounds"],
                      "over": x["over"], "near": x["near"], "no_lab": x["no_lab"]}
                     for x in queries.lab_load(within, on)]}


access.declare_operations(router, {
    "list_people": R, "list_teams": R, "list_vans": R, "list_labs": R, "list_shifts": R, "gaps": R,
    "register_person": W, "assign_person": W, "create_team": W, "add_van": W, "register_lab": W,
    "set_lab_capacity": W, "plan_shift": W, "cancel_shift": W,
})

"""API for key places: the command list with its figures, one place with its people and history, and the
writes a place's manager makes (status, people, counts, entries and exits, shift changes, on-site tests).
Reads through ``for_user`` / ``access.access`` under ``keyplaces.read``; writes need ``keyplaces.write`` over
the place. Names are masked for readers who may not change the place; phones always."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.care.perms import area_for_write
from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.core.api import current_user, writable
from cordon.core.fields import Day, Id, QueryId, QueryText, Reason, integer, one_of, text_of
from cordon.core.schemas import Page, PageQuery
from cordon.keyplaces import actions, queries
from cordon.keyplaces.models import Category, Direction, Kind, KeyPlace, MoveReason, Person, PlaceStatus, Role
from cordon.core.models import TestResult

router = Router(tags=["key places"])
READ, WRITE = access.KEYPLACES_READ, access.KEYPLACES_WRITE
PLACES = KeyPlace.objects.select_related("area")
Count = integer(0, 1_000_000)


class KeyPlaceOut(Schema):
    id: int
    ref: str
    name: str
    kind: str
    area: str
    area_id: int
    capacity: int
    counts: dict[str, int]
    status: str
    status_since: dt.date
    test_every_days: int
    monitor_days: int
    staff_in: int
    due_today: int
    overdue_tests: int
    past_rotation: int
    breaches_today: int
    breaches_week: int


class KeyPlaceList(Page):
    items: list[KeyPlaceOut]


class KeyPlacePersonOut(Schema):
    id: int
    name: str
    role: str
    phone: str
    inside: bool
    since: dt.date | None
    rotate_on: dt.date | None
    monitor_until: dt.date | None
    test_due: dt.date | None
    test_overdue: bool


class KeyPlaceBreachOut(Schema):
    on: dt.date
    kind: str
    person_id: int
    detail: str


class KeyPlaceHistoryOut(Schema):
    on: dt.date
    kind: str
    what: str
    reason: str
    actor: str
    flag: bool


class KeyPlaceDetail(KeyPlaceOut):
    people: list[KeyPlacePersonOut]
    breaches: list[KeyPlaceBreachOut]
    history: list[KeyPlaceHistoryOut]


def _out(row: dict) -> dict:
    p = row["place"]
    return {"id": p.pk, "ref": p.ref, "name": p.name, "kind": p.kind, "area": p.area.path, "area_id": p.area_id,
            "capacity": p.capacity, "counts": p.counts, "status": p.status, "status_since": p.status_since,
            "test_every_days": p.test_every_days, "monitor_days": p.monitor_days,
            **{k: row[k] for k in ("staff_in", "due_today", "overdue_tests", "past_rotation", "breaches_today",
                                   "breaches_week")}}


def _detail(user, place: KeyPlace) -> dict:
    place = PLACES.get(pk=place.pk)
    today = clock.today()
    named = access.can(user, WRITE, place)
    loop = place.status == PlaceStatus.CLOSED_LOOP
    due = {d.person.pk: d for d in queries.dues(place, today)}
    people = []
    for p in place.people.order_by("name", "id"):
        d = due.get(p.pk)
        people.append({"id": p.pk, "name": p.name if named else ids.mask_name(p.name), "role": p.role,
                       "phone": ids.mask_phone(p.phone), "inside": p.inside, "since": p.since,
                       "rotate_on": p.rotate_on, "monitor_until": p.monitor_until,
                       "test_due": d.due if d and loop else None, "test_overdue": bool(d and loop and d.overdue_on(today))})
    history = [{"on": h["on"], "kind": h["kind"], "what": h["what"] if named or h["kind"] == "status" else "",
                "reason": str(h["reason"]), "actor": h["actor"], "flag": h["flag"]} for h in queries.history(place, 100)]
    return {**_out(queries.summaries([place], today)[0]), "people": people, "history": history,
            "breaches": [{"on": b.on, "kind": b.kind, "person_id": b.person_id, "detail": b.detail}
                         for b in place.breaches.order_by("-on", "-id")[:100]]}


class KeyPlaceFilter(PageQuery):
    kind: one_of(Kind.values) | None = None
    status: one_of(PlaceStatus.values) | None = None
    q: QueryText = ""
    problems: bool = False


@router.get("/keyplaces", response=KeyPlaceList)
def list_places(request, f: Query[KeyPlaceFilter]):
    rows = queries.place_list(KeyPlace.objects.for_user(current_user(request), READ), kind=f.kind or "",
                              status=f.status or "", q=f.q.strip(), problems=f.problems, on=clock.today())
    start = (f.page - 1) * f.page_size
    items = rows[start:start + f.page_size]
    return {"items": [_out(r) for r in items], "page": f.page, "page_size": f.page_size,
            "has_next": len(rows) > start + f.page_size}


@router.get("/keyplaces/{place_id}", response=KeyPlaceDetail)
def get_place(request, place_id: QueryId):
    user = current_user(request)
    return _detail(user, access.access(PLACES, user, place_id, read=READ))


class KeyPlaceIn(Schema):
    ref: text_of(KeyPlace, "ref", min_length=1)
    name: text_of(KeyPlace, "name", min_length=1)
    kind: one_of(Kind.values)
    area_id: Id
    capacity: Count = 0
    counts: dict[one_of(Category.values), Count] = {}
    test_every_days: integer(1, 30) = 1
    monitor_days: integer(0, 30) = 7
    reason: Reason = ""


@router.post("/keyplaces", response={201: KeyPlaceDetail})
def create_place(request, payload: KeyPlaceIn):
    user = current_user(request)
    area = area_for_write(user, payload.area_id, WRITE)
    p = actions.do_register_place(ref=payload.ref, name=payload.name, kind=payload.kind, area=area,
                                  capacity=payload.capacity, counts=dict(payload.counts),
                                  test_every_days=payload.test_every_days, monitor_days=payload.monitor_days,
                                  actor=user, reason=payload.reason)
    return HttpStatus(201, _detail(user, p))


class KeyPlaceStatusIn(Schema):
    status: one_of(PlaceStatus.values)
    reason: Reason
    on: Day | None = None


@router.post("/keyplaces/{place_id}/status", response=KeyPlaceDetail)
def set_status(request, place_id: QueryId, payload: KeyPlaceStatusIn):
    user, place = writable(request, PLACES, place_id, WRITE, read=READ)
    actions.do_set_place_status(place, status=payload.status, reason=payload.reason, on=payload.on, actor=user)
    return _detail(user, place)


class KeyPlaceCountsIn(Schema):
    counts: dict[one_of(Category.values), Count]
    capacity: Count | None = None
    reason: Reason = ""


@router.post("/keyplaces/{place_id}/counts", response=KeyPlaceDetail)
def set_counts(request, place_id: QueryId, payload: KeyPlaceCountsIn):
    user, place = writable(request, PLACES, place_id, WRITE, read=READ)
    actions.do_set_place_counts(place, counts=dict(payload.counts), capacity=payload.capacity, actor=user,
                                reason=payload.reason)
    return _detail(user, place)


class KeyPlacePersonIn(Schema):
    name: text_of(Person, "name", min_length=1)
    role: one_of(Role.values)
    phone: text_of(Person, "phone") = ""
    inside: bool = True
    rotate_on: Day | None = None
    reason: Reason = ""


@router.post("/keyplaces/{place_id}/people", response={201: KeyPlaceDetail})
def add_person(request, place_id: QueryId, payload: KeyPlacePersonIn):
    user, place = writable(request, PLACES, place_id, WRITE, read=READ)
    actions.do_add_person(place, name=payload.name, role=payload.role, phone=payload.phone, inside=payload.inside,
                          rotate_on=payload.rotate_on, actor=user, reason=payload.reason)
    return HttpStatus(201, _detail(user, place))


class KeyPlaceShiftIn(Schema):
    leaving: list[Id] = []
    coming: list[Id] = []
    rotate_on: Day | None = None
    reason: Reason


def _people(place, pks, field) -> list[Person]:
    found = {p.pk: p for p in place.people.filter(pk__in=pks)}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise ActionError(_("not on this place's list: %(ids)s") % {"ids": ", ".join(map(str, missing))}, field=field)
    return [found[pk] for pk in dict.fromkeys(pks)]


@router.post("/keyplaces/{place_id}/shift", response=KeyPlaceDetail)
def change_shift(request, place_id: QueryId, payload: KeyPlaceShiftIn):
    user, place = writable(request, PLACES, place_id, WRITE, read=READ)
    actions.do_change_shift(place, leaving=_people(place, payload.leaving[:200], "leaving"),
                            coming=_people(place, payload.coming[:200], "coming"), rotate_on=payload.rotate_on,
                            actor=user, reason=payload.reason)
    return _detail(user, place)


class KeyPlaceMovementIn(Schema):
    direction: one_of(Direction.values)
    reason: one_of(MoveReason.values)
    note: Reason = ""
    rotate_on: Day | None = None


@router.post("/keyplaces/people/{person_id}/movements", response=KeyPlaceDetail)
def record_movement(request, person_id: QueryId, payload: KeyPlaceMovementIn):
    user, person = writable(request, Person.objects.select_related("place"), person_id, WRITE, read=READ)
    actions.do_record_movement(person, direction=payload.direction, reason=payload.reason, note=payload.note,
                               rotate_on=payload.rotate_on, actor=user)
    return _detail(user, person.place)


class KeyPlaceTestIn(Schema):
    result: one_of(TestResult.values)
    reason: Reason = ""


@router.post("/keyplaces/people/{person_id}/tests", response=KeyPlaceDetail)
def record_test(request, person_id: QueryId, payload: KeyPlaceTestIn):
    user, person = writable(request, Person.objects.select_related("place"), person_id, WRITE, read=READ)
    actions.do_record_test(person, result=payload.result, actor=user, reason=payload.reason)
    return _detail(user, person.place)


access.declare_operations(router, {
    "list_places": READ, "get_place": READ, "create_place": WRITE, "set_status": WRITE, "set_counts": WRITE,
    "add_person": WRITE, "change_shift": WRITE, "record_movement": WRITE, "record_test": WRITE,
})

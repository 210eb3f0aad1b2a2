"""API for finding one and extinguishing one: infections (list, detail with response timeline, KPIs,
contacts and chain; record, reclassify), response tasks (list with filters; complete, note / tick a checklist
item), people under orders (list, detail; contacts, arrivals, spill-over, manual orders, check-ins,
extensions), facilities (list with occupancy and days of capacity left; create, place, discharge), arrivals
and the maintained list of outside risk regions.

Same scoping as the pages: reads through ``for_user``, single objects through ``access.access`` (404 absent
or out of scope, 403 without the write permission on the record's area); every write calls an action in
``cases.actions``. Guardrail refusals come back as 400 with ``rule``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.cases import actions, queries
from cordon.cases.models import (Arrival, ArrivalKind, CheckIn, Facility, FacilityKind, Found, Infection,
                                 InfectionKind, OrderStatus, OutsideRegion, PersonOrder, Placement, ResponseTask,
                                 TaskStatus)
from cordon.cases.queries import arrival_rows, infection_rows, order_list_qs, order_out
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.core.api import PageQuery, current_user, page_of, writable
from cordon.core.fields import (Day, Id, Moment, QueryId, QueryText, Reason, decimal_of, integer,
                                one_of, text_of)
from cordon.core.schemas import Page
from cordon.places.models import Area, Resident
from cordon.places.queries import area_of

router = Router(tags=["cases"])


def _is_commander(user) -> bool:
    return access.has_perm(user, access.COMMAND)


# ------------------------------------------------------------------------------------------ schemas

PageMeta = Page
RiskLevel = one_of(("high", "medium", "low"))
PersonLabel = text_of(PersonOrder, "label", min_length=1)


class InfectionKpiOut(Schema):
    to_transfer_h: float | None
    to_contacts_identified_h: float | None
    to_contacts_placed_h: float | None
    to_designation_h: float | None
    contacts: int
    placed: int
    to_place: int
    designated: bool


class InfectionOut(Schema):
    id: int
    label: str
    kind: str
    found: str
    home_id: int
    home: str
    confirmed_on: dt.date
    reported_at: dt.datetime | None
    home_isolating: bool
    open_tasks: int
    overdue_tasks: int
    kpi: InfectionKpiOut


class InfectionList(PageMeta):
    items: list[InfectionOut]


class NoteOut(Schema):
    at: dt.datetime
    actor: str
    text: str


class CheckItem(Schema):
    zh: str
    en: str
    done: bool


class ResponseTaskOut(Schema):
    id: int
    infection_id: int
    infection: str
    step: str
    title: str
    owner: str
    deadline: dt.datetime
    status: str
    done_at: dt.datetime | None
    overdue: bool
    escalation: int
    escalated_to: str
    checklist: list[CheckItem]
    rule: str
    playbook: str                      # the playbook the task follows (GET /api/playbooks/{key}); "" for none


class TaskDetail(ResponseTaskOut):
    notes: list[NoteOut]


class ResponseTaskList(PageMeta):
    items: list[ResponseTaskOut]


class OrderOut(Schema):
    id: int
    person: str
    category: str
    status: str
    today: str
    anchor: dt.date
    identified_on: dt.date
    centralized_until: dt.date | None
    home_until: dt.date | None
    free_on: dt.date | None
    released_on: dt.date | None
    next_test: dt.date | None
    test_days: list[dt.date]
    missed_test_days: list[dt.date]
    extended_by: int
    manual: bool
    home_id: int | None
    community_id: int | None
    infection: str | None
    via_id: int | None
    arrival_id: int | None
    resident_id: int | None = None
    placed: bool


class OrderList(PageMeta):
    items: list[OrderOut]


class CheckInOut(Schema):
    on: dt.date
    temperature: Decimal | None
    symptoms: str
    test_result: str
    actor: str


class PlacementOut(Schema):
    id: int
    facility_id: int
    facility: str
    admitted_on: dt.date
    discharged_on: dt.date | None
    person: str


class OrderDetail(OrderOut):
    reason: str
    home: str | None
    checkins: list[CheckInOut]
    placements: list[PlacementOut]


class ChainNode(Schema):
    kind: str
    label: str
    id: int | None
    category: str | None = None
    status: str | None = None
    infection: "ChainNode | None" = None
    children: list["ChainNode"] = []


ChainNode.model_rebuild()


class InfectionDetail(InfectionOut):
    visited: list[str]
    tasks: list[TaskDetail]
    contacts: list[OrderOut]
    chain: ChainNode


def task_out(t: ResponseTask, now: dt.datetime, label: str | None = None) -> dict:
    st = queries.task_state(t, now)
    return {"id": t.pk, "infection_id": t.infection_id, "infection": label or t.infection.label, "step": t.step,
            "title": t.title, "owner": t.owner, "deadline": t.deadline, "status": t.status, "done_at": t.done_at,
            "overdue": st["overdue"], "escalation": t.escalation, "escalated_to": st["escalated_to"],
            "checklist": t.checklist, "rule": t.rule, "playbook": t.playbook}


def infection_detail(user, inf: Infection) -> dict:
    now, today = clock.now(), clock.today()
    row = infection_rows([inf], now)[0]
    tasks = list(inf.tasks.prefetch_related("notes").order_by("deadline", "id"))
    contacts = list(PersonOrder.objects.for_user(user, access.READ_HEALTH).filter(infection=inf).order_by("identified_on", "id"))
    return {**row, "visited": [a.path for a in inf.visited.all()],
            "tasks": [{**task_out(t, now, inf.label),
                       "notes": [{"at": n.at, "actor": n.actor, "text": n.text} for n in t.notes.all()]}
                      for t in tasks],
            "contacts": [order_out(o, today, inf.label) for o in contacts],
            "chain": queries.chain(inf, user)}


# ------------------------------------------------------------------------------------------ infections

class InfectionFilter(PageQuery):
    kind: one_of(InfectionKind.values) | None = None
    since: Day | None = None
    q: QueryText | None = None


@router.get("/infections", response=InfectionList)
def list_infections(request, f: Query[InfectionFilter]):
    qs = Infection.objects.for_user(current_user(request), access.READ_HEALTH).select_related("home")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.since:
        qs = qs.filter(confirmed_on__gte=f.since)
    if f.q:
        qs = qs.filter(label__icontains=f.q.strip())
    return page_of(qs.order_by("-confirmed_on", "-id"), f, lambda items: infection_rows(items, clock.now()))


@router.get("/infections/{infection_id}", response=InfectionDetail)
def get_infection(request, infection_id: QueryId):
    user = current_user(request)
    inf = access.access(Infection.objects.select_related("home"), user, infection_id, read=access.READ_HEALTH)
    return infection_detail(user, inf)


class InfectionCreate(Schema):
    label: text_of(Infection, "label", min_length=1)
    home_id: Id
    found: one_of(Found.values) = "community"
    kind: one_of(InfectionKind.values) = "confirmed"
    confirmed_on: Day | None = None
    sampled_at: Moment | None = None
    reported_at: Moment | None = None
    visited: list[Id] = []
    home_isolating: bool = False
    reason: Reason = ""


@router.post("/infections", response={201: InfectionOut})
def create_infection(request, payload: InfectionCreate):
    user = current_user(request)
    home = area_of(user, payload.home_id, perm=access.CASES_WRITE)
    visited = list(Area.objects.filter(pk__in=payload.visited))
    if len(visited) != len(set(payload.visited)):
        raise ActionError(_("a visited place does not exist"), field="visited")
    inf = actions.do_record_infection(label=payload.label, home=home, found=payload.found, kind=payload.kind,
                                      confirmed_on=payload.confirmed_on or clock.today(), visited=visited,
                                      home_isolating=payload.home_isolating, sampled_at=payload.sampled_at,
                                      reported_at=payload.reported_at, actor=user, reason=payload.reason)
    inf = Infection.objects.select_related("home").get(pk=inf.pk)
    return Status(201, infection_rows([inf], clock.now())[0])


class ReclassifyIn(Schema):
    kind: one_of(InfectionKind.values)
    reason: Reason = ""


@router.post("/infections/{infection_id}/reclassify", response=InfectionOut)
def reclassify_infection(request, infection_id: QueryId, payload: ReclassifyIn):
    user, inf = writable(request, Infection.objects.select_related("home"), infection_id, access.CASES_WRITE,
                         read=access.READ_HEALTH)
    actions.do_reclassify_infection(inf, payload.kind, actor=user, reason=payload.reason)
    return infection_rows([inf], clock.now())[0]


class ContactIn(Schema):
    person: PersonLabel
    category: text_of(PersonOrder, "category", min_length=1) = "close_contact"
    last_exposure: Day
    identified_on: Day | None = None
    home_id: Id | None = None
    via_id: Id | None = None
    id_number: text_of(Resident, "id_number") = ""
    reason: Reason = ""


@router.post("/infections/{infection_id}/contacts", response={201: OrderOut, 200: OrderOut | None})
def register_contact(request, infection_id: QueryId, payload: ContactIn):
    """A close contact (or a contact of a contact, through ``via_id``). The person's home decides whose
    jurisdiction the order is in: it must be writable by you. A contact identified after the order would
    have ended gets no order (200, null)."""
    user = current_user(request)
    inf = access.access(Infection, user, infection_id, read=access.READ_HEALTH)
    home = area_of(user, payload.home_id, perm=access.CASES_WRITE) if payload.home_id else None
    if home is None:
        access.access(Infection, user, infection_id, perm=access.CASES_WRITE)
        home = inf.home
    via = access.access(PersonOrder, user, payload.via_id) if payload.via_id else None
    if via is not None and via.infection_id != inf.pk:
        raise ActionError(_("via must be a contact of this infection"), field="via_id")
    o = actions.do_register_contact(inf, label=payload.person, category=payload.category,
                                    last_exposure=payload.last_exposure, identified_on=payload.identified_on,
                                    home=home, via=via, actor=user, reason=payload.reason,
                                    id_number=payload.id_number)
    if o is None:
        return Status(200, None)
    return Status(201, order_out(o, clock.today(), inf.label))


# ------------------------------------------------------------------------------------------ tasks

class ResponseTaskFilter(PageQuery):
    status: one_of(TaskStatus.values) | None = None
    overdue: bool = False
    mine: bool = False                 # only tasks you can act on (your write jurisdiction)
    infection: QueryId | None = None
    step: text_of(ResponseTask, "step") | None = None


@router.get("/tasks", response=ResponseTaskList)
def list_tasks(request, f: Query[ResponseTaskFilter]):
    user = current_user(request)
    now = clock.now()
    qs = (ResponseTask.objects.for_user(user, access.CASES_WRITE if f.mine else access.READ_HEALTH)
          .select_related("infection"))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.overdue:
        qs = qs.filter(status=TaskStatus.OPEN, deadline__lt=now)
    if f.infection is not None:
        qs = qs.filter(infection_id=f.infection)
    if f.step:
        qs = qs.filter(step=f.step)
    return page_of(qs.order_by("deadline", "id"), f, lambda items: [task_out(t, now) for t in items])


def _task_detail(t: ResponseTask) -> dict:
    t = ResponseTask.objects.select_related("infection").prefetch_related("notes").get(pk=t.pk)
    return {**task_out(t, clock.now()), "notes": [{"at": n.at, "actor": n.actor, "text": n.text}
                                                    for n in t.notes.all()]}


class CompleteIn(Schema):
    note: Reason = ""


class TaskNoteIn(Schema):
    text: Reason = ""
    check: integer(0, 1000) | None = None
    step: text_of(ResponseTask, "playbook") | None = None   # a step key of the task's playbook: checks it off


class TaskPlaybookIn(Schema):
    playbook: text_of(ResponseTask, "playbook") = ""         # a key of the pack's playbooks; "" for none
    reason: Reason = ""


@router.post("/tasks/{task_id}/complete", response=TaskDetail)
def complete_task(request, task_id: QueryId, payload: CompleteIn):
    user, t = writable(request, ResponseTask, task_id, access.CASES_WRITE)
    return _task_detail(actions.do_complete_task(t, actor=user, note=payload.note))


@router.post("/tasks/{task_id}/note", response=TaskDetail)
def note_task(request, task_id: QueryId, payload: TaskNoteIn):
    """Add a note to the task's timeline and/or tick a checklist item (``check``: its index), or check off a
    step of the task's playbook (``step``: its key; who and when are recorded, audited)."""
    user, t = writable(request, ResponseTask, task_id, access.CASES_WRITE)
    if payload.step:
        return _task_detail(actions.do_check_task_step(t, payload.step, actor=user, note=payload.text.strip()))
    if not payload.text.strip() and payload.check is None:
        raise ActionError(_("write a note or tick a checklist item"), field="text")
    return _task_detail(actions.do_note_task(t, payload.text.strip(), actor=user, check=payload.check))


@router.post("/tasks/{task_id}/playbook", response=TaskDetail)
def set_task_playbook(request, task_id: QueryId, payload: TaskPlaybookIn):
    """Make the task follow another playbook of the pack (or none)."""
    user, t = writable(request, ResponseTask, task_id, access.CASES_WRITE)
    return _task_detail(actions.do_set_task_playbook(t, payload.playbook, actor=user, reason=payload.reason))


# ------------------------------------------------------------------------------------------ orders

class OrderFilter(PageQuery):
    community: QueryId | None = None
    status: one_of(OrderStatus.values, "all") | None = "active"
    today: one_of(("centralized", "home")) | None = None
    category: text_of(PersonOrder, "category") | None = None
    q: QueryText | None = None


@router.get("/orders", response=OrderList)
def list_orders(request, f: Query[OrderFilter]):
    user = current_user(request)
    today = clock.today()
    qs = order_list_qs(user, community=f.community, status=f.status, category=f.category, today_status=f.today,
                       q=f.q, today=today).select_related("infection").only(
        "id", "label", "category", "status", "anchor", "identified_on", "centralized_until", "home_until",
        "free_on", "released_on", "test_days", "missed_test_days", "extended_by", "manual", "home_id",
        "community_id", "via_id", "arrival_id", "resident_id", "placed_at", "infection_id", "infection__label")
    return page_of(qs, f, lambda items: [order_out(o, today, o.infection.label if o.infection_id else None)
                                         for o in items])


def order_detail(o: PersonOrder) -> dict:
    o = PersonOrder.objects.select_related("infection", "home").get(pk=o.pk)
    placements = list(o.placements.select_related("facility").order_by("admitted_on", "id"))
    return {**order_out(o, clock.today(), o.infection.label if o.infection_id else None),
            "reason": o.reason, "home": o.home.path if o.home_id else None,
            "checkins": [{"on": c.on, "temperature": c.temperature, "symptoms": c.symptoms,
                          "test_result": c.test_result, "actor": c.actor} for c in o.checkins.order_by("on")],
            "placements": [{"id": p.pk, "facility_id": p.facility_id, "facility": p.facility.name,
                            "admitted_on": p.admitted_on, "discharged_on": p.discharged_on, "person": o.label}
                           for p in placements]}


@router.get("/orders/{order_id}", response=OrderDetail)
def get_order(request, order_id: QueryId):
    return order_detail(access.access(PersonOrder, current_user(request), order_id, read=access.READ_HEALTH))


class ManualOrderIn(Schema):
    person: PersonLabel
    category: text_of(PersonOrder, "category", min_length=1)
    reason: Reason
    home_id: Id | None = None
    id_number: text_of(Resident, "id_number") = ""


@router.post("/orders", response={201: OrderOut, 200: OrderOut | None})
def manual_order(request, payload: ManualOrderIn):
    """Put a person under a category's measures by hand (needs a reason and a recorded link, #4; no
    quarantine for arrivals from low-risk areas, #2 and #7)."""
    user = current_user(request)
    home = area_of(user, payload.home_id, perm=access.CASES_WRITE)
    actions.check_manual_order_home(user, payload.person, home, field="home_id")
    o = actions.do_manual_order(label=payload.person, category=payload.category, reason=payload.reason,
                                home=home, actor=user, id_number=payload.id_number)
    if o is None:
        return Status(200, None)
    return Status(201, order_out(o, clock.today(), o.infection.label if o.infection_id else None))


class CheckInIn(Schema):
    on: Day | None = None
    temperature: decimal_of(CheckIn, "temperature", ge=30, le=45) | None = None
    symptoms: text_of(CheckIn, "symptoms") = ""
    test_result: one_of(("", "negative", "positive")) = ""


@router.post("/orders/{order_id}/checkins", response={201: CheckInOut})
def record_checkin(request, order_id: QueryId, payload: CheckInIn):
    user, o = writable(request, PersonOrder, order_id, access.CASES_WRITE)
    if payload.temperature is not None and not (Decimal("30") <= payload.temperature <= Decimal("45")):
        raise ActionError(_("temperature must be between 30 and 45 °C"), field="temperature")
    c = actions.do_record_checkin(o, on=payload.on, temperature=payload.temperature, symptoms=payload.symptoms,
                                  test_result=payload.test_result, actor=user)
    return Status(201, {"on": c.on, "temperature": c.temperature, "symptoms": c.symptoms,
                        "test_result": c.test_result, "actor": c.actor})


class ExtendIn(Schema):
    days: integer(1, 365)
    reason: Reason


@router.post("/orders/{order_id}/extend", response=OrderDetail)
def extend_order(request, order_id: QueryId, payload: ExtendIn):
    """Extend an order; only the person's positive result is a reason (nine prohibitions #5)."""
    user, o = writable(request, PersonOrder, order_id, access.CASES_WRITE)
    return order_detail(actions.do_extend_order(o, days=payload.days, reason=payload.reason, actor=user))


class SpilloverIn(Schema):
    person: PersonLabel
    from_area_id: Id
    left_on: Day
    home_id: Id
    reason: Reason = ""


@router.post("/spillovers", response={201: OrderOut, 200: OrderOut | None})
def register_spillover(request, payload: SpilloverIn):
    """Someone who left a high- or medium-risk area. The risk area may be anywhere (risk areas are public);
    the person's home must be in your jurisdiction."""
    user = current_user(request)
    home = area_of(user, payload.home_id, perm=access.CASES_WRITE)
    from_area = Area.objects.filter(pk=payload.from_area_id).first()
    if from_area is None:
        raise ActionError(_("no such area"), field="from_area_id")
    o = actions.do_register_spillover(label=payload.person, from_area=from_area, left_on=payload.left_on,
                                      home=home, actor=user, reason=payload.reason)
    if o is None:
        return Status(200, None)
    return Status(201, order_out(o, clock.today()))


# ------------------------------------------------------------------------------------------ arrivals

class ArrivalOut(Schema):
    id: int
    person: str
    destination_id: int
    destination: str
    region: str | None
    from_level: str
    kind: str
    arrived_on: dt.date
    category: str
    order: OrderOut | None
    tests_required: int
    tests_done: int
    tests: list[dict]
    complete: bool


class ArrivalList(PageMeta):
    items: list[ArrivalOut]


class ArrivalFilter(PageQuery):
    since: Day | None = None
    from_level: RiskLevel | None = None


@router.get("/arrivals", response=ArrivalList)
def list_arrivals(request, f: Query[ArrivalFilter]):
    user = current_user(request)
    qs = Arrival.objects.for_user(user, access.READ_HEALTH).select_related("destination", "region")
    if f.since:
        qs = qs.filter(arrived_on__gte=f.since)
    if f.from_level:
        qs = qs.filter(from_level=f.from_level)
    return page_of(qs.order_by("-arrived_on", "-id"), f, lambda items: arrival_rows(items, clock.today(), user))


class ArrivalIn(Schema):
    person: text_of(Arrival, "label", min_length=1)
    destination_id: Id
    kind: one_of(ArrivalKind.values) = "resident"
    arrived_on: Day
    region_id: Id | None = None
    from_level: RiskLevel | None = None
    reason: Reason = ""


def _arrival_one(a: Arrival) -> dict:
    a = Arrival.objects.select_related("destination", "region").get(pk=a.pk)
    return arrival_rows([a], clock.today())[0]


@router.post("/arrivals", response={201: ArrivalOut})
def register_arrival(request, payload: ArrivalIn):
    """An arrival (来兰返兰). Give ``region_id`` from the maintained list (its level decides) or
    ``from_level``. Arrivals from low-risk regions get the pack's tests, never quarantine (#2, #7)."""
    user = current_user(request)
    dest = area_of(user, payload.destination_id, perm=access.CASES_WRITE)
    region = None
    level = payload.from_level
    if payload.region_id is not None:
        region = OutsideRegion.objects.filter(pk=payload.region_id).first()
        if region is None:
            raise ActionError(_("no such region"), field="region_id")
        level = region.level
    if not level:
        raise ActionError(_("give region_id or from_level"), field="from_level")
    a, _o = actions.do_register_arrival(label=payload.person, from_level=level, kind=payload.kind,
                                        arrived_on=payload.arrived_on, destination=dest, region=region,
                                        actor=user, reason=payload.reason)
    return Status(201, _arrival_one(a))


class ArrivalTestIn(Schema):
    on: Day | None = None
    result: one_of(("negative", "positive")) = "negative"


@router.post("/arrivals/{arrival_id}/tests", response=ArrivalOut)
def record_arrival_test(request, arrival_id: QueryId, payload: ArrivalTestIn):
    user, a = writable(request, Arrival, arrival_id, access.CASES_WRITE)
    return _arrival_one(actions.do_record_arrival_test(a, on=payload.on, result=payload.result, actor=user))


# ------------------------------------------------------------------------------------------ facilities

class FacilityOut(Schema):
    id: int
    name: str
    kind: str
    area_id: int
    area: str
    capacity: int
    occupied: int
    free: int
    intake_per_day: float
    days_left: float | None


class FacilityList(PageMeta):
    items: list[FacilityOut]


def facility_rows(facilities, today=None) -> list[dict]:
    look = queries.outlooks(facilities, today)
    return [{"id": f.pk, "name": f.name, "kind": f.kind, "area_id": f.area_id, "area": f.area.path,
             **look[f.pk]} for f in facilities]


class FacilityFilter(PageQuery):
    kind: one_of(FacilityKind.values) | None = None


@router.get("/facilities", response=FacilityList)
def list_facilities(request, f: Query[FacilityFilter]):
    qs = Facility.objects.for_user(current_user(request)).select_related("area")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    return page_of(qs.order_by("kind", "name"), f, lambda items: facility_rows(items))


class FacilityIn(Schema):
    name: text_of(Facility, "name", min_length=1)
    kind: one_of(FacilityKind.values)
    area_id: Id
    capacity: integer(0, 1_000_000)


@router.post("/facilities", response={201: FacilityOut})
def create_facility(request, payload: FacilityIn):
    user = current_user(request)
    area = area_of(user, payload.area_id, perm=access.CASES_WRITE)
    f = actions.do_create_facility(name=payload.name.strip(), kind=payload.kind, area=area,
                                   capacity=payload.capacity, actor=user)
    return Status(201, facility_rows([Facility.objects.select_related("area").get(pk=f.pk)])[0])


class PlaceIn(Schema):
    order_id: Id | None = None
    infection_id: Id | None = None
    note: text_of(Placement, "note") = ""


@router.post("/facilities/{facility_id}/place", response={201: PlacementOut})
def place(request, facility_id: QueryId, payload: PlaceIn):
    """Admit a person under an order (or an infection): needs WRITE on the facility and on the person's
    record. Refused with 400 when the facility is full or of the wrong kind (infections go to designated or
    shelter hospitals, people under orders to quarantine sites; field ``facility``) and when the pack keeps
    the person at home and ``note`` gives no reason the home is unsuitable (field ``note``); 409 when the person
    already has a bed (field ``order`` or ``infection``: discharge or transfer first)."""
    user, fac = writable(request, Facility, facility_id, access.CASES_WRITE)
    order = (access.access(PersonOrder, user, payload.order_id, perm=access.CASES_WRITE)
             if payload.order_id else None)
    inf = (access.access(Infection, user, payload.infection_id, perm=access.CASES_WRITE)
           if payload.infection_id else None)
    p = actions.do_place(fac, order=order, infection=inf, actor=user, note=payload.note)
    return Status(201, {"id": p.pk, "facility_id": fac.pk, "facility": fac.name, "admitted_on": p.admitted_on,
                        "discharged_on": None, "person": order.label if order else inf.label})


class DischargeIn(Schema):
    reason: Reason = ""


@router.post("/placements/{placement_id}/discharge", response=PlacementOut)
def discharge(request, placement_id: QueryId, payload: DischargeIn):
    user = current_user(request)
    p = Placement.objects.select_related("facility", "order", "infection").filter(pk=placement_id).first()
    if p is None:
        raise access.NotFound
    access.access(Facility, user, p.facility_id, perm=access.CASES_WRITE)
    actions.do_discharge(p, actor=user, reason=payload.reason)
    return {"id": p.pk, "facility_id": p.facility_id, "facility": p.facility.name, "admitted_on": p.admitted_on,
            "discharged_on": p.discharged_on, "person": p.order.label if p.order_id else p.infection.label}


# ------------------------------------------------------------------------------------------ outside regions

class RegionOut(Schema):
    id: int
    name: str
    level: str
    updated_on: dt.date
    source: str


class RegionIn(Schema):
    name: text_of(OutsideRegion, "name", min_length=1)
    level: RiskLevel
    source: text_of(OutsideRegion, "source") = ""


@router.get("/outside-regions", response=list[RegionOut])
def list_regions(request):
    if not access.has_perm(current_user(request), access.VIEW):
        raise access.Forbidden
    return [{"id": r.pk, "name": r.name, "level": r.level, "updated_on": r.updated_on, "source": r.source}
            for r in OutsideRegion.objects.order_by("name")[:1000]]


@router.post("/outside-regions", response=RegionOut)
def upsert_region(request, payload: RegionIn):
    """Add or update a region of the maintained list (commanders only)."""
    user = current_user(request)
    if not _is_commander(user):
        raise access.Forbidden
    r = actions.do_upsert_outside_region(name=payload.name, level=payload.level, source=payload.source, actor=user)
    return {"id": r.pk, "name": r.name, "level": r.level, "updated_on": r.updated_on, "source": r.source}


access.declare_operations(router, {
    "list_infections": access.READ_HEALTH, "get_infection": access.READ_HEALTH, "list_tasks": access.READ_HEALTH,
    "list_orders": access.READ_HEALTH, "get_order": access.READ_HEALTH, "list_arrivals": access.READ_HEALTH,
    "create_infection": access.CASES_WRITE, "reclassify_infection": access.CASES_WRITE,
    "register_contact": access.CASES_WRITE, "complete_task": access.CASES_WRITE, "note_task": access.CASES_WRITE,
    "set_task_playbook": access.CASES_WRITE,
    "manual_order": access.CASES_WRITE, "record_checkin": access.CASES_WRITE, "extend_order": access.CASES_WRITE,
    "register_spillover": access.CASES_WRITE, "register_arrival": access.CASES_WRITE,
    "record_arrival_test": access.CASES_WRITE, "create_facility": access.CASES_WRITE, "place": access.CASES_WRITE,
    "discharge": access.CASES_WRITE,
    "list_facilities": access.VIEW, "list_regions": access.VIEW,
    "upsert_region": access.COMMAND,
})

"""API for emergency medical care: requests (board, detail, create, dispatch, advance, close), KPIs,
proactive tasks, special-group needs. Reads through ``for_user`` / ``access.access``; writes through the
desk scope (``care.perms``) and the actions in ``care.actions``. Personal data masked."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.care import actions, perms, queries
from cordon.care.models import CareNeed, CareRequest, Hospital, Outcome, ProactiveTask, Source, Status, Vehicle
from cordon.cases.models import Facility
from cordon.core import access, clock, ids
from cordon.core.api import PageQuery, current_user, paginate, writable
from cordon.core.actions import ActionError
from cordon.core.fields import Day, Id, PageSize, QueryId, Reason, integer, one_of, text_of
from cordon.core.schemas import Page
from cordon.places.models import Resident

router = Router(tags=["emergency care"])


class RequestOut(Schema):
    id: int
    ref: str
    person: str
    area: str
    need: str
    need_text: str
    priority: str
    rank: int
    deadline: dt.datetime
    overdue: bool
    status: str
    sealed: bool
    needs_designated: bool
    source: str
    received_at: dt.datetime
    triaged_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    arrived_at: dt.datetime | None
    at_hospital_at: dt.datetime | None
    closed_at: dt.datetime | None
    hospital: str
    vehicle: str
    outcome: str


class CareEventOut(Schema):
    at: dt.datetime
    status: str
    actor: str
    note: str


class RequestDetail(RequestOut):
    phone: str
    close_reason: str
    cancel_confirmed_by: str
    events: list[CareEventOut]


class RequestList(Page):
    items: list[RequestOut]


def request_out(r: CareRequest, now=None) -> dict:
    now = now or clock.now()
    return {
        "id": r.pk, "ref": r.ref, "person": ids.mask_name(r.person), "area": r.area.path, "need": r.need,
        "need_text": r.need_text, "priority": r.priority_key, "rank": r.priority, "deadline": r.deadline,
        "overdue": r.dispatched_at is None and r.is_open and now > r.deadline, "status": r.status,
        "sealed": r.sealed, "needs_designated": r.needs_designated, "source": r.source,
        "received_at": r.received_at, "triaged_at": r.triaged_at, "dispatched_at": r.dispatched_at,
        "arrived_at": r.arrived_at, "at_hospital_at": r.at_hospital_at, "closed_at": r.closed_at,
        "hospital": r.hospital_name, "vehicle": r.vehicle.plate if r.vehicle_id else "", "outcome": r.outcome,
    }


def _detail(r: CareRequest) -> dict:
    r = CareRequest.objects.select_related("area", "facility", "hospital", "vehicle").get(pk=r.pk)
    return {**request_out(r), "phone": ids.mask_phone(r.phone), "close_reason": r.close_reason,
            "cancel_confirmed_by": r.cancel_confirmed_by,
            "events": [{"at": e.at, "status": e.status, "actor": e.actor, "note": e.note} for e in r.events.all()]}


RELATED = ("area", "facility", "hospital", "vehicle")
WRITABLE = CareRequest.objects.select_related(*RELATED)  # the record a write acts on, with what its answer shows


class RequestFilter(PageQuery):
    status: one_of(("open", *Status.values)) | None = None   # "open" (default: the board), or one status


@router.get("/care/requests", response=RequestList)
def list_requests(request, f: Query[RequestFilter]):
    qs = CareRequest.objects.for_user(current_user(request), access.CARE_READ).select_related(*RELATED)
    if not f.status or f.status == "open":
        qs = queries.board(qs)
    elif f.status == "closed":
        qs = qs.filter(status="closed").order_by("-closed_at", "-id")
    else:
        qs = qs.filter(status=f.status).order_by("priority", "deadline", "id")
    items, meta = paginate(qs, f.page, f.page_size)
    now = clock.now()
    return {"items": [request_out(r, now) for r in items], **meta}


class RequestCreate(Schema):
    area_id: Id
    person: text_of(CareRequest, "person") = ""
    resident_id: Id | None = None
    need: text_of(CareRequest, "need_text", min_length=1)
    urgency: text_of(CareRequest, "urgency") = ""
    source: one_of(Source.values) = "community"
    phone: text_of(CareRequest, "phone") = ""
    address_note: text_of(CareRequest, "address_note") = ""
    reason: Reason = ""


@router.post("/care/requests", response={201: RequestDetail})
def create_request(request, payload: RequestCreate):
    user = current_user(request)
    area = perms.area_for_write(user, payload.area_id, perms.CREATE)
    resident = (access.access(Resident, user, payload.resident_id, read=access.READ_PERSONAL)
                if payload.resident_id else None)
    r = actions.do_create_request(person=payload.person, area=area, need=payload.need, urgency=payload.urgency,
                                  source=payload.source, phone=payload.phone, address_note=payload.address_note,
                                  resident=resident, actor=user, reason=payload.reason)
    return HttpStatus(201, _detail(r))


@router.get("/care/requests/{request_id}", response=RequestDetail)
def get_request(request, request_id: QueryId):
    return _detail(access.access(CareRequest, current_user(request), request_id, read=access.CARE_READ))


class DispatchIn(Schema):
    vehicle_id: Id
    hospital_id: Id | None = None
    facility_id: Id | None = None
    reason: Reason = ""


@router.post("/care/requests/{request_id}/dispatch", response=RequestDetail)
def dispatch_request(request, request_id: QueryId, payload: DispatchIn):
    user, r = writable(request, WRITABLE, request_id, perms.DISPATCH, read=access.CARE_READ)
    vehicle = Vehicle.objects.filter(pk=payload.vehicle_id).first()
    if vehicle is None:
        raise ActionError(_("no such vehicle"), field="vehicle_id")
    hospital = Hospital.objects.filter(pk=payload.hospital_id, active=True).first() if payload.hospital_id else None
    facility = Facility.objects.filter(pk=payload.facility_id).first() if payload.facility_id else None
    return _detail(actions.do_dispatch_request(r, vehicle=vehicle, hospital=hospital, facility=facility, actor=user,
                                               reason=payload.reason))


class AdvanceIn(Schema):
    to: one_of(Status.values)
    reason: Reason = ""


@router.post("/care/requests/{request_id}/advance", response=RequestDetail)
def advance_request(request, request_id: QueryId, payload: AdvanceIn):
    user, r = writable(request, WRITABLE, request_id, perms.DISPATCH, read=access.CARE_READ)
    return _detail(actions.do_advance_request(r, to=payload.to, actor=user, reason=payload.reason))


class RetriageIn(Schema):
    priority: text_of(CareRequest, "priority_key", min_length=1)
    reason: Reason


@router.post("/care/requests/{request_id}/retriage", response=RequestDetail)
def retriage_request(request, request_id: QueryId, payload: RetriageIn):
    user, r = writable(request, WRITABLE, request_id, perms.DISPATCH, read=access.CARE_READ)
    return _detail(actions.do_retriage_request(r, priority=payload.priority, actor=user, reason=payload.reason))


class CareCloseIn(Schema):
    outcome: one_of(Outcome.values)
    reason: Reason = ""
    confirmed_by: text_of(CareRequest, "cancel_confirmed_by") = ""
    confirmation: text_of(CareRequest, "cancel_confirmation") = ""


@router.post("/care/requests/{request_id}/close", response=RequestDetail)
def close_request(request, request_id: QueryId, payload: CareCloseIn):
    user, r = writable(request, WRITABLE, request_id, perms.DISPATCH, read=access.CARE_READ)
    return _detail(actions.do_close_request(r, outcome=payload.outcome, reason=payload.reason,
                                            confirmed_by=payload.confirmed_by, confirmation=payload.confirmation,
                                            actor=user))


class KpiStat(Schema):
    mean: float
    max: float
    count: int


class CareKpiOut(Schema):
    priority: str
    rank: int
    goal_minutes: int
    requests: int
    to_dispatch: KpiStat | None
    to_arrival: KpiStat | None
    dispatched_late: int


@router.get("/care/kpis", response=list[CareKpiOut])
def care_kpis(request):
    return queries.kpis(CareRequest.objects.for_user(current_user(request), access.CARE_READ))


class CareTaskOut(Schema):
    id: int
    designation_id: int
    area: str
    resident_id: int
    resident: str
    kind: str
    due_on: dt.date
    detail: str
    done: bool


class CareTaskList(Page):
    items: list[CareTaskOut]


class CareTaskFilter(PageQuery):
    open: bool = True
    page_size: PageSize = 100


@router.get("/care/tasks", response=CareTaskList)
def list_tasks(request, f: Query[CareTaskFilter]):
    qs = (ProactiveTask.objects.for_user(current_user(request), access.READ_PERSONAL)
          .select_related("resident", "designation__area"))
    if f.open:
        qs = qs.filter(done_at__isnull=True)
    items, meta = paginate(qs.order_by("due_on", "id"), f.page, f.page_size)
    return {"items": [{"id": t.pk, "designation_id": t.designation_id, "area": t.designation.area.path,
                       "resident_id": t.resident_id, "resident": ids.mask_name(t.resident.name), "kind": t.kind,
                       "due_on": t.due_on, "detail": t.detail, "done": t.done_at is not None} for t in items],
            **meta}


class CareTaskDoneIn(Schema):
    reason: text_of(ProactiveTask, "note") = ""


@router.post("/care/tasks/{task_id}/done", response=CareTaskOut)
def complete_task(request, task_id: QueryId, payload: CareTaskDoneIn):
    user, t = writable(request, ProactiveTask.objects.select_related("resident", "designation__area"), task_id,
                       perms.DISPATCH, read=access.READ_PERSONAL)
    actions.do_complete_task(t, actor=user, reason=payload.reason)
    return {"id": t.pk, "designation_id": t.designation_id, "area": t.designation.area.path,
            "resident_id": t.resident_id, "resident": ids.mask_name(t.resident.name), "kind": t.kind,
            "due_on": t.due_on, "detail": t.detail, "done": True}


class NeedsIn(Schema):
    dialysis_weekdays: list[integer(0, 6)] = []
    due_date: Day | None = None
    oxygen: bool = False
    medication: text_of(CareNeed, "medication") = ""
    notes: text_of(CareNeed, "notes") = ""
    reason: Reason = ""


class NeedsOut(Schema):
    resident_id: int
    dialysis_weekdays: list[int]
    due_date: dt.date | None
    oxygen: bool
    medication: str
    notes: str


@router.put("/care/needs/{resident_id}", response=NeedsOut)
def record_needs(request, resident_id: QueryId, payload: NeedsIn):
    user, r = writable(request, Resident, resident_id, access.CARE_SPECIAL, read=access.READ_PERSONAL)
    n = actions.do_record_needs(r, dialysis_weekdays=payload.dialysis_weekdays, due_date=payload.due_date,
                                oxygen=payload.oxygen, medication=payload.medication, notes=payload.notes,
                                actor=user, reason=payload.reason)
    return {"resident_id": r.pk, "dialysis_weekdays": n.dialysis_weekdays, "due_date": n.due_date,
            "oxygen": n.oxygen, "medication": n.medication, "notes": n.notes}


class HospitalIn(Schema):
    name: text_of(Hospital, "name", min_length=1)
    area_id: Id
    phone: text_of(Hospital, "phone") = ""
    reason: Reason = ""


class HospitalOut(Schema):
    id: int
    name: str
    area: str
    phone: str


@router.post("/care/hospitals", response={201: HospitalOut})
def create_hospital(request, payload: HospitalIn):
    """An ordinary hospital in an area the caller may dispatch in (medical dispatchers, staff with write)."""
    user = current_user(request)
    area = perms.area_for_write(user, payload.area_id, perms.DISPATCH)
    h = actions.do_add_hospital(payload.name, area=area, phone=payload.phone, actor=user, reason=payload.reason)
    return HttpStatus(201, {"id": h.pk, "name": h.name, "area": area.path, "phone": h.phone})


class VehicleIn(Schema):
    plate: text_of(Vehicle, "plate", min_length=1)
    team: text_of(Vehicle, "team") = ""
    closed_loop: bool = True
    reason: Reason = ""


class VehicleOut(Schema):
    id: int
    plate: str
    team: str
    closed_loop: bool


@router.post("/care/vehicles", response={201: VehicleOut})
def create_vehicle(request, payload: VehicleIn):
    """A green-channel vehicle (vehicles belong to a station, not an area): medical dispatchers and staff
    with write access."""
    user = current_user(request)
    v = actions.do_add_vehicle(payload.plate, team=payload.team, closed_loop=payload.closed_loop, actor=user,
                               reason=payload.reason)
    return HttpStatus(201, {"id": v.pk, "plate": v.plate, "team": v.team, "closed_loop": v.closed_loop})


access.declare_operations(router, {
    "list_requests": access.CARE_READ, "get_request": access.CARE_READ, "care_kpis": access.CARE_READ,
    "create_request": access.CARE_CREATE,
    "dispatch_request": access.CARE_DISPATCH, "advance_request": access.CARE_DISPATCH,
    "retriage_request": access.CARE_DISPATCH, "close_request": access.CARE_DISPATCH,
    "create_hospital": access.CARE_DISPATCH, "create_vehicle": access.CARE_DISPATCH,
    "list_tasks": access.READ_PERSONAL, "complete_task": access.CARE_DISPATCH,
    "record_needs": access.CARE_SPECIAL,
})

"""API for key workers: employers, workers (status on a day, overdue lists per employer and per community),
registration, on-site samples, employer contacts. Reads through ``queries.workers_for`` (jurisdiction, and an
employer contact's own staff only); writes through ``keyworkers.actions``."""
from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.core import access, clock
from cordon.core.api import DayQuery, PageQuery, current_user, page_of
from cordon.core.fields import Day, Id, PageSize, QueryId, Reason, one_of, text, text_of
from cordon.core.schemas import Page
from cordon.keyworkers import actions, queries
from cordon.keyworkers.models import Employer, EmployerKind
from cordon.core.models import TestResult
from cordon.places.models import Area, Resident
from cordon.policy.cadence import STATUSES

router = Router(tags=["keyworkers"])


class WorkerOut(Schema):
    id: int
    name: str
    group: str
    employer: str
    employer_id: int
    status: str
    due: dt.date | None
    overdue_from: dt.date
    last_negative: dt.date | None
    registered_on: dt.date
    workplace: str
    positive_on: dt.date | None


class WorkerList(Page):
    items: list[WorkerOut]


class WorkerFilter(PageQuery):
    status: one_of(STATUSES) | None = None
    on: Day | None = None
    employer: QueryId | None = None
    area: QueryId | None = None
    became: bool = False
    page_size: PageSize = 100


def area_in_scope(user, pk):
    """An area the user may see (for filtering their lists): 404 otherwise."""
    if pk is None:
        return None
    return access.access(Area, user, pk, read=access.KEYWORKERS_READ)


@router.get("/keyworkers/workers", response=WorkerList)
def list_workers(request, f: Query[WorkerFilter]):
    user = current_user(request)
    on = f.on or clock.today()
    qs = queries.filtered(user, status=f.status, on=on, employer=f.employer, area=area_in_scope(user, f.area),
                          became=f.became)
    labels = queries.group_labels()
    return page_of(qs, f, lambda items: [queries.row(w, on, labels) for w in items])


@router.get("/keyworkers/workers/{worker_id}", response=WorkerOut)
def get_worker(request, worker_id: QueryId):
    return queries.row(queries.access_worker(current_user(request), worker_id))


class CountOut(Schema):
    n: int
    new: int


class EmployerCount(CountOut):
    employer_id: int
    employer__name: str


class CommunityCount(CountOut):
    community_id: int | None
    community: str


class OverdueOut(Schema):
    on: dt.date
    total: int
    new: int
    employers: list[EmployerCount]
    communities: list[CommunityCount]


@router.get("/keyworkers/overdue", response=OverdueOut)
def overdue_summary(request, f: Query[DayQuery]):
    """Overdue workers on a day per employer and per community (``new``: became overdue that day)."""
    return queries.overdue_counts(current_user(request), f.on)


class RegisterIn(Schema):
    id_number: text(18, min_length=15)
    group: text(40, min_length=1)
    employer_id: Id
    workplace_id: Id | None = None
    registered_on: Day | None = None
    reason: Reason = ""


@router.post("/keyworkers/workers", response={201: WorkerOut})
def register_worker(request, payload: RegisterIn):
    user = current_user(request)
    person = Resident.objects.for_user(user, access.KEYWORKERS_WRITE).filter(
        id_number=payload.id_number.strip().upper()).first()
    employer = queries.access_employer(user, payload.employer_id, access.KEYWORKERS_WRITE)
    workplace = access.access(Area, user, payload.workplace_id) if payload.workplace_id else None
    if person is None:
        raise actions.ActionError("no resident with this ID number", field="id_number")
    w = actions.do_register_key_worker(person, group=payload.group, employer=employer, workplace=workplace,
                                       registered_on=payload.registered_on, actor=user, reason=payload.reason)
    return HttpStatus(201, queries.row(w))


class SampleIn(Schema):
    result: one_of(TestResult.values)
    on: Day | None = None
    reason: Reason = ""


@router.post("/keyworkers/workers/{worker_id}/samples", response=WorkerOut)
def record_sample(request, worker_id: QueryId, payload: SampleIn):
    """An on-site sample; a positive one records an infection (cases) and the worker is overdue from its day."""
    user = current_user(request)
    w = queries.access_worker(user, worker_id, access.KEYWORKERS_WRITE)
    actions.do_record_sample(w, result=payload.result, on=payload.on, actor=user, reason=payload.reason)
    return queries.row(queries.access_worker(user, worker_id))


class EmployerOut(Schema):
    id: int
    name: str
    kind: str


@router.get("/keyworkers/employers", response=list[EmployerOut])
def list_employers(request):
    return [{"id": e.pk, "name": e.name, "kind": e.kind}
            for e in queries.employers_for(current_user(request)).order_by("name")[:500]]


class EmployerIn(Schema):
    name: text_of(Employer, "name", min_length=1)
    kind: one_of(EmployerKind.values)
    reason: Reason = ""


@router.post("/keyworkers/employers", response={201: EmployerOut})
def create_employer(request, payload: EmployerIn):
    e = actions.do_create_employer(payload.name, kind=payload.kind, actor=current_user(request),
                                   reason=payload.reason)
    return HttpStatus(201, {"id": e.pk, "name": e.name, "kind": e.kind})


class EmployerContactIn(Schema):
    username: text(150, min_length=1)
    reason: Reason = ""


@router.post("/keyworkers/employers/{employer_id}/contacts", response=EmployerOut)
def link_contact(request, employer_id: QueryId, payload: EmployerContactIn):
    """Link a user with the employer-contact role to this employer (they see its staff only)."""
    user = current_user(request)
    e = queries.access_employer(user, employer_id, access.KEYWORKERS_WRITE)
    actions.do_link_contact(e, username=payload.username, actor=user, reason=payload.reason)
    return {"id": e.pk, "name": e.name, "kind": e.kind}


access.declare_operations(router, {
    "list_workers": access.KEYWORKERS_READ, "get_worker": access.KEYWORKERS_READ,
    "overdue_summary": access.KEYWORKERS_READ, "list_employers": access.KEYWORKERS_READ,
    "register_worker": access.KEYWORKERS_WRITE, "record_sample": access.KEYWORKERS_WRITE,
    "create_employer": access.KEYWORKERS_WRITE, "link_contact": access.KEYWORKERS_WRITE,
})

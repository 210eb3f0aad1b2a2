"""API for the hotline desk: tickets (list, detail, create, respond, assign, feedback, close) and roster gaps.
Callback numbers are masked; writes through the desk scope (``care.perms``) and ``hotline.actions``."""
from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.care import perms
from cordon.core import access, clock, ids
from cordon.core.api import PageQuery, current_user, paginate, writable
from cordon.core.fields import Id, QueryId, Reason, integer, one_of, text, text_of
from cordon.core.schemas import Page
from cordon.hotline import actions, config, queries
from cordon.hotline.models import Category, Status, Ticket

router = Router(tags=["hotline"])
WRITABLE = Ticket.objects.select_related("duplicate_of")  # the record a write acts on, with what its answer shows


class TicketOut(Schema):
    id: int
    number: str
    source: str
    caller: str
    phone: str
    category: str
    location: str
    unit: str
    status: str
    created_at: dt.datetime
    respond_by: dt.datetime
    resolve_by: dt.datetime
    responded_at: dt.datetime | None
    feedback_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool
    escalation: int
    duplicate_of: str | None
    satisfaction: int | None
    assignee: str


class TicketEventOut(Schema):
    at: dt.datetime
    kind: str
    actor: str
    note: str


class TicketDetail(TicketOut):
    text: str
    feedback: str
    events: list[TicketEventOut]


class TicketList(Page):
    items: list[TicketOut]


def ticket_out(t: Ticket, now=None, originals: dict | None = None) -> dict:
    now = now or clock.now()
    if originals is not None:
        dup = originals.get(t.duplicate_of_id)
    else:
        dup = t.duplicate_of.number if t.duplicate_of_id else None
    return {"id": t.pk, "number": t.number, "source": t.source, "caller": ids.mask_name(t.caller),
            "phone": ids.mask_phone(t.phone), "category": t.category, "location": t.location, "unit": t.unit_name,
            "status": t.status, "created_at": t.created_at, "respond_by": t.respond_by, "resolve_by": t.resolve_by,
            "responded_at": t.responded_at, "feedback_at": t.feedback_at, "closed_at": t.closed_at,
            "overdue": queries.overdue(t, now), "escalation": t.escalation,
            "duplicate_of": dup, "satisfaction": t.satisfaction, "assignee": t.assignee}


def _detail(t: Ticket, user) -> dict:
    t = Ticket.objects.get(pk=t.pk)
    # The first call's ticket only when the caller may read it too (it may be in another jurisdiction).
    originals = dict(Ticket.objects.for_user(user, access.HOTLINE_READ).filter(pk=t.duplicate_of_id).values_list("id", "number")) \
        if t.duplicate_of_id else {}
    return {**ticket_out(t, originals=originals), "text": t.text, "feedback": t.feedback,
            "events": [{"at": e.at, "kind": e.kind, "actor": e.actor, "note": e.note} for e in t.events.all()]}


class TicketFilter(PageQuery):
    status: one_of(("open", "overdue", "all", *Status.values)) | None = None  # open (default), or one status
    category: one_of(Category.values) | None = None


@router.get("/hotline/tickets", response=TicketList)
def list_tickets(request, f: Query[TicketFilter]):
    now = clock.now()
    qs = queries.filtered(Ticket.objects.for_user(current_user(request), access.HOTLINE_READ), f.status, f.category, now)
    items, meta = paginate(qs.order_by("-escalation", "resolve_by", "id"), f.page, f.page_size)
    originals = dict(Ticket.objects.for_user(current_user(request), access.HOTLINE_READ)
                     .filter(pk__in={t.duplicate_of_id for t in items if t.duplicate_of_id})
                     .values_list("id", "number"))
    return {"items": [ticket_out(t, now, originals) for t in items], **meta}


class TicketCreate(Schema):
    phone: text_of(Ticket, "phone", min_length=1)
    category: one_of(Category.values)
    text: text(4000, min_length=1)
    caller: text_of(Ticket, "caller") = ""
    area_id: Id | None = None
    location: text_of(Ticket, "location") = ""
    raise_care: bool = False
    need: text(300) = ""
    reason: Reason = ""


@router.post("/hotline/tickets", response={201: TicketDetail})
def create_ticket(request, payload: TicketCreate):
    user = current_user(request)
    area = perms.area_for_write(user, payload.area_id, perms.HOTLINE) if payload.area_id else None
    t = actions.do_create_ticket(phone=payload.phone, category=payload.category, text=payload.text,
                                 caller=payload.caller, area=area, location=payload.location,
                                 raise_care=payload.raise_care, need=payload.need, actor=user, reason=payload.reason)
    return HttpStatus(201, _detail(t, user))


@router.get("/hotline/tickets/{ticket_id}", response=TicketDetail)
def get_ticket(request, ticket_id: QueryId):
    user = current_user(request)
    return _detail(access.access(Ticket, user, ticket_id, read=access.HOTLINE_READ), user)


class TicketNoteIn(Schema):
    note: Reason


class FeedbackIn(Schema):
    feedback: text(4000)


class TicketCloseIn(Schema):
    satisfaction: integer(1, 5) | None = None
    reason: Reason = ""


@router.post("/hotline/tickets/{ticket_id}/respond", response=TicketDetail)
def respond_ticket(request, ticket_id: QueryId, payload: TicketNoteIn):
    user, t = writable(request, WRITABLE, ticket_id, perms.HOTLINE, read=access.HOTLINE_READ)
    return _detail(actions.do_respond_ticket(t, note=payload.note, actor=user), user)


@router.post("/hotline/tickets/{ticket_id}/feedback", response=TicketDetail)
def feedback_ticket(request, ticket_id: QueryId, payload: FeedbackIn):
    user, t = writable(request, WRITABLE, ticket_id, perms.HOTLINE, read=access.HOTLINE_READ)
    return _detail(actions.do_record_feedback(t, feedback=payload.feedback, actor=user), user)


@router.post("/hotline/tickets/{ticket_id}/close", response=TicketDetail)
def close_ticket(request, ticket_id: QueryId, payload: TicketCloseIn):
    user, t = writable(request, WRITABLE, ticket_id, perms.HOTLINE, read=access.HOTLINE_READ)
    return _detail(actions.do_close_ticket(t, satisfaction=payload.satisfaction, actor=user,
                                           reason=payload.reason), user)


class AssignIn(Schema):
    operator: text(150, min_length=1)
    reason: Reason = ""


@router.post("/hotline/tickets/{ticket_id}/assign", response=TicketDetail)
def assign_ticket(request, ticket_id: QueryId, payload: AssignIn):
    """Give an open ticket to an operator, by user name (the assignment page's action, one ticket): refused,
    field ``operator``, when nobody of that name answers tickets where the ticket is."""
    from django.contrib.auth import get_user_model

    user, t = writable(request, WRITABLE, ticket_id, perms.HOTLINE, read=access.HOTLINE_READ)
    operator = get_user_model().objects.filter(username=payload.operator, is_active=True).first()
    return _detail(actions.do_assign_ticket(t, operator, actor=user, reason=payload.reason), user)


class GapOut(Schema):
    starts: dt.datetime
    ends: dt.datetime
    hours: float


class RosterOut(Schema):
    horizon_days: int
    covered: bool
    gaps: list[GapOut]


@router.get("/hotline/roster", response=RosterOut)
def roster(request):
    current_user(request)
    gaps = queries.roster_gaps()
    return {"horizon_days": config.desk()["roster"]["horizon_days"], "covered": not gaps,
            "gaps": [{"starts": a, "ends": b, "hours": round((b - a).total_seconds() / 3600, 2)} for a, b in gaps]}


access.declare_operations(router, {
    "list_tickets": access.HOTLINE_READ, "get_ticket": access.HOTLINE_READ, "roster": access.HOTLINE_READ,
    "create_ticket": access.HOTLINE_WRITE, "respond_ticket": access.HOTLINE_WRITE,
    "feedback_ticket": access.HOTLINE_WRITE, "close_ticket": access.HOTLINE_WRITE,
    "assign_ticket": access.HOTLINE_WRITE,
})

"""API for command orders: send, revise, withdraw and the status matrix (senders, ``orders.send``); a unit's
orders, acknowledge, progress, complete (``orders.receive``). Reads through ``for_user``; writes through
``command.actions``."""
from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status as HttpStatus
from pydantic import Field

from cordon.command import actions, queries
from cordon.command.models import CommandOrder, Priority, Recipient, RecipientStatus
from cordon.core import access, clock
from cordon.core.api import PageQuery, current_user, page_of, writable
from cordon.core.fields import Finite, Moment, QueryId, QueryText, Reason, one_of, text as txt, text_of
from cordon.core.schemas import Page

router = Router(tags=["command orders"])


class CommandOut(Schema):
    id: int
    ref: str
    title: str
    text: str
    priority: str
    due: dt.datetime
    basis: str
    status: str
    version: int
    sender: str
    created: dt.datetime
    targets: dict
    attachment: str


class CommandList(Page):
    items: list[CommandOut]


class CommandDetail(CommandOut):
    counts: dict[str, int]


def order_out(o: CommandOrder) -> dict:
    return {"id": o.pk, "ref": o.ref, "title": o.title, "text": o.text, "priority": o.priority, "due": o.due,
            "basis": o.basis, "status": o.status, "version": o.version, "sender": o.sender_name,
            "created": o.created, "targets": o.targets, "attachment": o.attachment_name}


class CommandRecipientOut(Schema):
    id: int
    order_id: int
    order_ref: str
    unit: str
    status: str
    overdue: bool
    read_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    progress_note: str
    done_at: dt.datetime | None
    evidence: str
    numbers: dict
    escalated: bool


class CommandRecipientList(Page):
    items: list[CommandRecipientOut]


def recipient_out(r: Recipient, now=None) -> dict:
    return {"id": r.pk, "order_id": r.order_id, "order_ref": r.order.ref, "unit": r.label,
            "status": r.status, "overdue": queries.status_of(r, now) == "overdue", "read_at": r.read_at,
            "acknowledged_at": r.acknowledged_at, "progress_note": r.progress_note, "done_at": r.done_at,
            "evidence": r.evidence_text, "numbers": r.evidence_numbers,
            "escalated": bool(r.ack_escalated_at or r.due_escalated_at)}


def _rows(items, order=None):
    """Recipients as the API gives them; ``order``: all of them are that order's (not read again per row)."""
    now = clock.now()
    if order is not None:
        for r in items:
            r.order = order
    return [recipient_out(r, now) for r in items]


class CommandIn(Schema):
    title: text_of(CommandOrder, "title", min_length=1)
    text: txt(10000, min_length=1)
    priority: one_of(Priority.values) = Priority.ROUTINE
    due: Moment
    to: list[txt(400)] = Field(default_factory=list, max_length=5000)
    level: one_of(("", *actions.LEVEL_ORDER)) = ""
    role: txt(40) = ""
    users: list[txt(150)] = Field(default_factory=list, max_length=500)
    basis: text_of(CommandOrder, "basis") = ""
    reason: Reason = ""


@router.get("/commands", response=CommandList)
def list_orders(request, f: Query[PageQuery]):
    """The orders the caller follows as a sender (within their jurisdiction), newest first."""
    return page_of(queries.sent_orders(current_user(request)), f, lambda items: [order_out(o) for o in items])


@router.post("/commands", response={201: CommandDetail})
def send_order(request, payload: CommandIn):
    """Send an order: ``to`` area paths (``"*"``: the whole city) fanned out to their areas of kind ``level``,
    the holders of ``role``, the named ``users``; every one within the caller's jurisdiction (else 400,
    rule order-outside-jurisdiction)."""
    user = current_user(request)
    o = actions.do_send_order(title=payload.title, text=payload.text, priority=payload.priority, due=payload.due,
                              to=payload.to, level=payload.level, role=payload.role, users=payload.users,
                              basis=payload.basis, actor=user, reason=payload.reason)
    return HttpStatus(201, {**order_out(o), "counts": queries.matrix_counts(o)})


@router.get("/commands/{order_id}", response=CommandDetail)
def get_order(request, order_id: QueryId):
    o = access.access(CommandOrder, current_user(request), order_id, read=access.ORDERS_SEND)
    return {**order_out(o), "counts": queries.matrix_counts(o)}


class CommandMatrixFilter(PageQuery):
    status: one_of(RecipientStatus.values) | None = None
    text: QueryText = ""
    overdue: bool = False


@router.get("/commands/{order_id}/matrix", response=CommandRecipientList)
def order_matrix(request, order_id: QueryId, f: Query[CommandMatrixFilter]):
    """The status matrix: every recipient of the order and how far it got (filters: status, unit text, overdue)."""
    o = access.access(CommandOrder, current_user(request), order_id, read=access.ORDERS_SEND)
    qs = queries.matrix(o, status=f.status or "", text=f.text, overdue=f.overdue)
    return page_of(qs, f, lambda items: _rows(items, o))


class CommandReviseIn(Schema):
    title: text_of(CommandOrder, "title", min_length=1) | None = None
    text: txt(10000, min_length=1) | None = None
    priority: one_of(Priority.values) | None = None
    due: Moment | None = None
    basis: text_of(CommandOrder, "basis") | None = None
    reason: Reason = Field(min_length=1)


@router.post("/commands/{order_id}/revise", response=CommandDetail)
def revise_order(request, order_id: QueryId, payload: CommandReviseIn):
    """A new version of the order (the old one kept); the open recipients are told what changed."""
    user, o = writable(request, CommandOrder, order_id, access.ORDERS_SEND, read=access.ORDERS_SEND)
    changes = payload.dict(exclude={"reason"}, exclude_none=True)
    o = actions.do_revise_order(o, actor=user, reason=payload.reason, **changes)
    return {**order_out(o), "counts": queries.matrix_counts(o)}


class CommandWithdrawIn(Schema):
    reason: Reason = Field(min_length=1)


@router.post("/commands/{order_id}/withdraw", response=CommandDetail)
def withdraw_order(request, order_id: QueryId, payload: CommandWithdrawIn):
    user, o = writable(request, CommandOrder, order_id, access.ORDERS_SEND, read=access.ORDERS_SEND)
    o = actions.do_withdraw_order(o, actor=user, reason=payload.reason)
    return {**order_out(o), "counts": queries.matrix_counts(o)}


class CommandMineFilter(PageQuery):
    all: bool = False  # every recipient in the caller's jurisdiction, not only their own unit's


@router.get("/command-inbox", response=CommandRecipientList)
def my_orders(request, f: Query[CommandMineFilter]):
    """The orders addressed to the caller's unit (or to the caller), newest first."""
    return page_of(queries.received(current_user(request), everything=f.all), f, _rows)


def _mine(request, recipient_id):
    return writable(request, Recipient.objects.select_related("order"), recipient_id, access.ORDERS_RECEIVE,
                    read=access.ORDERS_RECEIVE)


@router.get("/command-inbox/{recipient_id}", response=CommandRecipientOut)
def get_my_order(request, recipient_id: QueryId):
    r = access.access(Recipient.objects.select_related("order"), current_user(request), recipient_id,
                      read=access.ORDERS_RECEIVE)
    return recipient_out(r)


class CommandNoteIn(Schema):
    reason: Reason = ""


@router.post("/command-inbox/{recipient_id}/acknowledge", response=CommandRecipientOut)
def acknowledge_order(request, recipient_id: QueryId, payload: CommandNoteIn):
    """已签收: the unit has the order."""
    user, r = _mine(request, recipient_id)
    return recipient_out(actions.do_acknowledge_order(r, actor=user, reason=payload.reason))


class CommandProgressIn(Schema):
    note: txt(1000, min_length=1)


@router.post("/command-inbox/{recipient_id}/progress", response=CommandRecipientOut)
def report_progress(request, recipient_id: QueryId, payload: CommandProgressIn):
    user, r = _mine(request, recipient_id)
    return recipient_out(actions.do_report_progress(r, note=payload.note, actor=user))


class CommandCompleteIn(Schema):
    evidence: txt(4000, min_length=1)
    numbers: dict[txt(60, min_length=1), Finite] = Field(default_factory=dict, max_length=50)


@router.post("/command-inbox/{recipient_id}/complete", response=CommandRecipientOut)
def complete_order(request, recipient_id: QueryId, payload: CommandCompleteIn):
    """Done, with evidence (what was done; figures). A photo is attached on the page."""
    user, r = _mine(request, recipient_id)
    return recipient_out(actions.do_complete_order(r, evidence=payload.evidence, numbers=payload.numbers,
                                                   actor=user))


access.declare_operations(router, {
    "list_orders": access.ORDERS_SEND, "send_order": access.ORDERS_SEND, "get_order": access.ORDERS_SEND,
    "order_matrix": access.ORDERS_SEND, "revise_order": access.ORDERS_SEND, "withdraw_order": access.ORDERS_SEND,
    "my_orders": access.ORDERS_RECEIVE, "get_my_order": access.ORDERS_RECEIVE,
    "acknowledge_order": access.ORDERS_RECEIVE, "report_progress": access.ORDERS_RECEIVE,
    "complete_order": access.ORDERS_RECEIVE,
})

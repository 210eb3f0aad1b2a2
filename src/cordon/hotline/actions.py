"""Actions of the hotline desk: tickets (create, respond, feedback, close), escalation, shifts, the public
form's rate limit. Routing and deadlines are data (``desk.yaml``).

Ticket state machine (``TRANSITIONS``): open -> responded -> answered -> closed; open -> answered when the
first answer is the feedback itself; answered -> responded when the caller is not satisfied yet. A ticket
closes only after feedback to the caller is recorded. Duplicates (same number, same category, an open
ticket within 24 h) are linked to the original and close with it.
"""
from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext, gettext_lazy

from cordon.care import perms
from cordon.care.actions import do_create_request
from cordon.core import access, audit, clock, ids, notify
from cordon.core.actions import ActionError, Conflict, do_escalate, lock, serialize
from cordon.hotline.config import desk
from cordon.hotline.queries import deadlines, find_duplicate, may_edit_roster, resolve_location, route
from cordon.hotline.models import (OPEN_STATUSES, Category, RateCounter, Shift, Source, Status, Ticket,
                                   TicketEvent)


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.RESPONDED, Status.ANSWERED}),
    Status.RESPONDED: frozenset({Status.ANSWERED}),
    Status.ANSWERED: frozenset({Status.CLOSED, Status.RESPONDED}),
    Status.CLOSED: frozenset(),
    Status.DUPLICATE: frozenset(),
}


def _new_number(now: dt.datetime) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"H{now:%y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(5))


def _event(t: Ticket, kind: str, actor, note: str = "") -> None:
    TicketEvent.objects.create(ticket=t, at=clock.now(), kind=kind, actor=audit.actor_name(actor), note=note)


def _check_actor(actor, t) -> None:
    if actor is not None and not isinstance(actor, str) and not perms.can_write(actor, perms.HOTLINE, t):
        raise access.Forbidden


def _move(t: Ticket, to: str) -> None:
    if to not in TRANSITIONS[t.status]:  # t was re-read under its row lock: the state moved on
        raise Conflict(gettext("ticket %(number)s is %(status)s; it cannot move to %(to)s")
                       % {"number": t.number, "status": t.status, "to": to}, field="status",
                          rule="hotline-transition")
    t.status = to


@transaction.atomic
def do_create_ticket(*, phone: str, category: str, text: str, location: str = "", caller: str = "",
                     source: str = Source.CALL, area=None, client: str = "", raise_care: bool = False,
                     need: str = "", actor=None, reason=None) -> Ticket:
    """A ticket from a call (operator entry) or the public form: routed, with deadlines; linked as a
    duplicate when the same number has an open ticket of the same category from the last 24 h."""
    phone = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not 7 <= len(phone) <= 12 or ids.phone_error(phone) and len(phone) == 11:
        raise ActionError(gettext("a callback number is required (an 11-digit mobile or a landline)"), field="phone")
    if category not in Category.values:
        raise ActionError(gettext("category must be one of %(values)s")
                          % {"values": ', '.join(Category.values)}, field="category")
    text = (text or "").strip()
    if not text:
        raise ActionError(gettext("say what the caller needs"), field="text")
    if source not in Source.values:
        raise ActionError(gettext("source must be call or web"), field="source")
    if area is None:
        area = resolve_location(location)
    now = clock.now()
    klass, first, resolve = deadlines(category)
    unit_area, unit_name = route(category, area)
    t = Ticket(source=source, caller=(caller or "").strip()[:60], phone=phone, category=category, text=text[:4000],
               location=(location or (area.path if area else ""))[:400], area=area, unit_area=unit_area,
               unit_name=unit_name[:200], deadline_class=klass, status=Status.OPEN, created_at=now,
               respond_by=now + first, resolve_by=now + resolve, client=client[:64],
               created_by=audit.actor_name(actor))
    t.set_scope_from(area)
    _check_actor(actor, t)
    # Two operators logging the same caller at once: the second waits for the first and links to its ticket
    # (the duplicate window cannot be a unique index, so the (number, category) pair is locked instead).
    serialize("hotline.caller", phone, category)
    original = find_duplicate(phone, category, now)
    if original is not None:
        t.status, t.duplicate_of = Status.DUPLICATE, original
    for _ in range(5):
        t.number = _new_number(now)
        try:
            with transaction.atomic():
                t.save()
            break
        except IntegrityError:
            t.pk = None
    else:  # pragma: no cover
        raise ActionError(gettext("could not number the ticket; try again"), field="number")
    _event(t, "created", actor, f"{Source(source).label} · {unit_name}")
    if original is not None:
        # The notes do not name the other ticket: it may be in another jurisdiction than this one (the link
        # itself is shown to those who may read both, see the ticket page and API).
        _event(t, "duplicate", actor, "duplicate of an earlier call (same number and category)")
        _event(original, "duplicate_call", actor, "the caller asked again")
    audit.record("ticket.create", actor=actor, obj=t, object_type="ticket",
                 after={"number": t.number, "category": category, "source": source, "unit": unit_name,
                        "respond_by": t.respond_by, "resolve_by": t.resolve_by,
                        "duplicate_of": original.number if original else None},
                 reason=reason or "", rule=f"hotline: {category} -> {klass}", scope=t)
    if raise_care and category == Category.MEDICAL and original is None and area is not None:
        req = do_create_request(person=caller or "来电人", area=area, need=need or text, source="hotline",
                                phone=phone, hotline_ticket=t.pk, actor=actor, reason=f"hotline ticket {t.number}")
        t.care_request = req.pk
        t.save(update_fields=["care_request"])
        _event(t, "care_request", actor, f"emergency medical request {req.ref}")
    return t


def _written(t: Ticket, text: str, field: str, required: str, *, actor, reason) -> str:
    """The checked, non-empty ``text`` of a response or feedback; the ticket locked for the actor."""
    text = audit.check_text(text, field).strip()
    audit.check_text(reason)
    if not text:
        raise ActionError(required, field=field)
    _check_actor(actor, t)
    lock(t)
    return text


@transaction.atomic
def do_respond_ticket(t: Ticket, *, note: str, actor=None, reason=None) -> Ticket:
    """First response to the caller (or a progress note once responded)."""
    note = _written(t, note, "note", gettext("write what was said or done"), actor=actor, reason=reason)
    before = t.status
    if t.status == Status.OPEN or t.status == Status.ANSWERED:
        _move(t, Status.RESPONDED)
    elif t.status != Status.RESPONDED:
        raise Conflict(gettext("ticket %(number)s is %(status)s")
                       % {"number": t.number, "status": t.status}, field="status", rule="hotline-transition")
    if t.responded_at is None:
        t.responded_at = clock.now()
    t.save(update_fields=["status", "responded_at"])
    _event(t, "response", actor, note)
    audit.record("ticket.respond", actor=actor, obj=t, object_type="ticket", before={"status": before},
                 after={"status": t.status, "late": t.responded_at > t.respond_by}, reason=reason or note)
    return t


@transaction.atomic
def do_assign_ticket(t: Ticket, operator, *, actor=None, reason: str = "") -> Ticket:
    """Give an open ticket to an operator (a user who may write hotline tickets where the ticket is); audited,
    on the ticket's timeline."""
    _check_actor(actor, t)
    audit.check_text(reason)
    if operator is None or not perms.can_write(operator, perms.HOTLINE, t):
        raise ActionError(gettext("%(who)s does not answer hotline tickets here")
                          % {"who": getattr(operator, "username", "—")}, field="operator")
    lock(t)
    if not t.is_open:
        raise Conflict(gettext("ticket %(number)s is %(status)s") % {"number": t.number, "status": t.status},
                       field="status")
    before = t.assignee
    if before == operator.username:
        return t
    t.assignee = operator.username
    t.save(update_fields=["assignee"])
    _event(t, "assigned", actor, operator.username)
    audit.record("ticket.assign", actor=actor, obj=t, object_type="ticket", before={"assignee": before},
                 after={"assignee": t.assignee}, reason=reason)
    return t


@transaction.atomic
def do_record_feedback(t: Ticket, *, feedback: str, actor=None, reason=None) -> Ticket:
    """Feedback to the caller: what was done, told to them (及时反馈). Needed before the ticket closes."""
    feedback = _written(t, feedback, "feedback", gettext("the feedback given to the caller is required"), actor=actor,
                        reason=reason)
    before = t.status
    _move(t, Status.ANSWERED)
    now = clock.now()
    t.feedback, t.feedback_at = feedback[:4000], now
    if t.responded_at is None:
        t.responded_at = now
    t.save(update_fields=["status", "feedback", "feedback_at", "responded_at"])
    _event(t, "feedback", actor, feedback)
    audit.record("ticket.feedback", actor=actor, obj=t, object_type="ticket", before={"status": before},
                 after={"status": t.status}, reason=reason or "")
    return t


@transaction.atomic
def do_close_ticket(t: Ticket, *, satisfaction: int | None = None, actor=None, reason=None) -> Ticket:
    """Close after feedback; the caller's satisfaction (1..5) when they gave it. Duplicates close with it."""
    lock(t)
    if t.status == Status.CLOSED:
        raise Conflict(gettext("ticket %(number)s is already closed") % {"number": t.number}, field="status", rule="hotline-transition")
    if t.status == Status.DUPLICATE:
        raise ActionError(gettext("ticket %(number)s is a duplicate; it closes with %(number2)s")
                          % {"number": t.number, "number2": t.duplicate_of.number},
                          field="status", rule="hotline-transition")
    if t.feedback_at is None or t.status != Status.ANSWERED:
        raise ActionError(gettext("a ticket closes only after the feedback to the caller is recorded"),
                          field="feedback", rule="hotline-feedback-first")
    if satisfaction is not None and not 1 <= int(satisfaction) <= 5:
        raise ActionError(gettext("satisfaction is 1 (poor) to 5 (very good)"), field="satisfaction")
    _check_actor(actor, t)
    _move(t, Status.CLOSED)
    now = clock.now()
    t.closed_at, t.satisfaction = now, satisfaction
    t.save(update_fields=["status", "closed_at", "satisfaction"])
    _event(t, "closed", actor, f"satisfaction {satisfaction}" if satisfaction else "")
    dups = list(t.duplicates.filter(closed_at__isnull=True))
    for d in dups:
        d.closed_at = now
        d.save(update_fields=["closed_at"])
        _event(d, "closed", actor, f"closed with {t.number}")
    audit.record("ticket.close", actor=actor, obj=t, object_type="ticket",
                 after={"satisfaction": satisfaction, "late": now > t.resolve_by,
                        "duplicates": [d.number for d in dups]}, reason=reason or "")
    return t


def do_escalate_overdue(now: dt.datetime | None = None, *, actor="system") -> int:
    """Raise the escalation of tickets whose deadline passed: 1 first response overdue, 2 resolution
    overdue, 3 resolution overdue by as long again; the local hotline staff are told. Run by ``cordon worker``
    every few minutes."""
    now = now or clock.now()
    texts = desk()["escalation"]

    def level_of(t) -> int:
        level = t.escalation
        if t.responded_at is None and now > t.respond_by:
            level = max(level, 1)
        if t.feedback_at is None and now > t.resolve_by:
            level = max(level, 2)
            if now > t.resolve_by + (t.resolve_by - t.created_at):
                level = 3
        return level

    with transaction.atomic():
        qs = Ticket.objects.select_for_update(skip_locked=True).filter(
            status__in=OPEN_STATUSES, escalation__lt=3, respond_by__lt=now)
        raised = do_escalate(qs, now, level_of, actor=actor, object_type="ticket",
                          rule=lambda t: f"hotline: {t.deadline_class} deadlines")
        TicketEvent.objects.bulk_create([
            TicketEvent(ticket=t, at=now, kind="escalated", actor=audit.actor_name(actor),
                        note=f"{texts[t.escalation]['zh']} / {texts[t.escalation]['en']}") for t in raised])
        notify.tell_local_staff(raised, access.HOTLINE_WRITE, "overdue_ticket",
                                gettext_lazy("Ticket %(number)s is overdue (escalation %(level)s)"),
                                lambda t: {"number": t.number, "level": t.escalation},
                                url=lambda t: f"/hotline/tickets/{t.pk}/", object_type="ticket")
    return len(raised)


# ============================================================================== shifts


def _check_roster_actor(actor) -> None:
    if actor is not None and not isinstance(actor, str) and not may_edit_roster(actor):
        raise access.Forbidden


@transaction.atomic
def do_add_shift(*, operator_name: str, starts: dt.datetime, ends: dt.datetime, operator=None,
                 desk_name: str = "12345", actor=None, reason=None) -> Shift:
    _check_roster_actor(actor)
    if ends <= starts:
        raise ActionError(gettext("a shift ends after it starts"), field="ends")
    if ends - starts > dt.timedelta(hours=24):
        raise ActionError(gettext("a shift lasts at most 24 hours"), field="ends")
    name = (operator_name or (operator.get_username() if operator else "")).strip()
    if not name:
        raise ActionError(gettext("who is on shift is required"), field="operator_name")
    s = Shift.objects.create(operator=operator, operator_name=name[:150], starts=starts, ends=ends,
                             desk=desk_name[:40], created_by=audit.actor_name(actor))
    audit.record("shift.create", actor=actor, obj=s, object_type="shift",
                 after={"operator": name, "starts": starts, "ends": ends}, reason=reason or "")
    return s


@transaction.atomic
def do_remove_shift(s: Shift, *, actor=None, reason=None) -> None:
    _check_roster_actor(actor)
    before = {"operator": s.operator_name, "starts": s.starts, "ends": s.ends}
    pk = s.pk
    s.delete()
    audit.record("shift.delete", actor=actor, object_type="shift", object_id=pk, before=before, reason=reason or "")


# ============================================================================== public form


def do_count_hit(scope: str, client: str, limit: int, window_seconds: int) -> bool:
    """Count one hit; False when the client is over ``limit`` in the current window."""
    window = int(clock.now().timestamp() // window_seconds)
    key = f"{scope}:{client}:{window}"
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window=window, count=1)
            except IntegrityError:
                RateCounter.objects.filter(key=key).update(count=F("count") + 1)
            RateCounter.objects.filter(window__lt=window - 200).delete()
        count = RateCounter.objects.filter(key=key).values_list("count", flat=True).first() or 0
    return count <= limit



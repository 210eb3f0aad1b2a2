"""Actions on special-group needs, proactive tasks and emergency medical requests.

Every state change is a ``do_<verb>_<noun>(..., *, actor, reason=None)``: atomic, with its audit row. The
request's state machine is ``TRANSITIONS`` below; nine prohibitions #6 is enforced in ``do_close_request``
(a request cannot be closed as refused) and ``do_dispatch_request`` (sealed status never blocks dispatch).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _, gettext_lazy

from cordon.care import hooks, perms, triage
from cordon.care.models import (CareNeed, CareRequest, Hospital, Outcome, ProactiveTask,
                                RequestEvent, Source, Status, Vehicle)
from cordon.cases.models import FacilityKind
from cordon.care.queries import is_sealed, person_status, tasks_for
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.packs import active_pack
from cordon.places.models import Resident
from cordon.policy import guardrails
from cordon.zones.models import Designation, Member, Status as ZStatus
from cordon.zones.queries import special_q

#: The request's state machine: status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.TRIAGED, Status.CLOSED}),
    Status.TRIAGED: frozenset({Status.DISPATCHED, Status.CLOSED}),
    Status.DISPATCHED: frozenset({Status.ARRIVED, Status.CLOSED}),
    Status.ARRIVED: frozenset({Status.AT_HOSPITAL, Status.CLOSED}),
    Status.AT_HOSPITAL: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}
STAMP = {Status.TRIAGED: "triaged_at", Status.DISPATCHED: "dispatched_at", Status.ARRIVED: "arrived_at",
         Status.AT_HOSPITAL: "at_hospital_at", Status.CLOSED: "closed_at"}


def _check_actor(actor, record, cap) -> None:
    """A user acting through a page/API must hold the desk's capability ``cap`` over the record."""
    if actor is not None and not isinstance(actor, str) and not perms.can_write(actor, cap, record):
        raise access.Forbidden


def _move(req: CareRequest, to: str, *, actor, note: str = "") -> None:
    if to not in TRANSITIONS[req.status]:
        raise ActionError(_("request %(ref)s is %(status)s; it cannot move to %(to)s")
                          % {"ref": req.ref, "status": req.status, "to": to}, field="status",
                          rule="care-transition")
    now = clock.now()
    req.status = to
    setattr(req, STAMP[to], now)
    RequestEvent.objects.create(request=req, at=now, status=to, actor=audit.actor_name(actor), note=note[:400])


# ============================================================================== special groups: needs

@transaction.atomic
def do_record_needs(resident, *, dialysis_weekdays=(), due_date=None, oxygen=False, medication="", notes="",
                    actor=None, reason=None) -> CareNeed:
    """Record (or replace) a special-group resident's needs in the community registry."""
    days = sorted({int(d) for d in dialysis_weekdays or ()})
    if any(d < 0 or d > 6 for d in days):
        raise ActionError(_("dialysis weekdays are 0 (Monday) to 6 (Sunday)"), field="dialysis_weekdays")
    if actor is not None and not isinstance(actor, str) and not access.scope_for(actor, access.CARE_SPECIAL).contains(
            resident):
        raise access.Forbidden
    serialize("care.need", resident.pk)  # one registry row per resident, however many record it at once
    need = CareNeed.objects.filter(resident=resident).first()
    before = None
    if need is None:
        need = CareNeed(resident=resident)
        need.set_scope_from(resident)
    else:
        before = {"dialysis_weekdays": need.dialysis_weekdays, "due_date": need.due_date, "oxygen": need.oxygen,
                  "medication": need.medication, "notes": need.notes}
    need.dialysis_weekdays, need.due_date, need.oxygen = days, due_date, bool(oxygen)
    need.medication, need.notes = (medication or "")[:200], (notes or "")[:400]
    need.updated_at, need.updated_by = clock.now(), audit.actor_name(actor)
    need.save()
    audit.record("care_need.record", actor=actor, obj=need, object_type="care_need", object_id=resident.pk,
                 before=before, after={"dialysis_weekdays": days, "due_date": due_date, "oxygen": bool(oxygen),
                                       "medication": need.medication, "notes": need.notes}, reason=reason or "")
    return need


# ============================================================================== proactive tasks


def _residents_by_designation(designations, on: dt.date) -> tuple[dict, dict]:
    """designation id -> residents inside its current extent who are in a special group or registered with
    needs; and resident id -> CareNeed. Two queries per member kind present, whatever the count."""
    from django.db.models import Q

    ids = [d.pk for d in designations]
    by_kind: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for i in range(0, len(ids), 5000):
        for m in (Member.objects.filter(designation_id__in=ids[i:i + 5000], removed_on__isnull=True)
                  .select_related("area").only("designation_id", "area_id", "area__kind")):
            by_kind[m.area.kind][m.area_id].add(m.designation_id)
    out: dict[int, dict[int, object]] = defaultdict(dict)
    residents = {}
    cond = special_q(on) | Q(care_need__isnull=False)
    for kind, areas in by_kind.items():
        col = f"{kind}_id"
        keys = sorted(areas)
        for i in range(0, len(keys), 2000):
            for r in Resident.objects.filter(cond, **{f"{col}__in": keys[i:i + 2000]}).distinct():
                residents[r.pk] = r
                for did in areas[getattr(r, col)]:
                    out[did][r.pk] = r
    needs = {}
    rids = list(residents)
    for i in range(0, len(rids), 5000):
        for n in CareNeed.objects.filter(resident_id__in=rids[i:i + 5000]):
            needs[n.resident_id] = n
    return out, needs


def do_sync_proactive_tasks(on: dt.date | None = None, *, actor="system", designations=None) -> dict:
    """Create the proactive tasks of every active designation (or of ``designations``) for ``on``.

    Idempotent: a task is unique per (designation, resident, kind, due day); running twice creates nothing
    new. Run by the day-start jobs; ``do_sync_designation_tasks`` runs it for one designation."""
    on = on or clock.today()
    if designations is None:
        designations = list(Designation.objects.filter(status=ZStatus.ACTIVE))
    if not designations:
        return {"designations": 0, "created": 0}
    with transaction.atomic():
        serialize("care.sync")  # concurrent day ticks: the second counts (and audits) nothing twice
        inside, needs = _residents_by_designation(designations, on)
        tasks = []
        for d in designations:
            for r in inside.get(d.pk, {}).values():
                tasks += tasks_for(d, r, needs.get(r.pk), on)
        before = ProactiveTask.objects.filter(designation__in=[d.pk for d in designations]).count() \
            if len(designations) < 1000 else ProactiveTask.objects.count()
        ProactiveTask.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
        after = ProactiveTask.objects.filter(designation__in=[d.pk for d in designations]).count() \
            if len(designations) < 1000 else ProactiveTask.objects.count()
        created = after - before
        if created:
            audit.record("care_task.sync", actor=actor, object_type="care_task", object_id=on.isoformat(),
                         after={"designations": len(designations), "created": created, "on": on})
    return {"designations": len(designations), "created": created}


@transaction.atomic
def do_sync_designation_tasks(designation, *, on: dt.date | None = None, actor=None, reason=None) -> dict:
    """The small wrapper the designation hook and the pages call: sync one designation's tasks now."""
    audit.check_text(reason)
    return do_sync_proactive_tasks(on, actor=actor, designations=[designation])


@transaction.atomic
def do_complete_task(task: ProactiveTask, *, actor=None, reason=None) -> ProactiveTask:
    lock(task)
    if task.done_at is not None:
        raise Conflict(_("this task is already done"), field="task")
    _check_actor(actor, task, perms.DISPATCH)
    task.done_at, task.done_by, task.note = clock.now(), audit.actor_name(actor), (reason or "")[:300]
    task.save(update_fields=["done_at", "done_by", "note"])
    audit.record("care_task.done", actor=actor, obj=task, object_type="care_task",
                 after={"kind": task.kind, "due_on": task.due_on}, reason=reason or "")
    return task


# ============================================================================== requests


@transaction.atomic
def do_create_request(*, person: str, area, need: str, urgency: str = "", source: str = Source.COMMUNITY,
                      phone: str = "", address_note: str = "", resident=None, infection=None, order=None,
                      ref: str | None = None, hotline_ticket: int | None = None, need_text: str = "",
                      actor=None, reason=None) -> CareRequest:
    """Receive an emergency medical request and triage it at once from the table (priority, deadline).

    ``need`` is what triage classifies (a need key or the caller's words); ``need_text``, when given, is the
    free description kept on the request instead of ``need``."""
    person = (person or "").strip()
    if not person and resident is not None:
        person = resident.name
    if not person:
        raise ActionError(_("who needs care is required"), field="person")
    if area is None:
        raise ActionError(_("where (an address in the city) is required"), field="area")
    if not (need or "").strip():
        raise ActionError(_("the need is required"), field="need")
    if source not in Source.values:
        raise ActionError(_("source must be one of %(values)s") % {"values": ', '.join(Source.values)}, field="source")
    if ref:
        serialize("care.request.ref", ref)
    if ref and CareRequest.objects.filter(ref=ref).exists():
        raise Conflict(_("request %(ref)s already exists") % {"ref": ref}, field="id")
    need_p = triage.classify(need)
    p = triage.classify(need, urgency)
    now = clock.now()
    req = CareRequest(ref=ref or f"tmp-{now.timestamp()}", person=person[:80], resident=resident,
                      infection=infection, order=order, area=area, address_note=(address_note or "")[:200],
                      phone=(phone or "")[:20], need=need_p.key, need_text=(need_text or need).strip()[:300],
                      urgency=(urgency or "")[:12], source=source, priority=p.rank, priority_key=p.key,
                      deadline=triage.deadline(now, p), status=Status.RECEIVED, received_at=now,
                      sealed=is_sealed(area),
                      needs_designated=person_status(resident=resident, infection=infection, order=order),
                      hotline_ticket=hotline_ticket, created_by=audit.actor_name(actor))
    req.set_scope_from(area)
    _check_actor(actor, req, perms.CREATE)
    req.save()
    if not ref:
        req.ref = f"C{req.pk:06d}"
        req.save(update_fields=["ref"])
    RequestEvent.objects.create(request=req, at=now, status=Status.RECEIVED, actor=audit.actor_name(actor),
                                note=f"{Source(source).label}: {req.need_text}"[:400])
    _move(req, Status.TRIAGED, actor="triage", note=triage.rule(p))
    req.save(update_fields=["status", "triaged_at"])
    from cordon.core import notify

    notify.emit(notify.local_staff([req], access.CARE_READ), "care_request",
                gettext_lazy("New medical request %(ref)s in %(area)s"), {"ref": req.ref, "area": area.path},
                url=f"/care/requests/{req.pk}/", obj=req, object_type="care_request")
    audit.record("care_request.create", actor=actor, obj=req, object_type="care_request",
                 after={"ref": req.ref, "area": area.path, "need": req.need, "need_text": req.need_text,
                        "priority": p.key, "deadline": req.deadline, "sealed": req.sealed, "designated": req.needs_designated,
                        "source": source}, reason=reason or "", rule=triage.rule(p))
    return req


@transaction.atomic
def do_retriage_request(req: CareRequest, *, priority: str, actor=None, reason=None) -> CareRequest:
    """A dispatcher changes the priority (with a reason) before dispatch; the deadline follows."""
    t = triage.table()
    if priority not in t:
        raise ActionError(_("priority must be one of %(values)s") % {"values": ', '.join(t)}, field="priority")
    audit.require_reason(reason, _("changing the triage needs a reason"))
    lock(req)
    if req.status not in (Status.RECEIVED, Status.TRIAGED):
        raise Conflict(_("the triage can change only before dispatch"), field="status", rule="care-transition")
    _check_actor(actor, req, perms.DISPATCH)
    p = t[priority]
    before = {"priority": req.priority_key, "deadline": req.deadline}
    req.priority, req.priority_key, req.deadline = p.rank, p.key, triage.deadline(req.received_at, p)
    if req.status == Status.RECEIVED:
        _move(req, Status.TRIAGED, actor=actor, note=reason)
    else:
        RequestEvent.objects.create(request=req, at=clock.now(), status="", actor=audit.actor_name(actor),
                                    note=f"priority {before['priority']} -> {p.key}: {reason}"[:400])
    req.save()
    audit.record("care_request.retriage", actor=actor, obj=req, object_type="care_request", before=before,
                 after={"priority": p.key, "deadline": req.deadline}, reason=reason, rule=triage.rule(p))
    return req


@transaction.atomic
def do_dispatch_request(req: CareRequest, *, vehicle: Vehicle, facility=None, hospital: Hospital | None = None,
                        actor=None, reason=None) -> CareRequest:
    """Assign the hospital (designated for an infected or quarantined person, ordinary otherwise) and a
    closed-loop vehicle. Sealed status never blocks this (nine prohibitions #6)."""
    _check_actor(actor, req, perms.DISPATCH)
    if vehicle is None:
        raise ActionError(_("choose an available vehicle"), field="vehicle")
    # Locks in a fixed order (the request, then the vehicle): a second dispatcher of the same request, or of
    # the same vehicle, waits and then sees the first one's dispatch (one_open_request_per_vehicle backs it).
    lock(req)
    if req.status not in (Status.RECEIVED, Status.TRIAGED):
        raise Conflict(_("request %(ref)s is already %(status)s") % {"ref": req.ref, "status": req.get_status_display()},
                       field="status", rule="care-transition")
    lock(vehicle)
    if req.status == Status.RECEIVED:
        _move(req, Status.TRIAGED, actor=actor, note="triaged at dispatch")
    if not vehicle.active:
        raise ActionError(_("choose an available vehicle"), field="vehicle")
    if not vehicle.closed_loop:
        raise ActionError(_("%(plate)s is not a closed-loop vehicle") % {"plate": vehicle.plate}, field="vehicle")
    busy = CareRequest.objects.filter(vehicle=vehicle, status__in=[Status.DISPATCHED, Status.ARRIVED]) \
        .exclude(pk=req.pk).first()
    if busy is not None:
        raise Conflict(_("%(plate)s is on request %(ref)s")
                       % {"plate": vehicle.plate, "ref": busy.ref}, field="vehicle")
    if req.needs_designated:
        if facility is None or facility.kind != FacilityKind.DESIGNATED_HOSPITAL:
            raise ActionError(_("an infected or quarantined person goes to a designated hospital"), field="facility",
                              rule="care-designated-hospital")
        hospital = None
    else:
        if hospital is None:
            raise ActionError(_("choose an ordinary hospital"), field="hospital")
        facility = None
    # #6: the documented check never blocks; recorded with the dispatch so the green channel is visible.
    verdicts = guardrails.check_care_dispatch(active_pack(), sealed=req.sealed)
    assert guardrails.blocking(verdicts) is None
    req.facility, req.hospital, req.vehicle = facility, hospital, vehicle
    dest = facility.name if facility is not None else hospital.name
    _move(req, Status.DISPATCHED, actor=actor, note=f"{vehicle.plate} -> {dest}")
    try:
        with transaction.atomic():
            req.save()
    except IntegrityError:  # one_open_request_per_vehicle
        raise Conflict(_("%(plate)s was sent on another request just now") % {"plate": vehicle.plate},
                       field="vehicle") from None
    audit.record("care_request.dispatch", actor=actor, obj=req, object_type="care_request",
                 after={"vehicle": vehicle.plate, "hospital": dest, "designated": facility is not None,
                        "sealed": req.sealed, "late": req.dispatched_at > req.deadline}, reason=reason or "",
                 rule="nine-prohibitions-6: sealed status never blocks dispatch" if req.sealed else "")
    if req.sealed:
        hooks.dispatched(req, actor=actor)  # the transfer's pass (passes); never blocks (#6)
    return req


@transaction.atomic
def do_advance_request(req: CareRequest, *, to: str, actor=None, reason=None) -> CareRequest:
    """The vehicle arrived, or the patient is at the hospital."""
    if to not in (Status.ARRIVED, Status.AT_HOSPITAL):
        raise ActionError(_("to must be arrived or at_hospital"), field="to")
    _check_actor(actor, req, perms.DISPATCH)
    lock(req)
    if to not in TRANSITIONS[req.status]:
        raise Conflict(_("request %(ref)s is %(status)s; it cannot move to %(to)s")
                       % {"ref": req.ref, "status": req.get_status_display(), "to": to}, field="status",
                       rule="care-transition")
    before = req.status
    _move(req, to, actor=actor, note=reason or "")
    req.save()
    audit.record(f"care_request.{to}", actor=actor, obj=req, object_type="care_request",
                 before={"status": before}, after={"status": to}, reason=reason or "")
    return req


@transaction.atomic
def do_close_request(req: CareRequest, *, outcome: str, reason: str = "", confirmed_by: str = "",
                     confirmation: str = "", actor=None) -> CareRequest:
    """Close a request. Refused: never (nine prohibitions #6, blocked). Cancelled: only with the
    requester's confirmation, recorded (who confirmed, how). Done before the patient reached care: with a
    reason (e.g. treated on the phone by a doctor)."""
    blocked = guardrails.blocking(guardrails.check_care_closure(active_pack(), outcome=outcome, request=req.ref))
    if blocked is not None:
        lang = "zh" if (get_language() or "zh").startswith("zh") else "en"
        raise ActionError(blocked.message(lang), field="outcome", rule=blocked.rule)
    if outcome not in (Outcome.DONE, Outcome.CANCELLED):
        raise ActionError(_("outcome must be done or cancelled (a request is never closed as refused)"),
                          field="outcome", rule="nine-prohibitions-6" if "refus" in outcome else "")
    _check_actor(actor, req, perms.DISPATCH)
    lock(req)
    if req.status == Status.CLOSED:
        raise Conflict(_("request %(ref)s is already closed") % {"ref": req.ref}, field="status",
                       rule="care-transition")
    reason = (reason or "").strip()
    if outcome == Outcome.CANCELLED:
        if not (confirmed_by or "").strip():
            raise ActionError(_("cancelling needs the requester's confirmation (who confirmed, and how)"),
                              field="confirmed_by", rule="care-cancel-needs-confirmation")
        req.cancel_confirmed_by = confirmed_by.strip()[:150]
        req.cancel_confirmation = (confirmation or reason).strip()[:300]
    elif req.status not in (Status.ARRIVED, Status.AT_HOSPITAL) and not reason:
        raise ActionError(_("closing as done before the patient reached care needs a reason"), field="reason")
    before = req.status
    note = f"{outcome}: {reason}" + (f" (confirmed by {req.cancel_confirmed_by})" if req.cancel_confirmed_by else "")
    _move(req, Status.CLOSED, actor=actor, note=note)
    req.outcome, req.close_reason = outcome, reason
    req.save()
    audit.record("care_request.close", actor=actor, obj=req, object_type="care_request",
                 before={"status": before}, after={"outcome": outcome, "confirmed_by": req.cancel_confirmed_by},
                 reason=reason)
    return req


@transaction.atomic
def do_add_vehicle(plate: str, *, team: str = "", closed_loop: bool = True, actor=None, reason=None) -> Vehicle:
    plate = (plate or "").strip()[:20]
    if not plate:
        raise ActionError(_("a vehicle needs its plate"), field="plate")
    serialize("care.vehicle", plate)
    if Vehicle.objects.filter(plate=plate).exists():
        raise ActionError(_("vehicle %(plate)s is already registered") % {"plate": plate}, field="plate")
    v = Vehicle.objects.create(plate=plate, team=(team or "").strip()[:80], closed_loop=closed_loop)
    audit.record("care_vehicle.create", actor=actor, obj=v, object_type="vehicle",
                 after={"plate": v.plate, "closed_loop": closed_loop}, reason=reason or "")
    return v


@transaction.atomic
def do_add_hospital(name: str, *, area=None, phone: str = "", actor=None, reason=None) -> Hospital:
    name = (name or "").strip()[:120]
    if not name:
        raise ActionError(_("a hospital needs a name"), field="name")
    serialize("care.hospital", name)
    if Hospital.objects.filter(name=name).exists():
        raise ActionError(_("a hospital named %(name)s already exists") % {"name": repr(name)}, field="name")
    if area is not None:
        _check_actor(actor, area, perms.DISPATCH)
    h = Hospital.objects.create(name=name, area=area, phone=(phone or "")[:20])
    audit.record("care_hospital.create", actor=actor, obj=h, object_type="hospital", after={"name": h.name},
                 reason=reason or "")
    return h


# ============================================================================== reads



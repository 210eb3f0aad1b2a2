"""Actions on key places: registering a place, its status (open / closed loop / closed, nine prohibitions #9),
the people inside and its staff, entries and exits, shift changes, on-site tests and breaches.

Every write is a ``do_<verb>_<noun>(..., *, actor, reason=...)``: atomic, with its audit row. A user acting
through a page or the API must hold ``keyplaces.write`` over the place (``_check_actor``).

Breaches: an exit while the place is in closed loop whose reason is not a shift change is recorded as a
breach at once (a medical exit is not: care is never blocked or counted against a loop, nine prohibitions #6);
a person inside a closed loop past their on-site test (``queries``) is recorded by ``do_flag_untested`` for
the day (the day-start job, the scenario runner's day end, the manager's page).
"""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cordon.cases import hooks as case_hooks
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.packs import active_pack
from cordon.keyplaces import queries
from cordon.keyplaces.models import (Breach, BreachKind, Category, Direction, Kind, KeyPlace, Movement, MoveReason,
                                     Person, PlaceStatus, Role, StatusChange, SiteTest)
from cordon.core.models import TestResult
from cordon.policy import guardrails
from cordon.zones.actions import do_raise_flag

#: exits that are no breach of a closed loop
LOOP_EXITS = frozenset({MoveReason.SHIFT_CHANGE, MoveReason.MEDICAL})


def _check_actor(actor, record) -> None:
    if actor is not None and not isinstance(actor, str) and not access.can(actor, access.KEYPLACES_WRITE, record):
        raise access.Forbidden


def _day(on: dt.date | None) -> dt.date:
    return on or clock.today()


def _reason(reason, what: str) -> str:
    reason = audit.check_text(reason).strip()
    if not reason:
        raise ActionError(_("%(what)s needs a reason") % {"what": what}, field="reason")
    return reason


def _counts(counts) -> dict[str, int]:
    out = {}
    for k, v in (counts or {}).items():
        if k not in Category.values:
            raise ActionError(_("people inside are counted as %(values)s") % {"values": ", ".join(Category.values)},
                              field="counts")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 1_000_000:
            raise ActionError(_("a count is a whole number from 0 to 1000000"), field="counts")
        if v:
            out[k] = v
    return out


@transaction.atomic
def do_register_place(*, ref: str, name: str, kind: str, area, capacity: int = 0, counts=None,
                      test_every_days: int = 1, monitor_days: int = 7, on: dt.date | None = None, actor=None,
                      reason: str = "") -> KeyPlace:
    """Register a key place at ``area`` (open from ``on``)."""
    ref, name = (ref or "").strip()[:40], (name or "").strip()[:120]
    if not ref:
        raise ActionError(_("a place needs its code"), field="ref")
    if not name:
        raise ActionError(_("a place needs its name"), field="name")
    if kind not in Kind.values:
        raise ActionError(_("kind must be one of %(values)s") % {"values": ", ".join(Kind.values)}, field="kind")
    if area is None:
        raise ActionError(_("where (an address in the city) is required"), field="area")
    if not 1 <= int(test_every_days) <= 30:
        raise ActionError(_("the on-site test cadence is 1 to 30 days"), field="test_every_days")
    if not 0 <= int(monitor_days) <= 30:
        raise ActionError(_("off-shift monitoring is 0 to 30 days"), field="monitor_days")
    if not 0 <= int(capacity) <= 1_000_000:
        raise ActionError(_("capacity is 0 to 1000000"), field="capacity")
    serialize("keyplaces.ref", ref)
    if KeyPlace.objects.filter(ref=ref).exists():
        raise Conflict(_("place %(ref)s already exists") % {"ref": ref}, field="ref")
    day = _day(on)
    p = KeyPlace(ref=ref, name=name, kind=kind, area=area, capacity=int(capacity), counts=_counts(counts),
                 status=PlaceStatus.OPEN, status_since=day, test_every_days=int(test_every_days),
                 monitor_days=int(monitor_days), created_on=day, created_by=audit.actor_name(actor))
    p.set_scope_from(area)
    _check_actor(actor, p)
    p.save()
    audit.record("keyplace.register", actor=actor, obj=p, object_type="keyplace",
                 after={"ref": ref, "name": name, "kind": kind, "area": area.path, "capacity": p.capacity,
                        "counts": p.counts}, reason=reason or "", scope=p)
    return p


@transaction.atomic
def do_set_place_status(place: KeyPlace, *, status: str, reason: str, on: dt.date | None = None,
                        actor=None) -> StatusChange:
    """Open a place, put it in closed loop, or close it, on ``on``, with a reason. Closing an essential place
    (the pack's ``essential_places``) where no high or medium risk area covers it that day is nine prohibitions
    #9: allowed with the written reason, recorded as a possible violation (a flag on the daily report)."""
    if status not in PlaceStatus.values:
        raise ActionError(_("status must be one of %(values)s") % {"values": ", ".join(PlaceStatus.values)},
                          field="status")
    reason = _reason(reason, _("a change of status"))
    _check_actor(actor, place)
    lock(place)
    day = _day(on)
    if status == place.status:
        raise Conflict(_("%(place)s is already %(status)s") % {"place": place.name,
                                                               "status": PlaceStatus(status).label}, field="status")
    if day < place.status_since:
        raise ActionError(_("a change cannot be dated before the last one (%(d)s)") % {"d": place.status_since},
                          field="on")
    verdicts = []
    if status == PlaceStatus.CLOSED:
        verdicts = guardrails.check_place_closure(active_pack(), place_kind=place.kind,
                                                  area_level=case_hooks.risk_level(place.area, day),
                                                  place=f"{place.name} ({place.area.path})")
    before = place.status
    ch = StatusChange.objects.create(place=place, on=day, before=before, after=status, reason=reason,
                                     flagged=bool(verdicts), actor=audit.actor_name(actor), at=clock.now())
    place.status, place.status_since = status, day
    place.save(update_fields=["status", "status_since"])
    for v in verdicts:
        do_raise_flag(v, on=day, scope=place, actor=actor, reason=reason)
    audit.record("keyplace.status", actor=actor, obj=place, object_type="keyplace", before={"status": before},
                 after={"status": status, "on": day, "flagged": bool(verdicts)}, reason=reason, scope=place,
                 rule=verdicts[0].rule if verdicts else "")
    return ch


@transaction.atomic
def do_set_place_counts(place: KeyPlace, *, counts, capacity: int | None = None, actor=None,
                        reason: str = "") -> KeyPlace:
    """The people inside by category (residents, inmates, patients, pupils), and the capacity."""
    _check_actor(actor, place)
    lock(place)
    new = _counts(counts)
    before = {"counts": place.counts, "capacity": place.capacity}
    if capacity is not None:
        if not 0 <= int(capacity) <= 1_000_000:
            raise ActionError(_("capacity is 0 to 1000000"), field="capacity")
        place.capacity = int(capacity)
    place.counts = new
    place.save(update_fields=["counts", "capacity"])
    audit.record("keyplace.counts", actor=actor, obj=place, object_type="keyplace", before=before,
                 after={"counts": new, "capacity": place.capacity}, reason=reason or "", scope=place)
    return place


def _move(person: Person, direction: str, reason: str, day: dt.date, note: str, actor) -> Movement:
    place = person.place
    breach = (direction == Direction.EXIT and place.status == PlaceStatus.CLOSED_LOOP and reason not in LOOP_EXITS)
    m = Movement(place=place, person=person, on=day, direction=direction, reason=reason, note=(note or "")[:300],
                 breach=breach, actor=audit.actor_name(actor), at=clock.now())
    m.set_scope_from(place)
    m.save()
    if breach:
        _breach(person, BreachKind.EXIT, day, f"{MoveReason(reason).label}: {note}"[:300])
    return m


def _breach(person: Person, kind: str, day: dt.date, detail: str) -> Breach | None:
    b = Breach(place=person.place, person=person, on=day, kind=kind, detail=detail)
    b.set_scope_from(person.place)
    try:
        with transaction.atomic():
            b.save()
    except IntegrityError:
        return None  # recorded already that day
    return b


@transaction.atomic
def do_add_person(place: KeyPlace, *, name: str, role: str, phone: str = "", inside: bool = True,
                  on: dt.date | None = None, rotate_on: dt.date | None = None, actor=None,
                  reason: str = "") -> Person:
    """Put a person on the place's list (staff, or a resident/inmate/patient/pupil); ``inside``: they enter
    on ``on`` (an admission, or the start of a staff member's shift until ``rotate_on``)."""
    name = (name or "").strip()[:80]
    if not name:
        raise ActionError(_("a person needs a name"), field="name")
    if role not in Role.values:
        raise ActionError(_("role must be one of %(values)s") % {"values": ", ".join(Role.values)}, field="role")
    day = _day(on)
    if rotate_on is not None and (role != Role.STAFF or rotate_on < day):
        raise ActionError(_("a rotation date is for staff, on or after the day they come in"), field="rotate_on")
    _check_actor(actor, place)
    p = Person(place=place, name=name, role=role, phone=(phone or "").strip()[:20], created_by=audit.actor_name(actor))
    p.set_scope_from(place)
    p.save()
    if inside:
        p.inside, p.since, p.rotate_on = True, day, rotate_on
        p.save(update_fields=["inside", "since", "rotate_on"])
        _move(p, Direction.ENTRY, MoveReason.SHIFT_CHANGE if role == Role.STAFF else MoveReason.ADMISSION, day,
              reason, actor)
    audit.record("keyplace_person.add", actor=actor, obj=p, object_type="keyplace_person",
                 after={"place": place.ref, "role": role, "inside": inside, "on": day, "rotate_on": rotate_on},
                 reason=reason or "", scope=place)
    return p


@transaction.atomic
def do_record_movement(person: Person, *, direction: str, reason: str, on: dt.date | None = None, note: str = "",
                       rotate_on: dt.date | None = None, actor=None) -> Movement:
    """An entry or an exit, with its reason. A staff member leaving on a shift change starts their off-shift
    health monitoring (the place's ``monitor_days``). An exit from a closed loop for any other reason than a
    shift change or medical care is a breach (recorded, shown on the place and the daily report)."""
    if direction not in Direction.values:
        raise ActionError(_("direction must be entry or exit"), field="direction")
    if reason not in MoveReason.values:
        raise ActionError(_("reason must be one of %(values)s") % {"values": ", ".join(MoveReason.values)},
                          field="reason")
    note = audit.check_text(note, "note", 300)
    _check_actor(actor, person)
    lock(person)
    place = KeyPlace.objects.get(pk=person.place_id)
    person.place = place
    day = _day(on)
    if direction == Direction.ENTRY and person.inside:
        raise Conflict(_("%(name)s is already inside") % {"name": person.name}, field="direction")
    if direction == Direction.EXIT and not person.inside:
        raise Conflict(_("%(name)s is not inside") % {"name": person.name}, field="direction")
    if person.since and day < person.since:
        raise ActionError(_("a movement cannot be dated before the last one (%(d)s)") % {"d": person.since},
                          field="on")
    if reason == MoveReason.SHIFT_CHANGE and person.role != Role.STAFF:
        raise ActionError(_("a shift change is for staff"), field="reason")
    if rotate_on is not None and (direction != Direction.ENTRY or person.role != Role.STAFF or rotate_on < day):
        raise ActionError(_("a rotation date is for staff, on or after the day they come in"), field="rotate_on")
    before = {"inside": person.inside, "since": person.since}
    if direction == Direction.ENTRY:
        person.inside, person.since, person.rotate_on = True, day, rotate_on
    else:
        person.inside, person.since, person.rotate_on = False, day, None
        if person.role == Role.STAFF and reason == MoveReason.SHIFT_CHANGE:
            person.monitor_until = day + dt.timedelta(days=place.monitor_days)
    person.save(update_fields=["inside", "since", "rotate_on", "monitor_until"])
    m = _move(person, direction, reason, day, note, actor)
    audit.record(f"keyplace_person.{direction}", actor=actor, obj=person, object_type="keyplace_person", before=before,
                 after={"reason": reason, "on": day, "breach": m.breach, "monitor_until": person.monitor_until},
                 reason=note, scope=place, rule="keyplace-breach" if m.breach else "")
    return m


@transaction.atomic
def do_change_shift(place: KeyPlace, *, leaving, coming, rotate_on: dt.date | None = None,
                    on: dt.date | None = None, actor=None, reason: str) -> list[Movement]:
    """A shift change: the staff in ``leaving`` go out (their off-shift monitoring starts), those in ``coming``
    come in until ``rotate_on``; one dated, reasoned action."""
    reason = _reason(reason, _("a shift change"))
    leaving, coming = list(leaving), list(coming)
    if not leaving and not coming:
        raise ActionError(_("name who leaves and who comes in"), field="leaving")
    for p in leaving + coming:
        if p.place_id != place.pk:
            raise ActionError(_("%(name)s is not on this place's list") % {"name": p.name}, field="leaving")
    out = [do_record_movement(p, direction=Direction.EXIT, reason=MoveReason.SHIFT_CHANGE, on=on, note=reason,
                              actor=actor) for p in leaving]
    out += [do_record_movement(p, direction=Direction.ENTRY, reason=MoveReason.SHIFT_CHANGE, on=on, note=reason,
                               rotate_on=rotate_on, actor=actor) for p in coming]
    audit.record("keyplace.shift_change", actor=actor, obj=place, object_type="keyplace",
                 after={"leaving": [p.pk for p in leaving], "coming": [p.pk for p in coming], "on": _day(on),
                        "rotate_on": rotate_on}, reason=reason, scope=place)
    return out


@transaction.atomic
def do_record_test(person: Person, *, result: str, on: dt.date | None = None, actor=None, reason: str = "") -> SiteTest:
    """An on-site test of a person on the place's list, and its result."""
    if result not in TestResult.values:
        raise ActionError(_("result must be negative or positive"), field="result")
    _check_actor(actor, person)
    day = _day(on)
    if day > clock.today():
        raise ActionError(_("a test cannot be dated in the future"), field="on")
    t = SiteTest(place_id=person.place_id, person=person, on=day, result=result, actor=audit.actor_name(actor))
    t.set_scope_from(person)
    t.save()
    audit.record("keyplace_test.record", actor=actor, obj=t, object_type="keyplace_test",
                 after={"person": person.pk, "on": day, "result": result}, reason=reason or "", scope=person)
    return t


@transaction.atomic
def do_flag_untested(on: dt.date | None = None, *, places=None, actor="system", reason: str = "") -> int:
    """Record a breach for each person inside a closed loop past their on-site test on ``on`` (once a day)."""
    day = _day(on)
    qs = places if places is not None else KeyPlace.objects.filter(status=PlaceStatus.CLOSED_LOOP)
    written = 0
    for place in qs:
        for d in queries.overdue_tests(place, day):
            last = d.last.isoformat() if d.last else "-"
            written += _breach(d.person, BreachKind.UNTESTED, day,
                               f"due {d.due.isoformat()}, last negative {last}") is not None
    if written:
        audit.record("keyplace_breach.untested", actor=actor, object_type="keyplace_breach", object_id=day.isoformat(),
                     after={"on": day, "written": written}, reason=reason or "")
    return written

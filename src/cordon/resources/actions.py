"""Writes of resources: register people, teams, vans and labs; plan and cancel shifts; a lab's capacity.
Each is atomic, checks the actor's ``resources.write`` jurisdiction over the area it writes in, and writes its
audit row (personal data masked: a person's phone never enters the audit log in full)."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from cordon.core import access, audit, ids
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.resources.models import Lab, Person, PersonKind, Shift, Skill, Team, TeamKind, Van


def _in_scope(actor, area, field: str = "area") -> None:
    """The area must be given and lie within the actor's resources.write jurisdiction (a system actor, a
    string, writes anywhere: the demo, the scenario runner)."""
    if area is None:
        raise ActionError(_("choose an area"), field=field)
    if actor is not None and not isinstance(actor, str) and \
            not access.scope_for(actor, access.RESOURCES_WRITE).contains(area):
        raise access.NotFound


def _name(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise ActionError(_("%(field)s: 1 to %(n)s characters") % {"field": field, "n": limit}, field=field)
    return value


def _new(model, key: str, value: str, exists: str, area, **fields):
    """A new record named ``value`` (its ``key`` field, unique) placed in ``area`` (its ancestor ids); Conflict
    when the name is taken, ``exists`` saying so (a text with ``%(name)s``)."""
    serialize(f"resources.{model._meta.model_name}", value)
    if model.objects.filter(**{key: value}).exists():
        raise Conflict(exists % {"name": value}, field=key)
    obj = model(**{key: value}, area=area, **fields)
    obj.set_scope_from(area)
    obj.save()
    return obj


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise ActionError(_("%(field)s must be one of %(values)s") % {"field": field, "values": ", ".join(choices.values)},
                          field=field)
    return value


@transaction.atomic
def do_create_team(name: str, *, kind: str, area, actor=None, reason: str = "") -> Team:
    name = _name(name, "name", 80)
    _choice(kind, TeamKind, "kind")
    _in_scope(actor, area)
    team = _new(Team, "name", name, _("a team named %(name)s already exists"), area, kind=kind)
    audit.record("resources_team.create", actor=actor, obj=team, object_type="team",
                 after={"name": name, "kind": kind, "area": area.path}, reason=reason)
    return team


@transaction.atomic
def do_register_person(name: str, *, kind: str, area, phone: str = "", skills=(), team: Team | None = None,
                       user=None, actor=None, reason: str = "") -> Person:
    """A member of staff or a volunteer based in ``area``; optionally in a team and linked to an account."""
    name = _name(name, "name", 40)
    _choice(kind, PersonKind, "kind")
    phone = (phone or "").strip()
    if phone and not (phone.isdigit() and 5 <= len(phone) <= 20):
        raise ActionError(_("a phone number is 5 to 20 digits"), field="phone")
    skills = list(dict.fromkeys(skills or ()))
    for s in skills:
        _choice(s, Skill, "skills")
    _in_scope(actor, area)
    if team is not None:
        _in_scope(actor, team, "team")
    if user is not None and Person.objects.filter(user=user).exists():
        raise Conflict(_("that account already belongs to a person"), field="user")
    p = Person(name=name, kind=kind, area=area, phone=phone, skills=skills, team=team, user=user)
    p.set_scope_from(area)
    p.save()
    audit.record("resources_person.create", actor=actor, obj=p, object_type="person", object_repr=ids.mask_name(name),
                 after={"kind": kind, "area": area.path, "phone": ids.mask_phone(phone), "skills": skills,
                        "team": team.name if team else None, "user": user.get_username() if user else None},
                 reason=reason)
    return p


@transaction.atomic
def do_assign_person(person: Person, *, team: Team | None, active: bool = True, actor=None,
                     reason: str = "") -> Person:
    """Move a person to a team (or none), or stand them down (``active=False``)."""
    lock(person)
    _in_scope(actor, person, "person")
    if team is not None:
        _in_scope(actor, team, "team")
    before = {"team": person.team.name if person.team_id else None, "active": person.active}
    person.team, person.active = team, active
    person.save(update_fields=["team", "active"])
    audit.record("resources_person.assign", actor=actor, obj=person, object_type="person",
                 object_repr=ids.mask_name(person.name), before=before,
                 after={"team": team.name if team else None, "active": active}, reason=reason)
    return person


@transaction.atomic
def do_add_van(plate: str, *, area, team: Team | None = None, closed_loop: bool = True, actor=None,
               reason: str = "") -> Van:
    plate = _name(plate, "plate", 20)
    _in_scope(actor, area)
    if team is not None:
        _in_scope(actor, team, "team")
    van = _new(Van, "plate", plate, _("vehicle %(name)s is already registered"), area, team=team,
               closed_loop=closed_loop)
    audit.record("resources_van.create", actor=actor, obj=van, object_type="van",
                 after={"plate": plate, "area": area.path, "team": team.name if team else None,
                        "closed_loop": closed_loop}, reason=reason)
    return van


@transaction.atomic
def do_plan_shift(*, area, on: dt.date, start: dt.time, end: dt.time, team: Team | None = None, people=(),
                  van: Van | None = None, note: str = "", actor=None, reason: str = "") -> Shift:
    """People on duty in ``area`` on ``on`` from ``start`` to ``end`` (a night shift ends the next morning:
    ``end`` before ``start``; equal times are refused). A team, named people, or both; every one of them and
    the area within the actor's jurisdiction."""
    _in_scope(actor, area)
    people = list(dict.fromkeys(people or ()))
    if team is None and not people:
        raise ActionError(_("a shift needs a team or at least one person"), field="people")
    if start == end:
        raise ActionError(_("a shift ends at another time than it starts"), field="end")
    audit.check_text(note, "note")
    for obj, field in ([(team, "team")] if team else []) + [(p, "people") for p in people] + \
            ([(van, "van")] if van else []):
        _in_scope(actor, obj, field)
    for p in people:
        if not p.active:
            raise ActionError(_("%(name)s is stood down") % {"name": ids.mask_name(p.name)}, field="people")
    shift = Shift(area=area, on=on, start=start, end=end, team=team, van=van, note=(note or "")[:200])
    shift.set_scope_from(area)
    shift.save()
    if people:
        shift.people.set(people)
    audit.record("resources_shift.create", actor=actor, obj=shift, object_type="shift",
                 object_repr=f"{area.path} {on} {start:%H:%M}-{end:%H:%M}",
                 after={"area": area.path, "on": on, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"),
                        "team": team.name if team else None, "people": len(people),
                        "van": van.plate if van else None}, reason=reason)
    return shift


@transaction.atomic
def do_cancel_shift(shift: Shift, *, actor=None, reason: str = "") -> Shift:
    audit.require_reason(reason, _("say why the shift is cancelled"))
    lock(shift)
    _in_scope(actor, shift, "shift")
    if shift.cancelled:
        raise Conflict(_("this shift is already cancelled"), field="shift")
    shift.cancelled = True
    shift.save(update_fields=["cancelled"])
    audit.record("resources_shift.cancel", actor=actor, obj=shift, object_type="shift",
                 object_repr=f"{shift.area.path} {shift.on}", before={"cancelled": False}, after={"cancelled": True},
                 reason=reason)
    return shift


def _tubes(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000_000:
        raise ActionError(_("tubes per day: a whole number from 1 to 10000000"), field="tubes_per_day")
    return value


@transaction.atomic
def do_register_lab(name: str, *, area, tubes_per_day: int, actor=None, reason: str = "") -> Lab:
    """A lab testing the tubes of the rounds in ``area`` (its catchment), ``tubes_per_day`` a day."""
    name = _name(name, "name", 80)
    tubes_per_day = _tubes(tubes_per_day)
    _in_scope(actor, area)
    lab = _new(Lab, "name", name, _("a lab named %(name)s already exists"), area, tubes_per_day=tubes_per_day)
    audit.record("resources_lab.create", actor=actor, obj=lab, object_type="lab",
                 after={"name": name, "area": area.path, "tubes_per_day": tubes_per_day}, reason=reason)
    return lab


@transaction.atomic
def do_set_lab_capacity(lab: Lab, tubes_per_day: int, *, actor=None, reason: str = "") -> Lab:
    tubes_per_day = _tubes(tubes_per_day)
    lock(lab)
    _in_scope(actor, lab, "lab")
    before = lab.tubes_per_day
    lab.tubes_per_day = tubes_per_day
    lab.save(update_fields=["tubes_per_day"])
    audit.record("resources_lab.capacity", actor=actor, obj=lab, object_type="lab",
                 before={"tubes_per_day": before}, after={"tubes_per_day": tubes_per_day}, reason=reason)
    return lab

"""Actions on residents and households. Views, API, CLI and imports all call these."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from cordon.core import access, audit, ids, stamps
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.models import AuditEntry, LEVELS
from cordon.places.models import Area, Household, Resident, Treatment
from cordon.places.queries import ResidentSearch, may_read_name, search_residents

#: Fields a resident record exposes to edits, with their checks in ``check_resident``.
RESIDENT_FIELDS = ("name", "id_number", "phone", "birth_date", "sex", "lives_alone", "pregnant_due",
                   "treatment", "disability", "chronic_illness")


def check_resident(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise resident fields. Raises ActionError(field, reason) on the first problem."""
    out = {}
    for key, value in data.items():
        if key not in RESIDENT_FIELDS:
            raise ActionError(_("unknown field %(key)s") % {"key": repr(key)}, field=key)
        out[key] = value
    if not partial:
        for key in ("name", "id_number", "birth_date", "sex"):
            if not out.get(key) and out.get(key) != 0:
                if key in ("birth_date", "sex") and out.get("id_number"):
                    continue
                raise ActionError(_("required"), field=key)
    if "name" in out:
        name = str(out["name"]).strip()
        if not name or len(name) > 40:
            raise ActionError(_("must be 1 to 40 characters"), field="name")
        out["name"] = name
    if "id_number" in out:
        v = str(out["id_number"]).strip().upper()
        err = ids.id_number_error(v)
        if err:
            raise ActionError(err, field="id_number")
        out["id_number"] = v
        if not partial:
            out.setdefault("birth_date", ids.birth_date_of(v))
            out.setdefault("sex", ids.sex_of(v))
    if "phone" in out:
        v = str(out["phone"] or "").strip()
        if v:
            err = ids.phone_error(v)
            if err:
                raise ActionError(err, field="phone")
        out["phone"] = v
    for key in ("birth_date", "pregnant_due"):
        if key in out and out[key] not in (None, ""):
            v = out[key]
            if isinstance(v, str):
                try:
                    v = dt.date.fromisoformat(v.strip())
                except ValueError:
                    raise ActionError(_("must be a date YYYY-MM-DD"), field=key) from None
            elif isinstance(v, dt.datetime):
                v = v.date()
            out[key] = v
        elif key in out:
            if key == "birth_date":
                raise ActionError(_("required"), field=key)
            out[key] = None
    if "id_number" in out and out.get("birth_date") and ids.birth_date_of(out["id_number"]) != out["birth_date"]:
        raise ActionError(_("does not match the birth date in the ID number"), field="birth_date")
    if "sex" in out:
        v = str(out["sex"]).strip().upper()
        v = {"男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}.get(v, v)
        if v not in ("M", "F"):
            raise ActionError(_("must be M or F (男/女)"), field="sex")
        out["sex"] = v
    if "treatment" in out:
        v = str(out["treatment"] or "").strip().lower()
        v = {"透析": "dialysis", "化疗": "chemotherapy", "其他": "other", "none": ""}.get(v, v)
        if v not in Treatment.values:
            raise ActionError(_("must be one of: dialysis, chemotherapy, other, or empty"), field="treatment")
        out["treatment"] = v
    for key in ("lives_alone", "disability", "chronic_illness"):
        if key in out:
            out[key] = _parse_bool(out[key], key)
    return out


def _parse_bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value or "").strip().lower()
    if v in ("", "0", "false", "no", "n", "否"):
        return False
    if v in ("1", "true", "yes", "y", "是"):
        return True
    raise ActionError(_("must be yes/no (1/0, 是/否)"), field=field)


def _resident_snapshot(r: Resident) -> dict:
    return {f: getattr(r, f) for f in RESIDENT_FIELDS} | {"household": r.household_id}


@transaction.atomic
def do_get_or_create_household(unit: Area, number: str, *, actor=None) -> Household:
    if unit.kind != "unit":
        raise ActionError(_("households belong to a building unit"), field="unit")
    number = str(number).strip()
    if not number or len(number) > 20:
        raise ActionError(_("a door number of 1 to 20 characters is required"), field="household")
    serialize("places.household", unit.pk, number)  # concurrent callers get the same household
    hh = Household.objects.filter(unit=unit, number=number).first()
    if hh:
        return hh
    hh = Household(number=number)
    hh.set_scope_from(unit)
    hh.save()
    audit.record("household.create", actor=actor, obj=hh, after={"unit": unit.path, "number": number}, scope=hh)
    return hh


def _add_population(area_ids: list[int], delta: int) -> None:
    from django.db.models import F

    Area.objects.filter(pk__in=[i for i in area_ids if i]).update(population=F("population") + delta)


@transaction.atomic
def do_create_resident(household: Household, data: dict, *, actor=None, reason: str = "") -> Resident:
    audit.check_text(reason)
    fields = check_resident(data)
    serialize("places.resident", fields["id_number"])
    if Resident.objects.filter(id_number=fields["id_number"]).exists():
        raise Conflict(_("a resident with this ID number already exists"), field="id_number")
    r = Resident(household=household, **fields)
    r.set_scope_from(household)
    r.save()
    _add_population(list(household.scope_dict().values()), 1)
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, r, access.PLACES_WRITE)
    audit.record("resident.create", actor=actor, obj=r, after=_masked_snapshot(r), reason=reason)
    return r


#: Fields that identify a person: an audit row records that they were set or changed, never their value
#: (not even masked: a masked ID number with the birth date gives most of the number back).
IDENTIFYING = ("name", "id_number", "phone", "birth_date")
HIDDEN = "***"


def masked(key: str, value):
    """A resident field as audit rows keep it: identifying fields only as set ("***") or empty."""
    if key in IDENTIFYING:
        return HIDDEN if value else ""
    return value


def _masked_snapshot(r: Resident) -> dict:
    return {k: masked(k, v) for k, v in _resident_snapshot(r).items()}


@transaction.atomic
def do_update_resident(resident: Resident, changes: dict, *, actor=None, reason: str = "") -> Resident:
    fields = check_resident(changes, partial=True)
    lock(resident)
    if "id_number" in fields:
        serialize("places.resident", fields["id_number"])
    if "id_number" in fields and fields["id_number"] != resident.id_number:
        if Resident.objects.filter(id_number=fields["id_number"]).exclude(pk=resident.pk).exists():
            raise ActionError(_("a resident with this ID number already exists"), field="id_number")
    audit.check_text(reason)
    old = _resident_snapshot(resident)
    for k, v in fields.items():
        setattr(resident, k, v)
    resident.save()
    new = _resident_snapshot(resident)
    changed = [k for k, v in new.items() if old.get(k) != v]
    if changed:
        audit.record("resident.update", actor=actor, obj=resident, before={k: masked(k, old[k]) for k in changed},
                     after={k: masked(k, new[k]) for k in changed}, reason=reason)
    return resident


@transaction.atomic
def do_move_resident(resident: Resident, household: Household, *, actor=None, reason: str = "") -> Resident:
    lock(resident)  # two moves at once: the second starts from where the first left (populations stay true)
    old = resident.household
    if old.pk == household.pk:
        return resident
    _add_population(list(old.scope_dict().values()), -1)
    _add_population(list(household.scope_dict().values()), 1)
    resident.household = household
    resident.set_scope_from(household)
    resident.save()
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, resident, access.PLACES_WRITE)
    audit.record("resident.move", actor=actor, obj=resident, before={"household": old.pk},
                 after={"household": household.pk}, reason=reason)
    return resident


UNMASKABLE = ("id_number", "phone")


@transaction.atomic
def do_unmask_resident(resident: Resident, field: str, *, actor, reason: str = "") -> str:
    """Reveal a resident's full ID number or phone. Needs the unmask permission; always audited."""
    audit.check_text(reason)
    if field not in UNMASKABLE:
        raise ActionError(_("only %(values)s can be unmasked") % {"values": ', '.join(UNMASKABLE)}, field="field")
    if not access.scope_for(actor, access.UNMASK).contains(resident):
        raise access.Forbidden
    audit.record("resident.unmask", actor=actor, obj=resident, after={"field": field}, reason=reason)
    return getattr(resident, field)


@transaction.atomic
def do_read_resident_name(resident: Resident, *, actor) -> str:
    """The resident's full name for their own page or API record, for a user who may read it; each read is
    written to the audit log (the resident by id only). Others get the masked name (``ids.mask_name``)."""
    if not may_read_name(actor, resident):
        return ids.mask_name(resident.name)
    audit.record("resident.read", actor=actor, obj=resident, after={"field": "name"})
    return resident.name


@transaction.atomic
def do_search_residents(q: str, *, actor) -> ResidentSearch:
    """Search the residents ``actor`` may read personal data of (``places.queries.search_residents``); each
    search is written to the audit log: who, what kind of term (masked as lists mask it) and how many hits."""
    found = search_residents(actor, q)
    audit.record("resident.search", actor=actor, object_type="resident",
                 after={"kind": found.kind, "term": found.masked_term(), "hits": len(found.residents),
                        "more": found.more})
    return found


@transaction.atomic
def do_ensure_area(path: str, *, actor=None, reason: str = "") -> Area:
    """The area at ``path`` (``区/街道/社区/小区/楼/单元``), creating any missing nodes on the way (audited)."""
    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if not parts or any(not p for p in parts) or len(parts) > len(LEVELS):
        raise ActionError(_("an area path has 1 to %(count)s non-empty parts separated by /")
                          % {"count": len(LEVELS)}, field="path")
    serialize("places.area")  # nodes shared by concurrent paths are created once
    parent = None
    for depth, name in enumerate(parts):
        sub = "/".join(parts[: depth + 1])
        area = Area.objects.filter(path=sub).first()
        if area is None:
            area = Area(kind=LEVELS[depth], name=name, parent=parent, path=sub, depth=depth)
            if parent is not None:
                area.set_scope_from(parent)
            area.save()
            setattr(area, f"{LEVELS[depth]}_id", area.pk)
            area.save(update_fields=[f"{LEVELS[depth]}"])
            audit.record("area.create", actor=actor, obj=area, after={"path": sub, "kind": area.kind},
                         reason=reason, scope=area)
        parent = area
    return parent


def do_ensure_areas(paths, *, actor=None, reason: str = "", write_scope=None) -> dict[str, Area]:
    """The bulk form of ``do_ensure_area`` for a city's tree (``places.areaimport``): every path (a tuple of 1
    to 6 names, district first, already checked) and its ancestors exist afterwards. Missing nodes are created
    level by level with ``bulk_create`` (a few queries per level, not per row), each with its ``area.create``
    audit row as ``do_ensure_area`` writes it. Returns the areas created, by path.

    ``write_scope`` (an ``access.Scope``): a new node must lie inside it (its parent in the scope, or the whole
    city for a new district); otherwise ActionError(field=<the node's level>, "outside your jurisdiction")
    and nothing of the call is written. Two imports at once: the one that loses the race on a path's unique
    constraint retries once and finds the winner's nodes."""
    from django.db import IntegrityError
    from django.db.models import F

    wanted: dict[tuple[str, ...], None] = {}  # in the order given (ids follow the file)
    for parts in paths:
        parts = tuple(parts)
        if not parts or len(parts) > len(LEVELS) or any(not p or "/" in p for p in parts):
            raise ActionError(_("an area path has 1 to %(count)s non-empty parts without /") % {"count": len(LEVELS)},
                              field="path")
        for depth in range(len(parts)):
            wanted[parts[: depth + 1]] = None
    if not wanted:
        return {}
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                created = _ensure_areas(wanted, actor, reason, write_scope, LEVELS, F)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if created:
        stamps.bump("areas")
    return created


def _ensure_areas(wanted, actor, reason, write_scope, levels, F) -> dict[str, Area]:
    by_path: dict[str, Area] = {}
    all_paths = ["/".join(p) for p in wanted]
    for i in range(0, len(all_paths), 5000):
        by_path.update((a.path, a) for a in Area.objects.filter(path__in=all_paths[i: i + 5000]))
    created: dict[str, Area] = {}
    entries = []
    for depth, level in enumerate(levels):
        new = []
        for parts in (p for p in wanted if len(p) == depth + 1):
            path = "/".join(parts)
            if path in by_path:
                continue
            parent = by_path["/".join(parts[:-1])] if depth else None
            if write_scope is not None and not (write_scope.everything if parent is None
                                                else write_scope.contains(parent)):
                raise ActionError(_("%(path)s: outside your jurisdiction") % {"path": path}, field=level)
            area = Area(kind=level, name=parts[-1], parent=parent, path=path, depth=depth)
            if parent is not None:
                area.set_scope_from(parent)
            new.append(area)
        if not new:
            continue
        Area.objects.bulk_create(new, batch_size=1000)
        if any(a.pk is None for a in new):  # a backend that does not return ids from a bulk insert
            ids = dict(Area.objects.filter(path__in=[a.path for a in new]).values_list("path", "id"))
            for a in new:
                a.pk = ids[a.path]
        ids = [a.pk for a in new]
        for i in range(0, len(ids), 5000):
            Area.objects.filter(pk__in=ids[i: i + 5000]).update(**{f"{level}_id": F("id")})
        for a in new:
            setattr(a, f"{level}_id", a.pk)
            by_path[a.path] = a
            created[a.path] = a
            entries.append(audit.entry("area.create", actor=actor, obj=a, after={"path": a.path, "kind": a.kind},
                                       reason=reason, scope=a))
    if entries:
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return created

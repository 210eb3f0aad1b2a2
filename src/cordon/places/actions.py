"""Actions on residents and households. Views, API, CLI and imports all call these."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from cordon.core import access, audit, ids
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.places.models import Area, Household, Resident, Treatment

#: Fields a resident record exposes to edits, with their checks in ``check_resident``.
RESIDENT_FIELDS = ("name", "id_number", "phone", "birth_date", "sex", "lives_alone", "pregnant_due",
                   "treatment", "disability", "chronic_illness")


def check_resident(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise resident fields. Raises ActionError(field, reason) on the first problem."""
    out = {}
    for key, value in data.items():
        if key not in RESIDENT_FIELDS:
            raise ActionError(f"unknown field {key!r}", field=key)
        out[key] = value
    if not partial:
        for key in ("name", "id_number", "birth_date", "sex"):
            if not out.get(key) and out.get(key) != 0:
                if key in ("birth_date", "sex") and out.get("id_number"):
                    continue
                raise ActionError("required", field=key)
    if "name" in out:
        name = str(out["name"]).strip()
        if not name or len(name) > 40:
            raise ActionError("must be 1 to 40 characters", field="name")
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
                    raise ActionError("must be a date YYYY-MM-DD", field=key) from None
            elif isinstance(v, dt.datetime):
                v = v.date()
            out[key] = v
        elif key in out:
            if key == "birth_date":
                raise ActionError("required", field=key)
            out[key] = None
    if "id_number" in out and out.get("birth_date") and ids.birth_date_of(out["id_number"]) != out["birth_date"]:
        raise ActionError("does not match the birth date in the ID number", field="birth_date")
    if "sex" in out:
        v = str(out["sex"]).strip().upper()
        v = {"男": "M", "女": "F", "MALE": "M", "FEMALE": "F"}.get(v, v)
        if v not in ("M", "F"):
            raise ActionError("must be M or F (男/女)", field="sex")
        out["sex"] = v
    if "treatment" in out:
        v = str(out["treatment"] or "").strip().lower()
        v = {"透析": "dialysis", "化疗": "chemotherapy", "其他": "other", "none": ""}.get(v, v)
        if v not in Treatment.values:
            raise ActionError("must be one of: dialysis, chemotherapy, other, or empty", field="treatment")
        out["treatment"] = v
    for key in ("lives_alone", "disability", "chronic_illness"):
        if key in out:
            out[key] = parse_bool(out[key], key)
    return out


def parse_bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value or "").strip().lower()
    if v in ("", "0", "false", "no", "n", "否"):
        return False
    if v in ("1", "true", "yes", "y", "是"):
        return True
    raise ActionError("must be yes/no (1/0, 是/否)", field=field)


def resident_snapshot(r: Resident) -> dict:
    return {f: getattr(r, f) for f in RESIDENT_FIELDS} | {"household": r.household_id}


@transaction.atomic
def do_get_or_create_household(unit: Area, number: str, *, actor=None) -> Household:
    if unit.kind != "unit":
        raise ActionError("households belong to a building unit", field="unit")
    number = str(number).strip()
    if not number or len(number) > 20:
        raise ActionError("a door number of 1 to 20 characters is required", field="household")
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
    fields = check_resident(data)
    serialize("places.resident", fields["id_number"])
    if Resident.objects.filter(id_number=fields["id_number"]).exists():
        raise Conflict("a resident with this ID number already exists", field="id_number")
    r = Resident(household=household, **fields)
    r.set_scope_from(household)
    r.save()
    _add_population(list(household.scope_dict().values()), 1)
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, r, access.WRITE)
    audit.record("resident.create", actor=actor, obj=r, after=masked_snapshot(r), reason=reason)
    return r


def masked(key: str, value):
    """A resident field as audit rows and lists show it: ID number and phone masked."""
    if key == "id_number":
        return ids.mask_id_number(value)
    if key == "phone":
        return ids.mask_phone(value)
    return value


def masked_snapshot(r: Resident) -> dict:
    return {k: masked(k, v) for k, v in resident_snapshot(r).items()}


@transaction.atomic
def do_update_resident(resident: Resident, changes: dict, *, actor=None, reason: str = "") -> Resident:
    fields = check_resident(changes, partial=True)
    lock(resident)
    if "id_number" in fields:
        serialize("places.resident", fields["id_number"])
    if "id_number" in fields and fields["id_number"] != resident.id_number:
        if Resident.objects.filter(id_number=fields["id_number"]).exclude(pk=resident.pk).exists():
            raise ActionError("a resident with this ID number already exists", field="id_number")
    before = masked_snapshot(resident)
    for k, v in fields.items():
        setattr(resident, k, v)
    resident.save()
    after = masked_snapshot(resident)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        audit.record("resident.update", actor=actor, obj=resident,
                     before={k: before[k] for k in changed}, after=changed, reason=reason)
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
        access.require_in_scope(actor, resident, access.WRITE)
    audit.record("resident.move", actor=actor, obj=resident, before={"household": old.pk},
                 after={"household": household.pk}, reason=reason)
    return resident


UNMASKABLE = ("id_number", "phone")


@transaction.atomic
def do_unmask_resident(resident: Resident, field: str, *, actor, reason: str = "") -> str:
    """Reveal a resident's full ID number or phone. Needs the unmask permission; always audited."""
    if field not in UNMASKABLE:
        raise ActionError(f"only {', '.join(UNMASKABLE)} can be unmasked", field="field")
    if not access.scope_for(actor, access.UNMASK).contains(resident):
        raise access.Forbidden
    audit.record("resident.unmask", actor=actor, obj=resident, after={"field": field}, reason=reason)
    return getattr(resident, field)


@transaction.atomic
def do_ensure_area(path: str, *, actor=None, reason: str = "") -> Area:
    """The area at ``path`` (``区/街道/社区/小区/楼/单元``), creating any missing nodes on the way (audited)."""
    from cordon.core.models import LEVELS

    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if not parts or any(not p for p in parts) or len(parts) > len(LEVELS):
        raise ActionError(f"an area path has 1 to {len(LEVELS)} non-empty parts separated by /", field="path")
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

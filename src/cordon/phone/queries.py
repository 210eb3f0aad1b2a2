"""Reads of the phone app: the user's scope hash (a change makes old slices stale), a device's standing, and the
slice itself (what a field worker keeps on the phone), built with a fixed, small number of queries whatever the
size of the jurisdiction (a 7 000-resident community is a dozen queries and one pass over the rows)."""
from __future__ import annotations

import datetime as dt
import hashlib
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Q
from django.utils.translation import gettext as _

from cordon.core import access, clock, ids, rows
from cordon.places.queries import natural_key

from .models import Change, Device, Kind, Status

#: the slice format (``version`` in the slice; a phone with another version fetches a new slice)
VERSION = 1
#: how long a registered device may hold its slice before it registers again
DEVICE_HOURS = 12
#: the audiences of the pack's playbooks that field workers read (staff, volunteers, sampling teams)
FIELD_AUDIENCES = frozenset({"staff", "volunteer", "sampling"})
#: the app's screens that need a capability (read from ``core.access`` as the pages' navigation is): a screen
#: shows on the phone only when a role of the user's phone grants carries it. The pass check (verified on the
#: phone; logged only for ``passes.check``), the playbooks and the queue are for every phone user.
SCREEN_CAPS = {"tubes": access.SCREENING_WRITE, "deliveries": access.SUPPLIES_DELIVER,
               "checkins": access.CASES_WRITE, "visits": access.CARE_DISPATCH, "buildings": access.VIEW,
               "care": access.CARE_CREATE}


def scope_hash(user) -> str:
    """sha256 of the user's sorted grants (role, area id) and account state: any change of grants, of their
    areas or of the account makes every slice made before it stale."""
    grants = sorted((g.role, g.area_id or 0) for g in access.grants_of(user))
    state = f"active={int(bool(user.is_active))};user={user.pk}"
    text = ";".join(f"{r}@{a}" for r, a in grants) + "|" + state
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def device_of(user, device_id) -> Device | None:
    """The user's own device when it may still hold a slice: not revoked, not expired, the account active and
    holding ``phone.use``. None otherwise (revoked, expired, locked, another user's, absent): the phone wipes."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not access.has_perm(user, access.PHONE_USE):
        return None
    try:
        # by primary key, a statement compiled once (core.rows), the owner compared here: every sync reads it
        d = rows.by_pk(Device, device_id, router.db_for_read(Device))
    except (ValueError, TypeError, ValidationError, OverflowError):  # a malformed id: as unknown as an absent one
        return None
    if d is None or d.user_id != user.pk or d.revoked_at is not None or d.expires_at <= clock.now():
        return None
    return d


def live_devices(user):
    return Device.objects.filter(user=user, revoked_at__isnull=True)


def change_results(ids_) -> dict[str, Change]:
    """The changes already received among ``ids_`` (phone-made ids), by id text (a statement compiled once per
    number of ids, ``core.rows.by_pks``)."""
    return {str(c.pk): c for c in rows.by_pks(Change, ids_, router.db_for_read(Change))}


# ------------------------------------------------------------------------------------------ the slice


def _phone_scope(user) -> access.Scope:
    return access.scope_for(user, access.PHONE_USE)


def _scoped(qs, user, cap: str, phone: access.Scope):
    """``qs`` within the user's scope for ``cap`` and within the phone scope (a user may hold other roles
    elsewhere: the phone carries only what the field role's grants cover)."""
    qs = qs.for_user(user, cap)
    return qs if phone.everything else qs.filter(phone.q())


def phone_grants(user) -> list:
    """The user's grants whose role carries ``phone.use`` (a user may hold other roles elsewhere: the phone is for
    these only)."""
    return [g for g in access.grants_of(user) if access.role_has(g.role, access.PHONE_USE)]


def screens(user) -> list[str]:
    """The capability-bound screens (``SCREEN_CAPS``) the roles of the user's phone grants allow, in its order."""
    roles = {g.role for g in phone_grants(user)}
    return [name for name, cap in SCREEN_CAPS.items() if any(access.role_has(r, cap) for r in roles)]


def roots(user, phone: access.Scope) -> list:
    from cordon.places.models import Area

    if phone.everything:
        return list(Area.objects.filter(kind="district").order_by("id"))
    granted = {g.area_id: g.area for g in phone_grants(user) if g.area_id is not None}
    out = [a for a in granted.values()
           if not any(i in granted for _lv, i in access.ancestors_above(a))]
    return sorted(out, key=lambda a: (a.depth, a.path))


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=clock.tz())
    return start, start + dt.timedelta(days=1)


def _residents(user, phone, today) -> tuple[dict, dict]:
    """Masked residents by household id, and active orders by resident id."""
    from cordon.cases.models import OrderStatus, PersonOrder
    from cordon.places.models import SPECIAL_GROUP_LABELS, Resident, special_groups

    orders: dict[int, dict] = {}
    if access.has_perm(user, access.READ_HEALTH):
        for o in _scoped(PersonOrder.objects.all(), user, access.READ_HEALTH, phone).filter(
                status=OrderStatus.ACTIVE, resident__isnull=False).filter(
                Q(free_on__isnull=True) | Q(free_on__gt=today)).values(
                "id", "resident_id", "category", "free_on", "home_until", "centralized_until"):
            until = o["free_on"] or o["home_until"] or o["centralized_until"]
            orders[o["resident_id"]] = {"id": o["id"], "category": o["category"],
                                        "until": until.isoformat() if until else None}
    people: dict[int, list] = {}
    if not access.has_perm(user, access.READ_PERSONAL):
        return people, orders
    labels = {k: str(v) for k, v in SPECIAL_GROUP_LABELS.items()}
    fields = ("id", "household_id", "name", "birth_date", "sex", "lives_alone", "pregnant_due", "treatment",
              "disability", "chronic_illness")
    for r in _scoped(Resident.objects.all(), user, access.READ_PERSONAL, phone).order_by("id").values_list(*fields):
        row = dict(zip(fields, r))
        b = row["birth_date"]
        people.setdefault(row["household_id"], []).append({
            "id": row["id"], "name_masked": ids.mask_name(row["name"]),
            "age": today.year - b.year - ((today.month, today.day) < (b.month, b.day)), "sex": row["sex"],
            "special": [labels[g] for g in special_groups(SimpleNamespace(**row), today)],
            "order": orders.get(row["id"])})
    return people, orders


def _buildings(user, phone, people: dict) -> list[dict]:
    from cordon.places.models import Area, Household

    areas = list(_scoped(Area.objects.all(), user, access.VIEW, phone).filter(kind__in=("building", "unit"))
                 .order_by("path").values_list("id", "kind", "name", "path", "parent_id"))
    homes: dict[int, list] = {}
    for hid, number, unit_id in _scoped(Household.objects.all(), user, access.VIEW, phone).order_by(
            "unit_id", "number").values_list("id", "number", "unit_id"):
        homes.setdefault(unit_id, []).append({"id": hid, "label": number, "residents": people.get(hid, [])})
    buildings = {i: {"id": i, "path": path, "name": name, "units": []}
                 for i, kind, name, path, _p in areas if kind == "building"}
    for i, kind, name, _path, parent in areas:
        if kind == "unit" and parent in buildings:
            buildings[parent]["units"].append({"id": i, "name": name, "households": homes.get(i, [])})
    for b in buildings.values():
        b["units"].sort(key=lambda u: natural_key(u["name"]))
    return sorted(buildings.values(), key=lambda b: natural_key(b["path"]))


def _rounds(user, phone, today) -> list:
    from cordon.screening.models import Round, RoundStatus

    if not access.has_perm(user, access.SCREENING_WRITE):
        return []
    return list(Round.objects.for_user(user, access.SCREENING_WRITE).filter(status=RoundStatus.OPEN)
                .order_by("-on", "id").values("id", "name", "on", "pool_size")[:50])


def _tubes(phone, rounds, today) -> list[dict]:
    """Today's tubes registered from phones within the phone scope (the server refuses a second registration
    of a barcode or a person whatever the phone knows: this list only warns the worker before sending)."""
    if not rounds:
        return []
    start, end = _day_bounds(today)
    qs = Change.objects.filter(kind=Kind.TUBE, status__in=(Status.APPLIED, Status.FLAGGED), received__gte=start,
                               received__lt=end)
    if not phone.everything:
        qs = qs.filter(phone.q())
    open_ids = {r["id"] for r in rounds}
    out = []
    for data in qs.values_list("data", flat=True)[:20000]:
        if isinstance(data, dict) and data.get("round") in open_ids:
            out.append({"barcode": data.get("barcode"), "round": data.get("round"),
                        "residents": data.get("residents") or []})
    return out


def _deliveries(user, phone) -> list[dict]:
    """The planned deliveries the user may confirm (``supplies.deliver``) within the phone scope: the household's
    number, its unit, the item and quantity; no name or phone of anyone."""
    from cordon.places.models import Area
    from cordon.supplies.models import DeliveryOrder, DeliveryStatus

    if not access.has_perm(user, access.SUPPLIES_DELIVER):
        return []
    rows = list(_scoped(DeliveryOrder.objects.all(), user, access.SUPPLIES_DELIVER, phone)
                .filter(status=DeliveryStatus.PLANNED).order_by("due_on", "id")
                .values_list("id", "household_id", "household__number", "unit_id", "item__name", "item__unit",
                             "quantity", "status", "due_on")[:20000])
    paths = dict(Area.objects.filter(pk__in={r[3] for r in rows}).values_list("id", "path")) if rows else {}
    return [{"id": i, "household": h, "household_label": label, "unit_path": paths.get(u, ""),
             "items": [{"name": name, "quantity": float(q), "unit": unit}], "status": st, "due_on": due.isoformat()}
            for i, h, label, u, name, unit, q, st, due in rows]


def _checkins(user, phone, today) -> list[dict]:
    from cordon.cases.models import CheckIn, OrderStatus, PersonOrder
    from cordon.cases.queries import today_q

    if not access.has_perm(user, access.CASES_WRITE):
        return []
    qs = (_scoped(PersonOrder.objects.all(), user, access.CASES_WRITE, phone)
          .filter(today_q("home", today), status=OrderStatus.ACTIVE, resident__isnull=False))
    rows = list(qs.values_list("id", "resident_id")[:20000])
    done = set(CheckIn.objects.filter(order_id__in=[i for i, _r in rows], on=today).values_list("order_id", flat=True))
    return [{"order": i, "resident": r, "due": i not in done} for i, r in rows]


def _visits(user, phone) -> list[dict]:
    from cordon.care.models import ProactiveTask

    if not access.has_perm(user, access.CARE_DISPATCH):
        return []
    return [{"task": i, "resident": r, "kind": k, "due_on": d.isoformat()}
            for i, r, k, d in _scoped(ProactiveTask.objects.all(), user, access.CARE_DISPATCH, phone)
            .filter(done_at__isnull=True).order_by("due_on", "id").values_list("id", "resident_id", "kind",
                                                                               "due_on")[:20000]]


def _playbooks(today, lang: str) -> list[dict]:
    from cordon.playbooks import queries as playbooks

    out = []
    for p in playbooks.library(today):
        if FIELD_AUDIENCES & set(p.audience):
            out.append({"slug": p.key, "title": p.title.get(lang),
                        "steps": [s.text.get(lang) for s in p.steps]})
    return out


def _passes(user) -> tuple[str, list[int]]:
    if not access.has_perm(user, access.PASSES_READ):
        return "", []
    from cordon.passes import queries as passes, signing

    return signing.b64(signing.public_key()), passes.revocations(0)["revoked"]


def build_slice(user, *, lang: str = "zh") -> dict:
    """The user's slice (see docs/phone-protocol.md): masked as the pages mask for the user's roles, only within the
    grants that carry ``phone.use``; each section only when the user's roles read that kind of record."""
    today = clock.today()
    phone = _phone_scope(user)
    people, _orders = _residents(user, phone, today)
    rounds = _rounds(user, phone, today)
    pass_key, revoked = _passes(user)
    return {
        "version": VERSION, "generated_at": clock.now().isoformat(), "scope_hash": scope_hash(user),
        "user": {"username": user.get_username(), "roles": sorted(access.roles_of(user)), "screens": screens(user)},
        "today": today.isoformat(),
        "areas": [{"id": a.pk, "path": a.path, "name": a.name} for a in roots(user, phone)],
        "buildings": _buildings(user, phone, people),
        "rounds": [{"id": r["id"], "name": r["name"], "on": r["on"].isoformat(), "pool_size": r["pool_size"]}
                   for r in rounds],
        "tubes": _tubes(phone, rounds, today),
        "deliveries": _deliveries(user, phone),
        "checkins": _checkins(user, phone, today),
        "visits": _visits(user, phone),
        "playbooks": _playbooks(today, lang),
        "pass_key": pass_key, "revoked_passes": revoked,
    }


def slice_counts(data: dict) -> dict:
    """What a slice carries, counted (its audit row)."""
    residents = sum(len(h["residents"]) for b in data["buildings"] for u in b["units"] for h in u["households"])
    return {"buildings": len(data["buildings"]), "residents": residents, "deliveries": len(data["deliveries"]),
            "checkins": len(data["checkins"]), "visits": len(data["visits"]), "tubes": len(data["tubes"])}


def refusal_text() -> str:
    return _("this device may no longer hold the slice: wipe it and sign in again")

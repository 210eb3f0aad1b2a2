"""API for the city model: areas, households, residents (masked), unmasking, audit log."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.core import access, audit, clock, ids
from cordon.core.api import PageQuery, current_user, page_of, paginate, writable
from cordon.core.actions import ActionError
from cordon.core.fields import BirthDate, Day, Id, QueryId, QueryText, Reason, one_of, text_of
from cordon.core.models import AuditEntry
from cordon.core.schemas import Page
from cordon.places import actions
from cordon.places.models import Area, Household, Kind, Resident, Sex, Treatment, special_groups

router = Router(tags=["city"])


class AreaOut(Schema):
    id: int
    kind: str
    name: str
    path: str
    parent_id: int | None
    population: int


class AreaList(Page):
    items: list[AreaOut]


class AreaFilter(PageQuery):
    parent: QueryId | None = None
    kind: one_of(Kind.values) | None = None
    q: QueryText | None = None


@router.get("/areas", response=AreaList)
def list_areas(request, f: Query[AreaFilter]):
    user = current_user(request)
    qs = Area.objects.for_user(user).order_by("path")
    if f.parent is not None:
        qs = qs.filter(parent_id=f.parent)
    elif not f.q and not f.kind:
        scope = access.scope_for(user)
        qs = qs.filter(depth=0) if scope.everything else qs.filter(
            pk__in=[g.area_id for g in access.grants_of(user) if g.area_id])
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.q:
        qs = qs.filter(path__contains=f.q.strip())
    return page_of(qs, f)


@router.get("/areas/{area_id}", response=AreaOut)
def get_area(request, area_id: QueryId):
    return access.access(Area, current_user(request), area_id)


class ResidentOut(Schema):
    id: int
    name: str
    id_number: str
    phone: str
    birth_year: int
    age: int
    sex: str
    household_id: int
    household: str
    unit_id: int | None
    special_groups: list[str]


def resident_out(r: Resident, today: dt.date) -> dict:
    return {
        "id": r.pk, "name": ids.mask_name(r.name), "id_number": ids.mask_id_number(r.id_number),
        "phone": ids.mask_phone(r.phone), "birth_year": r.birth_date.year, "age": r.age_on(today),
        "sex": r.sex, "household_id": r.household_id, "household": r.household.number, "unit_id": r.unit_id,
        "special_groups": special_groups(r, today),
    }


class HouseholdOut(Schema):
    id: int
    number: str
    unit_id: int
    residents: list[ResidentOut]


class HouseholdList(Page):
    items: list[HouseholdOut]


@router.get("/areas/{area_id}/households", response=HouseholdList)
def list_households(request, area_id: QueryId, f: Query[PageQuery]):
    user = current_user(request)
    area = access.access(Area, user, area_id)
    if area.kind != "unit":
        raise ActionError(_("households are listed per building unit"), field="area_id")
    qs = Household.objects.for_user(user, access.READ_PERSONAL).filter(unit_id=area.pk).order_by("number")
    items, meta = paginate(qs, f.page, f.page_size)
    today = clock.today()
    by_hh: dict[int, list] = {h.pk: [] for h in items}
    for r in Resident.objects.filter(household_id__in=list(by_hh)).select_related("household").order_by("id"):
        by_hh[r.household_id].append(resident_out(r, today))
    return {"items": [{"id": h.pk, "number": h.number, "unit_id": h.unit_id, "residents": by_hh[h.pk]}
                      for h in items], **meta}


class ResidentList(Page):
    items: list[ResidentOut]


class ResidentFilter(PageQuery):
    area: QueryId | None = None
    q: QueryText | None = None
    special: bool = False


@router.get("/residents", response=ResidentList)
def list_residents(request, f: Query[ResidentFilter]):
    user = current_user(request)
    qs = Resident.objects.for_user(user, access.READ_PERSONAL).select_related("household").order_by("id")
    if f.area is not None:
        area = access.access(Area, user, f.area)
        qs = qs.filter(**access.within(area))
    if f.q:
        q = f.q.strip()
        qs = qs.filter(Q(name=q) | Q(id_number=q.upper()) | Q(phone=q))
    if f.special:
        cutoff = clock.today().replace(year=clock.today().year - 80)
        qs = qs.filter(Q(birth_date__lte=cutoff) | Q(lives_alone=True) | Q(pregnant_due__isnull=False)
                       | ~Q(treatment="") | Q(disability=True) | Q(chronic_illness=True))
    items, meta = paginate(qs, f.page, f.page_size)
    today = clock.today()
    return {"items": [resident_out(r, today) for r in items], **meta}


class ResidentSearchOut(Schema):
    kind: str
    items: list[ResidentOut]
    more: bool


@router.get("/residents/search", response=ResidentSearchOut)
def search_residents(request, q: QueryText = ""):
    """Residents whose name holds ``q``, whose ID number is ``q`` or ends with it (4 to 17 digits), or whose
    phone holds it, within your jurisdiction; masked; at most 50 (``more`` when there are more); no ``q``, no search. The search page's
    query (``places.queries.search_residents``); each search is written to the audit log (masked term, hits)."""
    user = current_user(request)
    if not q.strip():
        return {"kind": "", "items": [], "more": False}  # nothing asked: nothing searched, nothing audited
    found = actions.do_search_residents(q, actor=user)
    today = clock.today()
    return {"kind": found.kind, "items": [resident_out(r, today) for r in found.residents], "more": found.more}


@router.get("/residents/{resident_id}", response=ResidentOut)
def get_resident(request, resident_id: QueryId):
    """One resident, masked; the full name (as on the resident's page) for users who may unmask this
    resident, each such read written to the audit log. The birth year only (a full birth date with the
    masked ID number gives the number back): the full values come through ``/unmask``, audited."""
    user = current_user(request)
    r = access.access(Resident.objects.select_related("household"), user, resident_id, read=access.READ_PERSONAL)
    return {**resident_out(r, clock.today()), "name": actions.do_read_resident_name(r, actor=user)}


class ResidentCreate(Schema):
    household_id: Id | None = None
    unit_id: Id | None = None
    household: text_of(Household, "number") | None = None
    name: text_of(Resident, "name", min_length=1)
    id_number: text_of(Resident, "id_number", min_length=1)
    phone: text_of(Resident, "phone") = ""
    birth_date: BirthDate | None = None
    sex: one_of(Sex.values) | None = None
    lives_alone: bool = False
    pregnant_due: Day | None = None
    treatment: one_of(Treatment.values, "") = ""
    disability: bool = False
    chronic_illness: bool = False
    reason: Reason = ""


@router.post("/residents", response={201: ResidentOut})
def create_resident(request, payload: ResidentCreate):
    user = current_user(request)
    data = payload.dict()
    reason = data.pop("reason")
    hh_id, unit_id, number = data.pop("household_id"), data.pop("unit_id"), data.pop("household")
    if hh_id is not None:
        household = access.access(Household, user, hh_id, perm=access.PLACES_WRITE)
    elif unit_id is not None and number:
        unit = access.access(Area, user, unit_id, perm=access.PLACES_WRITE)
        household = actions.do_get_or_create_household(unit, number, actor=user)
    else:
        raise ActionError(_("give household_id, or unit_id and household (door number)"), field="household_id")
    data = {k: v for k, v in data.items() if v is not None}
    r = actions.do_create_resident(household, data, actor=user, reason=reason)
    return Status(201, resident_out(Resident.objects.select_related("household").get(pk=r.pk), clock.today()))


class ResidentUpdate(Schema):
    """Only the fields sent change; ``null`` is refused for text, yes/no and household fields (leave them out
    instead) and clears ``pregnant_due``."""

    name: text_of(Resident, "name", min_length=1) = None
    id_number: text_of(Resident, "id_number", min_length=1) = None
    phone: text_of(Resident, "phone") = None
    lives_alone: bool = None
    pregnant_due: Day | None = None
    treatment: one_of(Treatment.values, "") = None
    disability: bool = None
    chronic_illness: bool = None
    household_id: Id = None
    reason: Reason = ""


@router.patch("/residents/{resident_id}", response=ResidentOut)
def update_resident(request, resident_id: QueryId, payload: ResidentUpdate):
    user, r = writable(request, Resident.objects.select_related("household"), resident_id, access.PLACES_WRITE)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    hh_id = data.pop("household_id", None)
    if data:
        actions.do_update_resident(r, data, actor=user, reason=reason)
    if hh_id is not None:
        household = access.access(Household, user, hh_id, perm=access.PLACES_WRITE)
        actions.do_move_resident(r, household, actor=user, reason=reason)
    r = Resident.objects.select_related("household").get(pk=r.pk)
    return resident_out(r, clock.today())


class UnmaskIn(Schema):
    field: one_of(actions.UNMASKABLE)
    reason: Reason = ""


class UnmaskOut(Schema):
    field: str
    value: str


@router.post("/residents/{resident_id}/unmask", response=UnmaskOut)
def unmask_resident(request, resident_id: QueryId, payload: UnmaskIn):
    user, r = writable(request, Resident, resident_id, access.UNMASK, read=access.READ_PERSONAL)
    value = actions.do_unmask_resident(r, payload.field, actor=user, reason=payload.reason)
    return {"field": payload.field, "value": value}


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict | list | None
    after: dict | list | None
    reason: str
    rule: str


class AuditList(Page):
    items: list[AuditOut]


class AuditFilter(PageQuery):
    actor: text_of(AuditEntry, "actor_name") | None = None
    action: text_of(AuditEntry, "action") | None = None
    object_type: text_of(AuditEntry, "object_type") | None = None
    object_id: text_of(AuditEntry, "object_id") | None = None
    since: Day | None = None
    until: Day | None = None


@router.get("/audit", response=AuditList, tags=["audit"])
def list_audit(request, f: Query[AuditFilter]):
    user = current_user(request)
    qs = AuditEntry.objects.for_user(user, access.AUDIT)
    qs = audit.select(qs, actor=f.actor, action=f.action, object_type=f.object_type, object_id=f.object_id,
                      since=f.since, until=f.until)
    items, meta = paginate(qs, f.page, f.page_size)
    return {"items": [{**{k: getattr(e, k) for k in ("id", "at", "action", "object_type", "object_id",
                                                       "object_repr", "before", "after", "reason", "rule")},
                       "actor": e.actor_name} for e in items], **meta}


access.declare_operations(router, {
    "list_areas": access.VIEW, "get_area": access.VIEW,
    "list_households": access.READ_PERSONAL, "list_residents": access.READ_PERSONAL,
    "get_resident": access.READ_PERSONAL, "search_residents": access.READ_PERSONAL,
    "create_resident": access.PLACES_WRITE, "update_resident": access.PLACES_WRITE,
    "unmask_resident": access.UNMASK, "list_audit": access.AUDIT,
})

"""API for risk areas: designations (list, detail, designate, lift, keep, resume, round, re-seal, adjust),
proposals (list, confirm, dismiss) and guardrail flags. Same scoping as the pages: reads through
``for_user``, single objects through ``access.access`` (404 absent or out of scope, 403 without the write
permission on the designation's area); every write calls the action in ``zones.actions``."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from cordon.cases.models import Infection
from cordon.core import access, clock
from cordon.core.api import PageQuery, current_user, page_of, paginate, writable
from cordon.core.actions import ActionError
from cordon.core.fields import Day, Id, QueryId, QueryText, Reason, one_of, text, text_of
from cordon.core.schemas import Page
from cordon.places.models import Area
from cordon.zones import actions, kpi, queries
from cordon.zones.models import Designation, Flag, Level, Proposal, ProposalStatus
from cordon.zones.models import Status as DesignationStatus

router = Router(tags=["risk areas"])
WRITABLE = Designation.objects.select_related("area")  # the record a write acts on, with what its answer shows


# ------------------------------------------------------------------------------------------ schemas

class ChangeOut(Schema):
    level: str
    on: dt.date


class DesignationKpiOut(Schema):
    hours_to_designate: float | None
    lift_delay_days: int | None
    overdue_days: int | None


class DesignationOut(Schema):
    id: int
    area_id: int
    area: str
    area_kind: str
    level: str
    status: str
    pack: str
    designated_on: dt.date
    since: dt.date
    next: ChangeOut | None
    waiting: str
    kept: bool
    lifted_on: dt.date | None
    eligible_on: dt.date | None
    observation_until: dt.date | None
    reason: str
    public_reason: str
    exposure_note: str
    infections: list[str]
    kpi: DesignationKpiOut


class DesignationList(Page):
    items: list[DesignationOut]


class DesignationEventOut(Schema):
    on: dt.date
    kind: str
    level: str
    result: str
    reason: str
    actor: str
    infection: str | None


class DesignationMemberOut(Schema):
    area_id: int
    area: str
    kind: str
    added_on: dt.date
    removed_on: dt.date | None


class FlagOut(Schema):
    id: int
    rule: str
    on: dt.date
    designation_id: int | None
    subject: str
    message: str
    message_en: str
    reason: str
    actor: str


class DesignationDetail(DesignationOut):
    events: list[DesignationEventOut]
    members: list[DesignationMemberOut]
    residents_inside: int
    special_residents_inside: int
    flags: list[FlagOut]


def designation_out(d: Designation, labels: list[str] | None = None, today: dt.date | None = None) -> dict:
    today = today or clock.today()
    if labels is None:
        labels = [i.label for i in d.infections.all()]
    return {
        "id": d.pk, "area_id": d.area_id, "area": d.area.path, "area_kind": d.area.kind, "level": d.level,
        "status": d.status, "pack": d.pack, "designated_on": d.designated_on, "since": d.since,
        "next": {"level": d.next_level, "on": d.next_on} if d.next_on and d.next_level else None,
        "waiting": d.waiting, "kept": d.kept, "lifted_on": d.lifted_on, "eligible_on": d.eligible_on,
        "observation_until": d.observation_until, "reason": d.reason, "public_reason": d.public_reason,
        "exposure_note": d.exposure_note, "infections": sorted(labels), "kpi": kpi.of(d, today).as_dict(),
    }


def flag_out(f: Flag) -> dict:
    return {k: getattr(f, k) for k in ("id", "rule", "on", "designation_id", "subject", "message", "message_en",
                                       "reason", "actor")}


def designation_detail(d: Designation) -> dict:
    today = clock.today()
    d = Designation.objects.select_related("area").prefetch_related("infections").get(pk=d.pk)
    members = list(d.members.select_related("area").order_by("removed_on", "area__path"))
    current = [m for m in members if m.removed_on is None]
    n, s = queries.people_inside([d], {d.pk: current}, today)[d.pk]
    events = list(d.events.select_related("infection").order_by("on", "id"))
    return {
        **designation_out(d, today=today),
        "events": [{"on": e.on, "kind": e.kind, "level": e.level, "result": e.result, "reason": e.reason,
                    "actor": e.actor, "infection": e.infection.label if e.infection_id else None} for e in events],
        "members": [{"area_id": m.area_id, "area": m.area.path, "kind": m.area.kind, "added_on": m.added_on,
                     "removed_on": m.removed_on} for m in members],
        "residents_inside": n, "special_residents_inside": s,
        "flags": [flag_out(f) for f in d.flags.order_by("-on", "-id")],
    }


# ------------------------------------------------------------------------------------------ designations

class DesignationFilter(PageQuery):
    level: one_of(Level.values) | None = None
    status: one_of(DesignationStatus.values) | None = None
    area: QueryId | None = None
    q: QueryText | None = None


@router.get("/designations", response=DesignationList)
def list_designations(request, f: Query[DesignationFilter]):
    user = current_user(request)
    qs = Designation.objects.for_user(user).select_related("area").prefetch_related("infections")
    if f.level:
        qs = qs.filter(level=f.level)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.area is not None:
        area = access.access(Area, user, f.area)
        qs = qs.filter(**access.within(area))
    if f.q:
        qs = qs.filter(area__path__contains=f.q.strip())
    items, meta = paginate(qs.order_by("area__path", "id"), f.page, f.page_size)
    today = clock.today()
    return {"items": [designation_out(d, today=today) for d in items], **meta}


@router.get("/designations/{designation_id}", response=DesignationDetail)
def get_designation(request, designation_id: QueryId):
    return designation_detail(access.access(Designation, current_user(request), designation_id))


InfectionLabels = list[text(40)]


class DesignationCreate(Schema):
    area_id: Id
    level: one_of(Level.values) = "high"
    reason: Reason
    infections: InfectionLabels = []
    exposure_note: text_of(Designation, "exposure_note") = ""


def _infections(user, labels: list[str]) -> list[Infection]:
    labels = [str(x).strip() for x in labels if str(x).strip()]
    if not labels:
        return []
    found = {i.label: i for i in Infection.objects.for_user(user).filter(label__in=labels)}
    missing = [x for x in labels if x not in found]
    if missing:
        raise ActionError(_("no infection %(values)s in your jurisdiction")
                          % {"values": ', '.join(missing)}, field="infections")
    return [found[x] for x in labels]


@router.post("/designations", response={201: DesignationOut})
def create_designation(request, payload: DesignationCreate):
    user, area = writable(request, Area, payload.area_id, access.ZONES_WRITE)
    d = actions.do_designate(area, payload.level, reason=payload.reason,
                             infections=_infections(user, payload.infections),
                             exposure_note=payload.exposure_note, actor=user)
    d = Designation.objects.select_related("area").get(pk=d.pk)
    return Status(201, designation_out(d))


def _after(d: Designation) -> dict:
    return designation_out(Designation.objects.select_related("area").get(pk=d.pk))


class ZoneReasonIn(Schema):
    reason: Reason = ""


class LiftIn(Schema):
    reason: Reason
    level: one_of(Level.values) | None = None


class DesignationRoundIn(Schema):
    result: one_of(("negative", "positive", "pending")) = "negative"
    reason: Reason = ""


class ResealIn(Schema):
    level: one_of(Level.values) = "high"
    reason: Reason
    infections: InfectionLabels = []


class AdjustIn(Schema):
    add: list[Id] = []
    remove: list[Id] = []
    reason: Reason


@router.post("/designations/{designation_id}/lift", response=DesignationOut)
def lift_designation(request, designation_id: QueryId, payload: LiftIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    return _after(actions.do_lift(d, reason=payload.reason, level=payload.level or None, actor=user))


@router.post("/designations/{designation_id}/keep", response=DesignationOut)
def keep_designation(request, designation_id: QueryId, payload: ZoneReasonIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    return _after(actions.do_keep(d, reason=payload.reason, actor=user))


@router.post("/designations/{designation_id}/resume", response=DesignationOut)
def resume_designation(request, designation_id: QueryId, payload: ZoneReasonIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    return _after(actions.do_resume(d, reason=payload.reason, actor=user))


@router.post("/designations/{designation_id}/round", response=DesignationOut)
def round_designation(request, designation_id: QueryId, payload: DesignationRoundIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    result = "" if payload.result == "pending" else payload.result
    actions.do_record_round(d, result=result, reason=payload.reason, actor=user)
    return _after(d)


@router.post("/designations/{designation_id}/reseal", response=DesignationOut)
def reseal_designation(request, designation_id: QueryId, payload: ResealIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    return _after(actions.do_reseal(d, level=payload.level, reason=payload.reason,
                                    infections=_infections(user, payload.infections), actor=user))


@router.post("/designations/{designation_id}/adjust", response=DesignationOut)
def adjust_designation(request, designation_id: QueryId, payload: AdjustIn):
    user, d = writable(request, WRITABLE, designation_id, access.ZONES_WRITE)
    if not payload.add and not payload.remove:
        raise ActionError(_("give area ids to add or remove"), field="add")
    add = [access.access(Area, user, pk, perm=access.ZONES_WRITE) for pk in payload.add]
    remove = list(Area.objects.filter(pk__in=payload.remove))
    if len(remove) != len(set(payload.remove)):
        raise ActionError(_("an area to remove does not exist"), field="remove")
    return _after(actions.do_adjust_extent(d, add=add, remove=remove, reason=payload.reason, actor=user))


# ------------------------------------------------------------------------------------------ proposals

class ProposalOut(Schema):
    id: int
    area_id: int
    area: str
    level: str
    kind: str
    status: str
    because: list[str]
    proposed_on: dt.date
    decided_on: dt.date | None
    decided_by: str
    designation_id: int | None


class ProposalList(Page):
    items: list[ProposalOut]


class ProposalFilter(PageQuery):
    status: one_of(ProposalStatus.values) | None = "open"


def proposal_out(p: Proposal) -> dict:
    return {"id": p.pk, "area_id": p.area_id, "area": p.area.path, "level": p.level, "kind": p.kind,
            "status": p.status, "because": list(p.because), "proposed_on": p.proposed_on,
            "decided_on": p.decided_on, "decided_by": p.decided_by, "designation_id": p.designation_id}


@router.get("/proposals", response=ProposalList)
def list_proposals(request, f: Query[ProposalFilter]):
    qs = Proposal.objects.for_user(current_user(request)).select_related("area").order_by("-proposed_on", "-id")
    if f.status:
        qs = qs.filter(status=f.status)
    return page_of(qs, f, lambda items: [proposal_out(p) for p in items])


@router.post("/proposals/{proposal_id}/confirm", response=DesignationOut)
def confirm_proposal(request, proposal_id: QueryId, payload: ZoneReasonIn):
    user, p = writable(request, Proposal.objects.select_related("area", "designation"), proposal_id, access.ZONES_WRITE)
    return _after(actions.do_confirm_proposal(p, reason=payload.reason, actor=user))


@router.post("/proposals/{proposal_id}/dismiss", response=ProposalOut)
def dismiss_proposal(request, proposal_id: QueryId, payload: ZoneReasonIn):
    user, p = writable(request, Proposal.objects.select_related("area"), proposal_id, access.ZONES_WRITE)
    return proposal_out(actions.do_dismiss_proposal(p, reason=payload.reason, actor=user))


# ------------------------------------------------------------------------------------------ flags

class FlagList(Page):
    items: list[FlagOut]


class FlagFilter(PageQuery):
    rule: text_of(Flag, "rule") | None = None
    designation: QueryId | None = None
    since: Day | None = None


@router.get("/flags", response=FlagList)
def list_flags(request, f: Query[FlagFilter]):
    qs = Flag.objects.for_user(current_user(request)).order_by("-on", "-id")
    if f.rule:
        qs = qs.filter(rule=f.rule)
    if f.designation is not None:
        qs = qs.filter(designation_id=f.designation)
    if f.since:
        qs = qs.filter(on__gte=f.since)
    return page_of(qs, f, lambda items: [flag_out(x) for x in items])


access.declare_operations(router, {
    "list_designations": access.VIEW, "get_designation": access.VIEW, "list_proposals": access.VIEW,
    "list_flags": access.VIEW,
    "create_designation": access.ZONES_WRITE, "lift_designation": access.ZONES_WRITE,
    "keep_designation": access.ZONES_WRITE, "resume_designation": access.ZONES_WRITE,
    "round_designation": access.ZONES_WRITE, "reseal_designation": access.ZONES_WRITE,
    "adjust_designation": access.ZONES_WRITE, "confirm_proposal": access.ZONES_WRITE,
    "dismiss_proposal": access.ZONES_WRITE,
})

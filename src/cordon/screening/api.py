"""Screening API: rounds, coverage, missing list (masked), recall, and the bulk JSON feeds.

``POST /api/screening/samples`` and ``/api/screening/results`` take ``{"batch_key", "rows": [...]}`` (plus
``round_id`` for samples); a batch is one transaction, and the same key again changes nothing. Bad rows
come back as ``errors`` (line = position in ``rows``, 1-based) and are kept with the batch.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cordon.core import access, audit, ids
from cordon.core.api import PageQuery, current_user, page_of, writable
from cordon.core.actions import ActionError
from cordon.core.fields import Day, Id, QueryId, Reason, one_of, text_of
from cordon.core.schemas import Page
from cordon.places.models import Area

from . import actions, queries
from .ingest import import_rows
from .models import Coverage, ImportBatch, RecallMember, Retest, Round, RowError
from cordon.zones.models import Designation

router = Router(tags=["screening"])

MAX_ROWS = 50_000


class ScreeningRoundIn(Schema):
    name: text_of(Round, "name", min_length=1)
    on: Day
    pool_size: one_of((10, 5)) = 10
    coverage: one_of(Coverage.values) = "areas"
    area_ids: list[Id] = []
    designation_ids: list[Id] = []
    reason: Reason = ""


class RoundOut(Schema):
    id: int
    name: str
    on: dt.date
    coverage: str
    pool_size: int
    status: str
    designation_id: int | None
    due: int
    sampled: int
    missing: int
    tubes: int
    tubes_reported: int
    tubes_positive: int
    tubes_invalid: int
    people_recalled: int


class RoundList(Page):
    items: list[RoundOut]


@router.get("/screening/rounds", response=RoundList)
def list_rounds(request, f: Query[PageQuery]):
    return page_of(actions.Round.objects.for_user(current_user(request)), f)


@router.post("/screening/rounds", response={201: RoundOut})
def create_round(request, payload: ScreeningRoundIn):
    user = current_user(request)
    areas = [access.access(Area, user, i) for i in payload.area_ids]
    designations = []
    if payload.designation_ids:
        designations = [access.access(Designation, user, i) for i in payload.designation_ids]
    r = actions.do_create_round(name=payload.name, on=payload.on, pool_size=payload.pool_size,
                                coverage=payload.coverage, areas=areas, designations=designations, actor=user,
                                reason=payload.reason)
    return Status(201, r)


@router.get("/screening/rounds/{round_id}", response=RoundOut)
def get_round(request, round_id: QueryId):
    return queries.access_round(current_user(request), round_id)


@router.post("/screening/rounds/{round_id}/refresh", response=RoundOut)
def refresh_round(request, round_id: QueryId):
    user = current_user(request)
    r = queries.access_round(user, round_id, write=True)
    return actions.do_refresh_round(r, actor=user)


class RoundStatusIn(Schema):
    reason: Reason = ""


@router.post("/screening/rounds/{round_id}/close", response=RoundOut)
def close_round(request, round_id: QueryId, payload: RoundStatusIn):
    """Close the round: no more registrations; its outcome counts for the designated areas it covers whole."""
    user = current_user(request)
    r = queries.access_round(user, round_id, write=True)
    return actions.do_close_round(r, actor=user, reason=payload.reason)


@router.post("/screening/rounds/{round_id}/reopen", response=RoundOut)
def reopen_round(request, round_id: QueryId, payload: RoundStatusIn):
    """Reopen a closed round (the reason is required)."""
    user = current_user(request)
    r = queries.access_round(user, round_id, write=True)
    return actions.do_reopen_round(r, actor=user, reason=payload.reason)


class CoverageOut(Schema):
    area_id: int
    kind: str
    path: str
    due: int
    sampled: int
    missing: int
    percent: float


@router.get("/screening/rounds/{round_id}/coverage", response=list[CoverageOut])
def coverage(request, round_id: QueryId, area_id: QueryId | None = None):
    """Coverage rows of the nodes directly below ``area_id`` (default: the top of your jurisdiction)."""
    user = current_user(request)
    r = queries.access_round(user, round_id)
    parent = access.access(Area, user, area_id) if area_id is not None else None
    rows = queries.coverage_children(r, user, parent)[:500]
    paths = dict(Area.objects.filter(pk__in=[c.area_id for c in rows]).values_list("id", "path"))
    return [{"area_id": c.area_id, "kind": c.kind, "path": paths.get(c.area_id, ""), "due": c.due,
             "sampled": c.sampled, "missing": c.missing, "percent": c.percent} for c in rows]


class PersonOut(Schema):
    id: int
    name: str
    id_number: str
    phone: str
    unit_id: int | None


class MissingList(Page):
    items: list[PersonOut]


def _masked(r) -> dict:
    return {"id": r.pk, "name": ids.mask_name(r.name), "id_number": ids.mask_id_number(r.id_number),
            "phone": ids.mask_phone(r.phone), "unit_id": r.unit_id}


@router.get("/screening/rounds/{round_id}/missing", response=MissingList)
def missing(request, round_id: QueryId, f: Query[PageQuery], area_id: QueryId | None = None):
    """Residents of ``area_id`` (default: all the round covers in your jurisdiction) not sampled (masked)."""
    user = current_user(request)
    r = queries.access_round(user, round_id)
    area = access.access(Area, user, area_id, read=access.READ_PERSONAL) if area_id is not None else None
    return page_of(queries.missing_residents(r, user, area), f, lambda items: [_masked(x) for x in items])


class RecallMemberOut(Schema):
    id: int
    resident: PersonOut
    barcode: str
    retest: str


class RecallTaskOut(Schema):
    id: int
    area_id: int
    path: str
    status: str
    people: int
    retested: int
    positives: int
    members: list[RecallMemberOut]


@router.get("/screening/rounds/{round_id}/recall", response=list[RecallTaskOut])
def recall(request, round_id: QueryId):
    user = current_user(request)
    r = queries.access_round(user, round_id)
    tasks = list(queries.positives_of(r, user)[:200])
    members = {}
    for m in RecallMember.objects.for_user(user, access.READ_HEALTH).filter(task__in=tasks).select_related("resident"):
        members.setdefault(m.task_id, []).append(m)
    return [{"id": t.pk, "area_id": t.area_id, "path": t.area.path, "status": t.status, "people": t.people,
             "retested": t.retested, "positives": t.positives,
             "members": [{"id": m.pk, "resident": _masked(m.resident), "barcode": m.barcode, "retest": m.retest}
                         for m in members.get(t.pk, [])]} for t in tasks]


class RetestIn(Schema):
    result: one_of(Retest.values)
    reason: Reason = ""


@router.post("/screening/recall/{member_id}/retest", response=RecallMemberOut)
def retest(request, member_id: QueryId, payload: RetestIn):
    user, m = writable(request, RecallMember.objects.select_related("resident"), member_id, access.SCREENING_WRITE,
                       read=access.READ_HEALTH)
    m = actions.do_record_retest(m, result=payload.result, actor=user, reason=payload.reason)
    m.resident = m.resident if hasattr(m, "_resident_cache") else m.resident
    return {"id": m.pk, "resident": _masked(m.resident), "barcode": m.barcode, "retest": m.retest}


RowText = Annotated[str, Field(strict=True, max_length=200)]   # NUL bytes are refused per row (``errors``)
BatchKey = text_of(ImportBatch, "key", min_length=1)


class SampleRow(Schema):
    """One registration; each value is checked per row (bad rows come back as ``errors``)."""

    id_number: RowText = ""
    barcode: RowText = ""
    site: RowText = ""
    sampled_at: RowText = ""


class ResultRow(Schema):
    barcode: RowText = ""
    result: RowText = ""
    lab: RowText = ""
    reported_at: RowText = ""


class SamplesIn(Schema):
    round_id: Id
    batch_key: BatchKey
    rows: list[SampleRow]


class ResultsIn(Schema):
    batch_key: BatchKey
    rows: list[ResultRow]


class RowErrorOut(Schema):
    line: int
    field: str
    reason: str


class BatchOut(Schema):
    batch_id: int
    already_imported: bool
    rows_ok: int
    rows_bad: int
    rows_duplicate: int
    errors: list[RowErrorOut]


def _own_key(kind: str, key: str, user) -> None:
    """A batch key names the caller's own batch: a key another uploader used is refused before anything is
    read, so its batch (round, counts, row errors) is never answered to someone else."""

    used_by = ImportBatch.objects.filter(kind=kind, key=(key or "").strip()).values_list("actor", flat=True).first()
    if used_by is not None and used_by != audit.actor_name(user):
        raise ActionError(_("this batch key was used by another uploader; choose your own"), field="batch_key")


def _batch_out(out) -> dict:
    b = out.batch
    errs = list(RowError.objects.filter(batch=b).order_by("line")[:1000])
    return {"batch_id": b.pk, "already_imported": out.already, "rows_ok": b.rows_ok, "rows_bad": b.rows_bad,
            "rows_duplicate": b.rows_duplicate, "errors": errs}


@router.post("/screening/samples", response=BatchOut)
def post_samples(request, payload: SamplesIn):
    """A batch of registrations for a round; rows of people outside your jurisdiction are refused per row."""
    user = current_user(request)
    r = queries.access_round(user, payload.round_id, write=True)
    if len(payload.rows) > MAX_ROWS:
        raise ActionError(_("at most %(MAX_ROWS)s rows per batch") % {"MAX_ROWS": MAX_ROWS}, field="rows")
    _own_key("samples", payload.batch_key, user)
    out = import_rows("samples", payload.batch_key, [x.dict() for x in payload.rows], round=r, actor=user)
    return _batch_out(out)


@router.post("/screening/results", response=BatchOut)
def post_results(request, payload: ResultsIn):
    """A batch of tube results (any round; registrations may come later)."""
    user = current_user(request)
    if len(payload.rows) > MAX_ROWS:
        raise ActionError(_("at most %(MAX_ROWS)s rows per batch") % {"MAX_ROWS": MAX_ROWS}, field="rows")
    _own_key("results", payload.batch_key, user)
    out = import_rows("results", payload.batch_key, [x.dict() for x in payload.rows], round=None, actor=user)
    return _batch_out(out)


access.declare_operations(router, {
    "list_rounds": access.VIEW, "get_round": access.VIEW, "coverage": access.VIEW,
    "missing": access.READ_PERSONAL, "recall": access.READ_HEALTH,
    "create_round": access.SCREENING_WRITE, "refresh_round": access.SCREENING_WRITE,
    "close_round": access.SCREENING_WRITE, "reopen_round": access.SCREENING_WRITE, "retest": access.SCREENING_WRITE,
    "post_samples": access.SCREENING_WRITE, "post_results": access.SCREENING_WRITE,
})

__all__ = ["router", "Query"]

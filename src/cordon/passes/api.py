"""API of passes and checkpoints: the pass list and one pass (with its signed token), issue, revoke, the check,
the revocation list a checkpoint syncs and the public key it verifies tokens with. Reads scoped by
``passes.read``; a check needs ``passes.check`` over the area checked. Names and ID numbers masked."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status as HttpStatus
from pydantic import Field

from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.core.api import PageQuery, current_user, page_of, writable
from cordon.core.fields import Day, Id, QueryId, Reason, one_of, text_of
from cordon.core.schemas import Page
from cordon.passes import actions, queries, signing
from cordon.passes.models import Checkpoint, Kind, Pass, PassStatus
from cordon.places.models import Area, Resident

router = Router(tags=["passes"])


class PassOut(Schema):
    id: int
    kind: str
    holder: str
    holder_id_number: str
    areas: list[str]
    valid_from: dt.date
    valid_to: dt.date
    status: str
    status_since: dt.date
    cause: str
    code: str


class PassDetail(PassOut):
    token: str
    revoked_reason: str


class PassList(Page):
    items: list[PassOut]


def pass_out(p: Pass) -> dict:
    number = p.holder.id_number if p.holder_id else p.holder_id_number
    return {"id": p.pk, "kind": p.kind, "holder": ids.mask_name(p.holder_name),
            "holder_id_number": ids.mask_id_number(number) if number else "", "areas": p.area_paths,
            "valid_from": p.valid_from, "valid_to": p.valid_to, "status": p.status, "status_since": p.status_since,
            "cause": p.cause, "code": p.code}


def _detail(p: Pass) -> dict:
    return {**pass_out(p), "token": signing.token_for(p), "revoked_reason": p.revoked_reason}


class PassFilter(PageQuery):
    status: one_of(PassStatus.values, "current") | None = None
    kind: one_of(Kind.values) | None = None


@router.get("/passes", response=PassList)
def list_passes(request, f: Query[PassFilter]):
    qs = queries.pass_list(current_user(request), status=f.status or "", kind=f.kind or "", today=clock.today())
    return page_of(qs.select_related("holder"), f, lambda rows: [pass_out(p) for p in rows])


class RevocationsOut(Schema):
    version: int
    revoked: list[int]


@router.get("/passes/revocations", response=RevocationsOut)
def list_revocations(request, since: int = Query(0, ge=0, le=2**62)):
    """The passes revoked after version ``since`` (a checkpoint keeps the version it has and asks for the rest)."""
    return queries.revocations(since)


class KeyOut(Schema):
    algorithm: str
    public_key: str


@router.get("/passes/public-key", response=KeyOut)
def public_key(request):
    """The deployment's Ed25519 public key (raw, base64url) the checkpoint page verifies tokens with."""
    return {"algorithm": "Ed25519", "public_key": signing.b64(signing.public_key())}


class PassIn(Schema):
    kind: one_of(Kind.values)
    area_ids: list[Id] = Field(min_length=1, max_length=20)
    valid_from: Day
    valid_to: Day
    holder_id: Id | None = None
    holder_name: text_of(Pass, "holder_name") = ""
    holder_id_number: text_of(Pass, "holder_id_number") = ""
    reason: Reason = ""


@router.post("/passes", response={201: PassDetail})
def issue_pass(request, payload: PassIn):
    user = current_user(request)
    areas = [access.access(Area, user, a, perm=access.PASSES_ISSUE, read=access.PASSES_READ)
             for a in payload.area_ids]
    holder = (access.access(Resident, user, payload.holder_id, read=access.PASSES_ISSUE)
              if payload.holder_id else None)
    p = actions.do_issue_pass(kind=payload.kind, areas=areas, valid_from=payload.valid_from,
                              valid_to=payload.valid_to, holder=holder, holder_name=payload.holder_name,
                              holder_id_number=payload.holder_id_number, actor=user, reason=payload.reason)
    return HttpStatus(201, _detail(p))


class RevokeIn(Schema):
    reason: text_of(Pass, "revoked_reason", min_length=1)


@router.post("/passes/{pass_id}/revoke", response=PassDetail)
def revoke_pass(request, pass_id: QueryId, payload: RevokeIn):
    user, p = writable(request, Pass, pass_id, access.PASSES_ISSUE, read=access.PASSES_READ)
    return _detail(actions.do_revoke_pass(p, reason=payload.reason, actor=user))


class CheckIn(Schema):
    token: str = Field("", max_length=4000)
    code: str = Field("", max_length=12)
    area_id: Id | None = None
    checkpoint_id: Id | None = None


class CheckOut(Schema):
    id: int
    pass_id: int | None
    area: str
    result: str
    reason: str | None
    flagged: bool
    at: dt.datetime
    holder: str
    kind: str


@router.post("/passes/check", response=CheckOut)
def check_pass(request, payload: CheckIn):
    user = current_user(request)
    if not payload.token and not payload.code:
        raise ActionError(_("give the token read from the QR code or the typed code"), field="token")
    checkpoint = area = None
    if payload.checkpoint_id:
        checkpoint = access.access(Checkpoint, user, payload.checkpoint_id, perm=access.PASSES_CHECK,
                                   read=access.PASSES_READ)
    elif payload.area_id:
        area = access.access(Area, user, payload.area_id, perm=access.PASSES_CHECK, read=access.PASSES_READ)
    else:
        raise ActionError(_("choose the checkpoint or the area checked"), field="area_id")
    log, answer = actions.do_check_pass(token=payload.token, code=payload.code, area=area, checkpoint=checkpoint,
                                        actor=user)
    p = log.pass_ref
    return {"id": log.pk, "pass_id": p.pk if p else None, "area": log.area.path, "result": answer.result,
            "reason": answer.reason, "flagged": log.flagged, "at": log.at,
            "holder": ids.mask_name(p.holder_name) if p else "", "kind": p.kind if p else ""}


@router.get("/passes/{pass_id}", response=PassDetail)
def get_pass(request, pass_id: QueryId):
    return _detail(access.access(Pass, current_user(request), pass_id, read=access.PASSES_READ))


access.declare_operations(router, {
    "list_passes": access.PASSES_READ, "list_revocations": access.PASSES_CHECK, "public_key": access.PASSES_CHECK,
    "get_pass": access.PASSES_READ, "issue_pass": access.PASSES_ISSUE, "revoke_pass": access.PASSES_ISSUE,
    "check_pass": access.PASSES_CHECK,
})

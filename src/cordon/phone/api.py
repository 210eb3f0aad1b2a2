"""API of the phone app (docs/phone-protocol.md): register a device (its slice key), ask whether a device may still hold
its slice, fetch the slice (gzip when the phone accepts it), sync queued changes, and revoke the caller's devices
(a lost phone). Every operation needs ``phone.use``; a device that is revoked, expired, or someone else's answers
410 ``{"wipe": true}``; a slice made under other grants answers 409 ``{"stale": true, "wipe": true}``."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from cordon.core import access
from cordon.core.api import current_user
from cordon.core.fields import text_of

from . import actions, queries
from .models import Device

router = Router(tags=["phone"])


class DeviceIn(Schema):
    name: text_of(Device, "name", min_length=1)


class DeviceOut(Schema):
    device: uuid.UUID
    key: str
    expires_at: dt.datetime


class DeviceState(Schema):
    device: uuid.UUID
    expires_at: dt.datetime
    scope_hash: str


class WipeOut(Schema):
    detail: str
    wipe: bool
    stale: bool = False


class RevokedOut(Schema):
    revoked: int


class ChangeIn(Schema):
    """One queued change; its content is checked change by change (a bad one is ``rejected`` in the results,
    the others still apply)."""

    id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    at: str = Field(max_length=64)
    data: dict[str, Any] = {}


class SyncIn(Schema):
    device: uuid.UUID
    batch: uuid.UUID
    scope_hash: str = Field(max_length=64)
    changes: list[ChangeIn] = Field(max_length=actions.MAX_CHANGES)


class ResultOut(Schema):
    id: str | None
    status: str
    message: str
    record: dict[str, Any] | None


class SyncOut(Schema):
    batch: uuid.UUID
    results: list[ResultOut]


def _wipe(stale: bool = False):
    detail = _("the slice is stale (your areas or account changed): wipe it and fetch a new one") if stale \
        else queries.refusal_text()
    return Status(409 if stale else 410, {"detail": detail, "wipe": True, "stale": stale})


@router.post("/phone/devices", response={201: DeviceOut})
def register_device(request, payload: DeviceIn):
    """Register this phone: a device id and the key its slice is encrypted with at rest (shown once)."""
    user = current_user(request)
    d = actions.do_register_device(user, payload.name, actor=user)
    return Status(201, {"device": d.pk, "key": d.key, "expires_at": d.expires_at})


@router.get("/phone/devices/{device_id}", response={200: DeviceState, 410: WipeOut})
def device_state(request, device_id: uuid.UUID):
    """May this device still hold its slice? 410 ``wipe`` when revoked, expired or not the caller's."""
    user = current_user(request)
    d = queries.device_of(user, device_id)
    if d is None:
        return _wipe()
    return {"device": d.pk, "expires_at": d.expires_at, "scope_hash": queries.scope_hash(user)}


@router.delete("/phone/devices", response={200: RevokedOut})
def revoke_devices(request):
    """Revoke every device of the caller (a lost phone): each wipes its slice at its next contact."""
    user = current_user(request)
    return {"revoked": actions.do_revoke_devices(user, reason="revoked by the user", actor=user)}


@router.get("/phone/slice", response={200: dict[str, Any], 410: WipeOut})
def get_slice(request, device: uuid.UUID):
    """The caller's slice for this device (masked, only the jurisdiction), gzip-compressed when accepted."""
    user = current_user(request)
    d = queries.device_of(user, device)
    if d is None:
        return _wipe()
    data = queries.build_slice(user, lang="en" if (translation.get_language() or "").startswith("en") else "zh")
    actions.do_record_slice(d, queries.slice_counts(data), actor=user)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode("utf-8")
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = HttpResponse(gzip.compress(body, compresslevel=6), content_type="application/json")
        resp["Content-Encoding"] = "gzip"
    else:
        resp = HttpResponse(body, content_type="application/json")
    resp["Vary"] = "Accept-Encoding"
    resp["Cache-Control"] = "no-store"
    return resp


@router.post("/phone/sync", response={200: SyncOut, 409: WipeOut, 410: WipeOut})
def sync(request, payload: SyncIn):
    """Apply queued changes: one result per change (applied, duplicate, flagged, rejected); a change sent before
    answers its stored result. 409 ``stale`` when the slice was made under other grants."""
    user = current_user(request)
    d = queries.device_of(user, payload.device)
    if d is None:
        return _wipe()
    if payload.scope_hash != queries.scope_hash(user):
        return _wipe(stale=True)
    results = actions.do_sync(d, batch=payload.batch, changes=[c.dict() for c in payload.changes], actor=user)
    return {"batch": payload.batch, "results": results}


access.declare_operations(router, {
    "register_device": access.PHONE_USE, "device_state": access.PHONE_USE, "revoke_devices": access.PHONE_USE,
    "get_slice": access.PHONE_USE, "sync": access.PHONE_USE,
})

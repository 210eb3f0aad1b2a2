"""What every app's JSON API shares, importing no app: the current user, the page of a list (query and
slicing), the writable check, bearer-token auth and the JSON body parser. The API itself (the ``NinjaAPI``
instance, its error handlers and the routers mounted) is assembled in ``config.api``; core's own operations
(the caller's account and tokens) are the ``core_router`` below.
"""
from __future__ import annotations

import datetime as dt
import json

from django.db.models import F
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.parser import Parser
from ninja.security import HttpBearer

from cordon.core import access, fields
from cordon.core.actions import do_create_token, do_revoke_token
from cordon.core.models import ApiToken, Grant
from cordon.core.schemas import DayQuery, Page, PageQuery  # noqa: F401  (the shared list fields, re-exported)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        seen = getattr(request, "_cordon_token", None)
        if seen is not None and seen[0] == token:  # the capability check authenticated this request already
            return seen[1]
        digest = ApiToken.hash(token)
        # the token's user and their grants in one statement (a checkpoint's scanner calls once a second); a user
        # with no grant at all takes a second one
        grants = list(Grant.objects.filter(user__api_tokens__digest=digest, user__api_tokens__revoked=False)
                      .select_related("user", "area")
                      .annotate(_token_id=F("user__api_tokens__id"), _token_used=F("user__api_tokens__last_used")))
        if grants:
            user, token_id, last_used = grants[0].user, grants[0]._token_id, grants[0]._token_used
            for g in grants:
                g.user = user
            user._cordon_grants = grants  # access.grants_of: this request's grants, read with the token
        else:
            t = ApiToken.objects.select_related("user").filter(digest=digest, revoked=False).first()
            if t is None:
                return None
            user, token_id, last_used = t.user, t.pk, t.last_used
        if not user.is_active:
            return None
        now = timezone.now()
        if last_used is None or (now - last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token_id).update(last_used=now)
        request.user = user
        request._cordon_token = (token, user)
        return user


class BodyNotObject(ValueError):
    pass


class BodyNotJson(ValueError):
    pass


def _no_constant(name: str):
    raise BodyNotJson(name)


class ObjectParser(Parser):
    """JSON bodies must be objects (a list, a number, a string or ``null`` is a 400, never read as an object
    with every field left at its default); ``NaN``/``Infinity`` (not JSON) are refused."""

    def parse_body(self, request):
        try:
            data = json.loads(request.body, parse_constant=_no_constant)
        except ValueError as exc:
            raise BodyNotJson(str(exc)) from None
        if not isinstance(data, dict):
            raise BodyNotObject(type(data).__name__)
        return data


def current_user(request):
    """The caller: the token's user (bearer auth) or the session's."""
    return request.auth if getattr(request, "auth", None) is not None else request.user


def paginate(qs, page: int, page_size: int, cap: int = fields.MAX_PAGE_SIZE):
    """Slice a queryset without COUNT(*) (cheap on city-size tables); returns (items, meta)."""
    page = max(1, page)
    page_size = max(1, min(page_size, cap))
    start = (page - 1) * page_size
    rows = list(qs[start:start + page_size + 1])
    return rows[:page_size], {"page": page, "page_size": page_size, "has_next": len(rows) > page_size}


def page_of(qs, f: PageQuery, rows=None) -> dict:
    """One page of ``qs`` as a list answer (``items`` plus the page fields); ``rows`` turns the page's records
    into the answer's items (the records themselves by default)."""
    items, meta = paginate(qs, f.page, f.page_size)
    return {"items": rows(items) if rows is not None else items, **meta}


def writable(request, model_or_qs, pk, cap: str, *, read: str = access.VIEW):
    """(caller, record) for a write: the record the caller may read under ``read`` (404 otherwise) and may
    change under ``cap`` (403 otherwise)."""
    user = current_user(request)
    return user, access.access(model_or_qs, user, pk, perm=cap, read=read)


class GrantOut(Schema):
    role: str
    area_id: int | None
    area_path: str


class MeOut(Schema):
    username: str
    grants: list[GrantOut]
    permissions: list[str]


class TokenIn(Schema):
    name: fields.text_of(ApiToken, "name", min_length=1)


class TokenOut(Schema):
    id: int
    name: str
    token: str


class TokenInfo(Schema):
    """One of the caller's tokens, without its secret (only its first characters, to recognise it)."""

    id: int
    name: str
    prefix: str
    created: dt.datetime
    last_used: dt.datetime | None
    revoked: bool


core_router = Router(tags=["account"])


@core_router.get("/me", response=MeOut)
def me(request):
    user = current_user(request)
    grants = access.grants_of(user)
    perms = sorted(access.caps_of(user))
    return {"username": user.get_username(), "permissions": perms,
            "grants": [{"role": g.role, "area_id": g.area_id, "area_path": g.area.path if g.area_id else "*"}
                       for g in grants]}


@core_router.post("/tokens", response={201: TokenOut})
def create_token(request, payload: TokenIn):
    user = current_user(request)
    token, secret = do_create_token(user, payload.name, actor=user)
    return Status(201, {"id": token.pk, "name": token.name, "token": secret})


@core_router.get("/tokens", response=list[TokenInfo])
def list_tokens(request):
    """The caller's own tokens, newest first (revoked ones included, marked)."""
    return ApiToken.objects.filter(user=current_user(request)).order_by("-id")[:500]


@core_router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request, token_id: fields.QueryId):
    """Revoke one of the caller's own tokens (404 for another user's token or an absent one); audited."""
    user = current_user(request)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise access.NotFound
    if not token.revoked:
        do_revoke_token(token, actor=user, reason="revoked through the API")
    return Status(204, None)


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    url: str
    created: dt.datetime
    read_at: dt.datetime | None


class NotificationList(Schema):
    unread: int
    items: list[NotificationOut]
    page: int
    page_size: int
    has_next: bool


class NotificationQuery(Schema):
    page: fields.PageNo = 1
    page_size: fields.PageSize = 50
    unread: bool = False


@core_router.get("/notifications", response=NotificationList)
def list_notifications(request, f: Query[NotificationQuery]):
    """The caller's own notifications, newest first, in the caller's language (``unread``: only those)."""
    from cordon.core import notify
    from cordon.core.models import Notification

    user = current_user(request)
    qs = Notification.objects.filter(user=user)
    if f.unread:
        qs = qs.filter(read_at__isnull=True)
    items, meta = paginate(qs, f.page, f.page_size)
    return {"unread": notify.unread_count(user), **meta,
            "items": [{"id": n.pk, "kind": n.kind, "text": notify.text_of(n), "url": n.url, "created": n.created,
                       "read_at": n.read_at} for n in items]}


class NotificationsReadIn(Schema):
    ids: list[fields.Id] | None = None  # none: every unread one


@core_router.post("/notifications/read", response={200: dict})
def read_notifications(request, payload: NotificationsReadIn):
    """Mark the caller's notifications read (the given ones, or all)."""
    from cordon.core.actions import do_mark_notifications_read

    user = current_user(request)
    return {"marked": do_mark_notifications_read(user, payload.ids, actor=user)}


access.declare_operations(core_router, {"me": access.SIGNED_IN, "create_token": access.SIGNED_IN,
                                        "list_tokens": access.SIGNED_IN, "revoke_token": access.SIGNED_IN,
                                        "list_notifications": access.SIGNED_IN,
                                        "read_notifications": access.SIGNED_IN})

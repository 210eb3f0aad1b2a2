"""What every app's JSON API shares, importing no app: the current user, the page of a list (query and
slicing), the writable check, bearer-token auth and the JSON body parser. The API itself (the ``NinjaAPI``
instance, its error handlers and the routers mounted) is assembled in ``config.api``; core's own operations
(the caller's account and tokens) are the ``core_router`` below.
"""
from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.parser import Parser
from ninja.security import HttpBearer

from cordon.core import access, fields, rows as dbrows
from cordon.core.actions import do_create_token, do_revoke_token
from cordon.core.models import ApiToken, Grant
from cordon.core.schemas import DayQuery, Page, PageQuery  # noqa: F401  (the shared list fields, re-exported)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        seen = getattr(request, "_cordon_token", None)
        if seen is not None and seen[0] == token:  # the capability check authenticated this request already
            return seen[1]
        # the token's user and their grants with their areas in one statement (a checkpoint's scanner calls once
        # a second, every map tile asks), written out: building it with the ORM cost more than the rest of a
        # kept map tile
        found = token_grants(ApiToken.hash(token))
        if found is None:
            return None
        user, grants, token_id, last_used = found
        user._cordon_grants = grants  # access.grants_of: this request's grants, read with the token
        if not user.is_active:
            return None
        now = timezone.now()
        if last_used is None or (now - last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token_id).update(last_used=now)
        request.user = user
        request._cordon_token = (token, user)
        return user


_TOKEN_SQL: dict[str, tuple] = {}


def _token_sql(conn) -> tuple:
    """(sql, [(model, attnames, converters, first column, last column)], last use's converters) of
    ``token_grants``, built once per database vendor: the statement reads the token's user, each of
    their grants (none: NULLs) with its area (none: NULLs), the token's id and last use."""
    from django.apps import apps as django_apps
    from django.contrib.auth import get_user_model

    kept = _TOKEN_SQL.get(conn.vendor)
    if kept is not None:
        return kept
    qn = conn.ops.quote_name
    parts, cols, at = [], [], 0
    for model, alias in ((get_user_model(), "u"), (Grant, "g"), (django_apps.get_model("places", "Area"), "a")):
        fields = model._meta.concrete_fields
        converters = dbrows.converters(conn, [f.get_col(alias) for f in fields])
        cols += [f"{alias}.{qn(f.column)}" for f in fields]
        parts.append((model, [f.attname for f in fields], converters, at, at + len(fields)))
        at += len(fields)
    t, g, a = (m._meta for m in (ApiToken, Grant, parts[2][0]))
    user_meta = parts[0][0]._meta
    sql = (f"SELECT {', '.join(cols)}, t.{qn('id')}, t.{qn('last_used')} "  # noqa: S608 - names quoted
           f"FROM {qn(t.db_table)} t JOIN {qn(user_meta.db_table)} u ON u.{qn(user_meta.pk.column)} = "
           f"t.{qn(t.get_field('user').column)} "
           f"LEFT JOIN {qn(g.db_table)} g ON g.{qn(g.get_field('user').column)} = u.{qn(user_meta.pk.column)} "
           f"LEFT JOIN {qn(a.db_table)} a ON a.{qn(a.pk.column)} = g.{qn(g.get_field('area').column)} "
           f"WHERE t.{qn(t.get_field('digest').column)} = %s AND t.{qn(t.get_field('revoked').column)} = %s "
           f"ORDER BY g.{qn(g.pk.column)}")
    last_conv = dbrows.converters(conn, [ApiToken._meta.get_field("last_used").get_col("t")])
    kept = _TOKEN_SQL[conn.vendor] = (sql, parts, last_conv)
    return kept


def _from_row(conn, row, model, attnames, converters, lo, hi):
    return model.from_db(conn.alias, attnames, dbrows.convert(conn, list(row[lo:hi]), converters))


def token_grants(digest: str):
    """(user, grants with their areas, token id, token's last use) of the unrevoked token ``digest``, or None:
    what the ORM's ``Grant ... select_related("user", "area")`` read, as one written-out statement."""
    from django.db import connection

    sql, parts, last_conv = _token_sql(connection)
    with connection.cursor() as c:
        c.execute(sql, [digest, False])
        rows = c.fetchall()
    if not rows:
        return None
    (um, ua, uc, ulo, uhi), (gm, ga, gc, glo, ghi), (am, aa, ac, alo, ahi) = parts
    user = _from_row(connection, rows[0], um, ua, uc, ulo, uhi)
    grants = []
    for row in rows:
        if row[glo] is None:  # a user with no grant
            continue
        grant = _from_row(connection, row, gm, ga, gc, glo, ghi)
        area = _from_row(connection, row, am, aa, ac, alo, ahi) if row[alo] is not None else None
        Grant._meta.get_field("area").set_cached_value(grant, area)
        grant.user = user
        grants.append(grant)
    return user, grants, rows[0][-2], dbrows.convert(connection, [rows[0][-1]], last_conv)[0]


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

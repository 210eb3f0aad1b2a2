"""The JSON API under /api/ (django-ninja). Session or bearer-token auth; same scoping as the pages.

Errors: 400 ``{"detail", "field"}`` for bad input, 401 without credentials, 403 for an in-scope write by a
user whose roles do not allow it, 404 for absent or out-of-scope records, 409 ``{"detail", "field"}`` when
another request changed the same record first (re-read and try again).
"""
from __future__ import annotations

from django.utils import timezone
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, django_auth

from cordon.core import access
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        try:
            t = ApiToken.objects.select_related("user").get(digest=ApiToken.hash(token), revoked=False)
        except ApiToken.DoesNotExist:
            return None
        if not t.user.is_active:
            return None
        now = timezone.now()
        if t.last_used is None or (now - t.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=t.pk).update(last_used=now)
        request.user = t.user
        return t.user


api = NinjaAPI(title="Cordon API", version="1", urls_namespace="api", auth=[TokenAuth(), django_auth],
               openapi_url="/openapi.json", docs_url="/docs")


@api.exception_handler(access.NotFound)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(access.Forbidden)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": "Forbidden: your roles do not allow this here"}, status=403)


@api.exception_handler(ActionError)
def _action_error(request, exc):
    body = {"detail": str(exc), "field": exc.field}
    if exc.rule:
        body["rule"] = exc.rule
    return api.create_response(request, body, status=400)


@api.exception_handler(ValidationError)
def _validation(request, exc):
    errors = []
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc), "detail": e.get("msg", "invalid")})
    first = errors[0] if errors else {"field": "", "detail": "invalid input"}
    return api.create_response(request, {"detail": first["detail"], "field": first["field"], "errors": errors},
                               status=400)


@api.exception_handler(AuthenticationError)
def _unauth(request, exc):
    return api.create_response(request, {"detail": "Authentication required"}, status=401)


# 409: the write lost a race to another request on the same record (a Conflict is an ActionError; this
# handler is found first because ninja looks handlers up along the exception's class hierarchy).
@api.exception_handler(Conflict)
def _conflict(request, exc):
    body = {"detail": str(exc), "field": exc.field}
    if exc.rule:
        body["rule"] = exc.rule
    return api.create_response(request, body, status=409)


def user_of(request):
    return request.auth if getattr(request, "auth", None) is not None else request.user


class Page(Schema):
    page: int
    page_size: int
    has_next: bool


def paginate(qs, page: int, page_size: int, cap: int = 200):
    """Slice a queryset without COUNT(*) (cheap on city-size tables); returns (items, meta)."""
    page = max(1, page)
    page_size = max(1, min(page_size, cap))
    start = (page - 1) * page_size
    rows = list(qs[start:start + page_size + 1])
    return rows[:page_size], {"page": page, "page_size": page_size, "has_next": len(rows) > page_size}


class GrantOut(Schema):
    role: str
    area_id: int | None
    area_path: str


class MeOut(Schema):
    username: str
    grants: list[GrantOut]
    permissions: list[str]


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    token: str


core_router = Router(tags=["account"])


@core_router.get("/me", response=MeOut)
def me(request):
    user = user_of(request)
    grants = access.grants_of(user)
    perms = sorted({p for g in grants for p in access.ROLE_PERMS.get(g.role, ())})
    return {"username": user.get_username(), "permissions": perms,
            "grants": [{"role": g.role, "area_id": g.area_id, "area_path": g.area.path if g.area_id else "*"}
                       for g in grants]}


@core_router.post("/tokens", response={201: TokenOut})
def create_token(request, payload: TokenIn):
    from cordon.core.actions import do_create_token

    user = user_of(request)
    token, secret = do_create_token(user, payload.name, actor=user)
    return Status(201, {"id": token.pk, "name": token.name, "token": secret})


api.add_router("/", core_router)

from cordon.places.api import router as places_router  # noqa: E402

api.add_router("/", places_router)

from cordon.zones.api import router as zones_router  # noqa: E402

api.add_router("/", zones_router)

from cordon.screening.api import router as screening_router  # noqa: E402

api.add_router("/", screening_router)

from cordon.cases.api import router as cases_router  # noqa: E402

api.add_router("/", cases_router)

from cordon.care.api import router as care_router  # noqa: E402

api.add_router("/", care_router)

from cordon.hotline.api import router as hotline_router  # noqa: E402

api.add_router("/", hotline_router)

from cordon.supplies.api import router as supplies_router  # noqa: E402

api.add_router("/", supplies_router)

from cordon.situation.api import router as situation_router  # noqa: E402

api.add_router("/", situation_router)

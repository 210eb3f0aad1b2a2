"""The JSON API under /api/ (django-ninja), assembled: one ``NinjaAPI`` with session or bearer-token auth,
every app's router mounted, the error handlers and the documented error answers. Same scoping as the pages.

Errors: 400 ``{"detail", "field"}`` for bad input, 401 without credentials, 403 for an in-scope write by a
user whose roles do not allow it, 404 for absent or out-of-scope records, 409 ``{"detail", "field"}`` when
another request changed the same record first (re-read and try again).

The pieces every app's API shares (current user, pages, writable check, auth, body parser) are in
``core.api``, which imports no app; this module is the one place that imports them all.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from cordon.care.api import router as care_router
from cordon.playbooks.api import router as playbooks_router
from cordon.resources.api import router as resources_router
from cordon.cases.api import router as cases_router
from cordon.command.api import router as command_router
from cordon.core import access, fields
from cordon.core.actions import ActionError, Conflict
from cordon.core.api import BodyNotJson, BodyNotObject, ObjectParser, TokenAuth, core_router
from cordon.core.schemas import ErrorOut
from cordon.hotline.api import router as hotline_router
from cordon.keyworkers.api import router as keyworkers_router
from cordon.maps.api import router as maps_router
from cordon.passes.api import router as passes_router
from cordon.phone.api import router as phone_router
from cordon.keyplaces.api import router as keyplaces_router
from cordon.places.api import router as places_router
from cordon.screening.api import router as screening_router
from cordon.situation.api import router as situation_router
from cordon.supplies.api import router as supplies_router
from cordon.zones.api import router as zones_router

api = NinjaAPI(title="Cordon API", version="1", urls_namespace="api", auth=[TokenAuth(), django_auth],
               openapi_url="/openapi.json", docs_url="/docs", parser=ObjectParser())


@api.exception_handler(access.NotFound)
def not_found(request, exc=None):
    """The API's 404 answer (also for a path under /api/ that no route serves: ``config.urls.handler404``)."""
    return api.create_response(request, {"detail": _("Not found"), "field": ""}, status=404)


@api.exception_handler(access.Forbidden)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": _("Forbidden: your roles do not allow this here"), "field": ""},
                               status=403)


def _refused(request, exc: ActionError, status: int):
    body = {"detail": str(exc), "field": exc.field}
    if exc.rule:
        body["rule"] = exc.rule
    return api.create_response(request, body, status=status)


@api.exception_handler(ActionError)
def _action_error(request, exc):
    return _refused(request, exc, 400)


def _messages() -> dict[str, str]:
    """Pydantic's error types in the request's language ({name} placeholders come from the error's context)."""
    integer, number = _("must be an integer"), _("must be a number")
    date, moment = _("must be a date (YYYY-MM-DD)"), _("must be a date and time (ISO 8601)")
    obj = _("must be a JSON object")
    uuid = _("must be a UUID (such as 123e4567-e89b-12d3-a456-426614174000)")
    return {
        "missing": _("this field is required"),
        "int_type": integer, "int_parsing": integer, "int_from_float": integer, "int_parsing_size": integer,
        "float_type": number, "float_parsing": number, "decimal_type": number, "decimal_parsing": number,
        "finite_number": _("must be a finite number"),
        "greater_than_equal": _("must be at least {ge}"), "less_than_equal": _("must be at most {le}"),
        "greater_than": _("must be greater than {gt}"), "less_than": _("must be less than {lt}"),
        "decimal_max_digits": _("must have at most {max_digits} digits"),
        "decimal_max_places": _("must have at most {decimal_places} decimal places"),
        "decimal_whole_digits": _("must have at most {whole_digits} digits before the decimal point"),
        "string_type": _("must be text"), "string_too_long": _("must be at most {max_length} characters"),
        "string_too_short": _("must be at least {min_length} characters"),
        "string_unicode": _("must be valid Unicode text"),
        "bool_type": _("must be true or false"), "bool_parsing": _("must be true or false"),
        "literal_error": _("must be one of: {expected}"), "enum": _("must be one of: {expected}"),
        "date_type": date, "date_parsing": date, "date_from_datetime_parsing": date,
        "date_from_datetime_inexact": date, "date_future": date, "date_past": date,
        "datetime_type": moment, "datetime_parsing": moment, "datetime_from_date_parsing": moment,
        "datetime_object_invalid": moment,
        "list_type": _("must be a list"), "too_long": _("must have at most {max_length} items"),
        "too_short": _("must have at least {min_length} items"),
        "dict_type": obj, "model_type": obj, "model_attributes_type": obj,
        "none_required": _("must be null"),
        "uuid_type": uuid, "uuid_parsing": uuid, "uuid_version": uuid,
    }


def _message(error: dict, table: dict[str, str]) -> str:
    kind = error.get("type", "")
    if kind in fields.CUSTOM_ERRORS:
        return error.get("msg", "")  # raised by core.fields with a message already in the request's language
    template = table.get(kind)
    if template is None:
        if kind in ("value_error", "assertion_error"):
            ctx_error = (error.get("ctx") or {}).get("error")
            return str(ctx_error) if ctx_error is not None else error.get("msg", "")
        if kind.startswith(("date", "time")):
            return table["date_type"]
        return error.get("msg") or _("invalid value")
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.replace("{", "").replace("}", "")


_PARAM_KINDS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field(loc, request) -> str:
    """The field an error concerns: the body's dotted path or the query parameter's name (the name of the
    view's argument that holds the body or the query schema is left out)."""
    parts = list(loc)
    if parts and parts[0] in _PARAM_KINDS:
        kind = parts.pop(0)
        if kind in ("body", "query") and len(parts) > 1 and isinstance(parts[0], str) \
                and parts[0] in getattr(request, "_cordon_containers", ("payload", "f")):
            parts.pop(0)
    return ".".join(str(p) for p in parts)


@api.exception_handler(ValidationError)
def _validation(request, exc):
    table = _messages()
    errors = [{"field": _field(e.get("loc", ()), request), "detail": _message(e, table)} for e in exc.errors]
    first = errors[0] if errors else {"field": "", "detail": _("invalid input")}
    return api.create_response(request, {"detail": first["detail"], "field": first["field"], "errors": errors},
                               status=400)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    cause = exc.__cause__
    if isinstance(cause, BodyNotObject):
        detail = _("the body must be a JSON object")
    elif isinstance(cause, (BodyNotJson, ValueError)) or exc.status_code == 400:
        detail = _("the body is not valid JSON")
    else:
        detail = str(exc)
    return api.create_response(request, {"detail": detail, "field": ""}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauth(request, exc):
    return api.create_response(request, {"detail": _("Authentication required"), "field": ""}, status=401)


# 409: the write lost a race to another request on the same record (a Conflict is an ActionError; this
# handler is found first because ninja looks handlers up along the exception's class hierarchy).
@api.exception_handler(Conflict)
def _conflict(request, exc):
    return _refused(request, exc, 409)


# The routers, in the order of the OpenAPI document. Django tries the URL patterns in this order too, so the
# maps' layers (a tile per request of every map page panned: the API's busiest read) come right after core's
# few routes instead of after some 150 others (resolving cost a quarter of a kept tile's CPU).
for _router in (core_router, maps_router, places_router, playbooks_router, zones_router, screening_router,
                cases_router, care_router, hotline_router, supplies_router, resources_router, keyplaces_router,
                passes_router, keyworkers_router, situation_router, command_router, phone_router):
    api.add_router("/", _router)


# ------------------------------------------------------------------------------------------ documented errors

ERROR_STATUSES = (400, 401, 403, 404)
CONFLICT_STATUS = 409
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def document_errors(ninja_api: NinjaAPI) -> None:
    """Every operation documents the shared error body for 400, 401, 403 and 404, and writes for 409 (a
    conflicting concurrent change). Done once over the routers' operations, before the URLs are bound."""
    for _prefix, router in ninja_api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                statuses = list(ERROR_STATUSES)
                if WRITE_METHODS & set(op.methods):
                    statuses.append(CONFLICT_STATUS)
                for status in statuses:
                    op.response_models.setdefault(status, op._create_response_model(ErrorOut))


document_errors(api)

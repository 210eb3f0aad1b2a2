"""Page middleware. ``RejectNulInQueryMiddleware``: page requests whose query string holds a NUL character answer 400.

No page can use such a value: PostgreSQL refuses it in any query (a server error) while SQLite compares it as
text, so every search box and filter of every page would need its own check. The API validates its own
parameters (400 with ``field`` and ``detail``) and is left to do so."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.core.actions import ActionError


class RejectNulInQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and any(
                "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(_("The address holds a character that is not allowed."),
                                          content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class PageErrorsMiddleware:
    """What a page raises and does not answer itself: ``access.NotFound`` (absent, or outside the viewer's
    jurisdiction) answers the site's 404 page, ``access.Forbidden`` (in scope, not allowed) its 403 page, so
    views need not catch them; a refused action (``ActionError``) that no form showed answers 400 with its
    reason. The API (``/api/``) answers its own errors."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if request.path.startswith("/api/"):
            return None
        if isinstance(exc, access.NotFound):
            return response_for_exception(request, Http404())
        if isinstance(exc, access.Forbidden):
            return response_for_exception(request, PermissionDenied())
        if isinstance(exc, ActionError):
            return render(request, "web/refused.html", {"reason": str(exc)}, status=400)
        return None

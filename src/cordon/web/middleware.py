"""Page requests whose query string holds a NUL character answer 400.

No page can use such a value: PostgreSQL refuses it in any query (a server error) while SQLite compares it as
text, so every search box and filter of every page would need its own check. The API validates its own
parameters (400 with ``field`` and ``detail``) and is left to do so."""
from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _


class RejectNulInQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and any(
                "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(_("The address holds a character that is not allowed."),
                                          content_type="text/plain; charset=utf-8")
        return self.get_response(request)

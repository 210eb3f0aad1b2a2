"""The phone app's pages: the app shell (``/app/``, one page, Chinese by default with an English switch that works
offline), its web app manifest and its service worker (``/app/sw.js``, scope ``/app/``). Everything the app runs
is served by Cordon from ``phone/static/phone/`` (ES modules, no build step); the data come from ``/api/phone/``."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from cordon.core import access
from cordon.phone import queries, strings
from cordon.web.pages import route

STATIC_DIR = Path(__file__).parent / "static" / "phone"
#: the files the service worker keeps for offline use, besides the shell and the manifest
ASSETS = ("app.js", "store.js", "net.js", "ui.js", "passcheck.js", "scan.js", "phone.css", "icon-192.png",
          "icon-512.png")
SCOPE = "/app/"
TEMPLATES = Path(__file__).parent / "templates" / "phone"
#: the service worker's source; its version and file list are filled in when served
SW_FILE = TEMPLATES / "sw.js"


@lru_cache(maxsize=1)
def assets_version() -> str:
    """A digest of the app's files and texts: a new one makes the service worker take the new files."""
    h = hashlib.sha256()
    for name in ASSETS:
        h.update((STATIC_DIR / name).read_bytes())
    h.update((TEMPLATES / "app.html").read_bytes())
    h.update(SW_FILE.read_bytes())
    h.update(Path(strings.__file__).read_bytes())
    return h.hexdigest()[:16]


@route("app/", "phone_app")
@access.require(access.PHONE_USE)
@require_GET
def app_shell(request):
    return render(request, "phone/app.html", {
        "texts": strings.catalog(), "needs": strings.NEEDS, "version": assets_version(),
        "config": {"api": "/api/phone/", "sw": SCOPE + "sw.js", "scope": SCOPE, "login": "/login/?next=" + SCOPE,
                   "setlang": reverse("set_language"),
                   # the first language on this phone: the account's (Chinese unless English was chosen)
                   "lang": "en" if request.LANGUAGE_CODE == "en" else "zh-hans",
                   "needs": strings.NEEDS, "version": assets_version(),
                   # a pass checked on the phone is logged by the server only for these roles
                   "pass_check_roles": [r for r in access.ROLE_CAPS if access.role_has(r, access.PASSES_CHECK)],
                   # the screens shown only when the slice's ``user.screens`` lists them
                   "bound_screens": list(queries.SCREEN_CAPS)}})


@route("app/manifest.webmanifest", "phone_manifest")
@access.public
@require_GET
def manifest(request):
    data = {
        "name": _("Cordon field app"), "short_name": _("Cordon"), "id": SCOPE, "start_url": SCOPE, "scope": SCOPE,
        "display": "standalone", "orientation": "portrait", "lang": request.LANGUAGE_CODE,
        "background_color": "#f4f6f8", "theme_color": "#1f3a5f",
        "description": _("Tasks, sampling, deliveries and check-ins for field workers, offline"),
        "icons": [{"src": static(f"phone/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
                  for n in (192, 512)] +
                 [{"src": static("phone/icon-512.png"), "sizes": "512x512", "type": "image/png",
                   "purpose": "maskable"}],
    }
    return JsonResponse(data, content_type="application/manifest+json",
                        json_dumps_params={"ensure_ascii": False})


@route("app/sw.js", "phone_sw")
@access.public
@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    files = [SCOPE, SCOPE + "manifest.webmanifest", *(static(f"phone/{n}") for n in ASSETS)]
    body = SW_FILE.read_text(encoding="utf-8")
    body = body.replace("__VERSION__", assets_version()).replace("__FILES__", json.dumps(files))
    resp = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    resp["Service-Worker-Allowed"] = SCOPE
    return resp

"""The phone app's own files: the shell at /app/, its manifest and its service worker are served by Cordon with the
right content types, the worker's scope is /app/, every file it keeps for offline use exists, and the texts come
in both languages (Chinese by default)."""
from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from cordon.phone import strings, views

pytestmark = pytest.mark.django_db


def test_shell_needs_a_signed_in_user(city):
    r = Client().get("/app/")
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=/app/")


def test_shell_is_html_with_manifest_module_and_both_languages(as_user, worker):
    r = as_user(worker).get("/app/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    html = r.content.decode()
    assert 'rel="manifest" href="/app/manifest.webmanifest"' in html
    assert '<script type="module" src="/static/phone/app.js">' in html
    texts = json.loads(re.search(r'<script id="phone-texts" type="application/json">(.*?)</script>', html, re.S)
                       .group(1))
    assert set(texts) == {"zh-hans", "en"} and set(texts["zh-hans"]) == set(texts["en"])
    assert texts["zh-hans"]["tubes"] == "入户采样" and texts["en"]["tubes"] == "Door-to-door sampling"
    # the switch names the other language in its own words
    assert texts["en"]["language"] == "English" and texts["zh-hans"]["language"] == "中文"
    # every text has its Chinese (an untranslated one would read as the English)
    untranslated = [k for k, v in texts["zh-hans"].items() if v == texts["en"][k] and re.search("[a-z]{3}", v)]
    assert not untranslated, untranslated
    # no inline script runs (the CSP allows only the site's own files and nonces)
    assert not re.search(r"<script(?![^>]*(type=\"(module|application/json)\"))[^>]*>", html)


def test_manifest_is_a_valid_web_app_manifest(client, city):
    r = client.get("/app/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"] == "application/manifest+json"
    m = json.loads(r.content)
    assert m["start_url"] == "/app/" and m["scope"] == "/app/" and m["display"] == "standalone"
    assert m["name"] == "Cordon 现场工作"  # Chinese by default
    sizes = {i["sizes"] for i in m["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        body = b"".join(client.get(icon["src"]).streaming_content)
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
        assert f"{w}x{h}" == icon["sizes"]


def test_manifest_in_english(client, city):
    client.cookies["django_language"] = "en"
    m = json.loads(client.get("/app/manifest.webmanifest").content)
    assert m["name"] == "Cordon field app" and m["lang"] == "en"


def test_service_worker_has_scope_app_and_lists_existing_files(client, city):
    r = client.get("/app/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    assert r["Service-Worker-Allowed"] == "/app/"
    assert "no-cache" in r["Cache-Control"]
    body = r.content.decode()
    assert "__VERSION__" not in body and "__FILES__" not in body
    files = json.loads(re.search(r"const FILES = (\[.*?\]);", body).group(1))
    assert files[0] == "/app/" and "/app/manifest.webmanifest" in files
    for f in files[1:]:
        got = client.get(f)
        assert got.status_code == 200, f
    assert views.assets_version() in body
    # the data are never cached by the worker: /api/ passes through
    assert 'startsWith("/api/")' in body


def test_bad_input_and_methods(as_user, worker):
    c = as_user(worker)
    assert c.post("/app/").status_code == 405
    assert c.post("/app/sw.js").status_code == 405


def test_every_text_key_used_by_the_app_exists():
    """The app's modules ask only for texts the server hands them (a missing key would show raw)."""
    used = set()
    for name in ("app.js", "ui.js"):
        src = (views.STATIC_DIR / name).read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([a-z_]+)"\s*[,)]', src))
    keys = set(strings.TEXTS)
    assert used and used <= keys, used - keys


def test_shell_is_for_phone_roles_only_and_carries_no_personal_data(as_user, worker, auditor, commander, city):
    """The shell is the same for every field worker (it is cached on the phone): the data come from the slice."""
    html = as_user(worker).get("/app/").content.decode()
    for r in ("resident_a", "resident_a2", "resident_b"):
        assert city[r].name not in html and city[r].id_number not in html
    assert "五泉" not in html and "worker_a" not in html
    assert as_user(auditor).get("/app/").status_code == 403
    assert as_user(commander).get("/app/").status_code == 403


def test_field_app_in_the_navigation_of_phone_roles_only(as_user, worker, auditor):
    assert 'href="/app/"' in as_user(worker).get("/").content.decode()
    assert 'href="/app/"' not in as_user(auditor).get("/").content.decode()

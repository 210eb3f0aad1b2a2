"""Desk pages (dispatcher board, ticket list) reuse their rendered frame between viewers of the same roles:
each load still carries its own CSP nonce (the header's), a CSRF token that works, and the viewer's name."""
from __future__ import annotations

import re

import pytest

from cordon.core.actions import do_create_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "url"), [("medical_dispatcher", "/care/"), ("hotline_operator", "/hotline/")])
def test_frame_reused_with_each_loads_own_nonce_token_and_name(city, as_user, role, url):
    first, _ = do_create_user("desk_ann", "test-pass-2022", role=role, area=None)
    second, _ = do_create_user("desk_bob", "test-pass-2022", role=role, area=None)
    pages = []
    for user in (first, second, second):
        client = as_user(user)
        resp = client.get(url)
        assert resp.status_code == 200
        html = resp.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", resp["Content-Security-Policy"]).group(1)
        assert re.findall(r'<script nonce="([^"]*)"', html) == [nonce, nonce]
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
        assert len(tokens) == 1 and "cordon" not in next(iter(tokens))
        assert f">{user.username}</span>" in html
        assert "desk_ann" not in html or user == first
        pages.append((nonce, html))
    assert len({nonce for nonce, _html in pages}) == 3
    # the token on the page is one the site accepts (language switch posts it)
    client = as_user(second)
    client.handler.enforce_csrf_checks = True
    html = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    resp = client.post("/i18n/setlang/", {"language": "en", "next": url, "csrfmiddlewaretoken": token})
    assert resp.status_code == 302

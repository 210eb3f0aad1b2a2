"""Server-rendered pages: login and lockout, per-page rendering, scoping (404 out of scope), language
switch, unmasking (audited, 403 for read-only) and query-count budgets."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from cordon.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


# ------------------------------------------------------------------------------------------ login


def test_login_page_and_success(worker):
    c = Client()
    r = c.get("/login/")
    assert r.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in r.content.decode()
    r = c.post("/login/", {"username": "worker_a", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    r = c.get("/")
    assert r.status_code == 200
    assert "worker_a" in r.content.decode()
    assert AuditEntry.objects.filter(action="auth.login", actor_name="worker_a").count() == 1


def test_login_wrong_password_shows_error(worker):
    r = Client().post("/login/", {"username": "worker_a", "password": "wrong-password"})
    assert r.status_code == 200
    assert 'role="alert"' in r.content.decode()


def test_lockout_after_five_failures(worker):
    c = Client()
    for _ in range(5):
        r = c.post("/login/", {"username": "worker_a", "password": "nope-nope"})
    # Locked now: even the right password is refused, with the lockout page.
    r = c.post("/login/", {"username": "worker_a", "password": PASSWORD})
    assert r.status_code == 429
    body = r.content.decode()
    assert 'class="card narrow" role="alert"' in body
    assert "15" in body  # minutes until retry
    assert "_auth_user_id" not in c.session


def test_logout_is_post_only(worker):
    c = Client()
    c.force_login(worker)
    assert c.get("/logout/").status_code == 405
    r = c.post("/logout/")
    assert r.status_code == 302
    assert c.get("/areas/").status_code == 302


# ------------------------------------------------------------------------------------------ anonymous


def test_anonymous_landing_is_public():
    r = Client().get("/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'href="/login/"' in body
    assert "/areas/" not in body


@pytest.mark.parametrize("path", ["/areas/", "/areas/1/", "/residents/1/", "/audit/"])
def test_anonymous_redirected_to_login(path):
    r = Client().get(path)
    assert r.status_code == 302
    assert r["Location"].startswith("/login/?next=")


# ------------------------------------------------------------------------------------------ pages


def test_home_per_role(personas, city, as_user):
    body = as_user(personas["worker"]).get("/").content.decode()
    assert city["community_a"].path in body
    assert f'href="/areas/{city["community_a"].pk}/"' in body
    assert 'href="/audit/"' not in body
    body = as_user(personas["commander"]).get("/").content.decode()
    assert f'href="/areas/{city["district"].pk}/"' in body
    assert 'href="/audit/"' in body
    body = as_user(personas["auditor"]).get("/").content.decode()
    assert 'href="/audit/"' in body


def test_area_roots(personas, city, as_user):
    body = as_user(personas["worker"]).get("/areas/").content.decode()
    assert f'/areas/{city["community_a"].pk}/' in body
    assert f'/areas/{city["community_b"].pk}/' not in body
    assert f'/areas/{city["street"].pk}/' not in body
    body = as_user(personas["commander"]).get("/areas/").content.decode()
    assert f'/areas/{city["district"].pk}/' in body


def test_area_search_stays_in_scope(personas, city, as_user):
    body = as_user(personas["worker"]).get("/areas/", {"q": "1单元"}).content.decode()
    assert f'/areas/{city["unit_a"].pk}/' in body
    assert f'/areas/{city["unit_b"].pk}/' not in body


def test_area_detail_breadcrumb_links_only_in_scope(personas, city, as_user):
    c = as_user(personas["worker"])
    r = c.get(f'/areas/{city["unit_a"].pk}/')
    assert r.status_code == 200
    body = r.content.decode()
    # The street and district are shown but not linked; the community is linked.
    assert f'href="/areas/{city["street"].pk}/"' not in body
    assert f'href="/areas/{city["district"].pk}/"' not in body
    assert f'href="/areas/{city["community_a"].pk}/"' in body
    # Households with masked residents.
    assert "王**" in body and "王秀英" not in body
    assert "139****0001" in body and "13909310001" not in body
    assert city["resident_a"].id_number not in body
    assert f'href="/residents/{city["resident_a"].pk}/"' in body


def test_area_detail_children(personas, city, as_user):
    body = as_user(personas["commander"]).get(f'/areas/{city["street"].pk}/').content.decode()
    assert f'href="/areas/{city["community_a"].pk}/"' in body
    assert f'href="/areas/{city["community_b"].pk}/"' in body


def test_special_group_badges(personas, city, as_user):
    zh(c := as_user(personas["worker"]))
    body = c.get(f'/areas/{city["unit_a"].pk}/').content.decode()
    assert "80岁以上" in body and "独居" in body


def test_resident_page_masked(personas, city, as_user):
    r = as_user(personas["worker"]).get(f'/residents/{city["resident_a"].pk}/')
    assert r.status_code == 200
    body = r.content.decode()
    assert city["resident_a"].id_number not in body
    assert "13909310001" not in body
    assert 'name="reason"' in body  # the worker may unmask


def test_out_of_scope_worker_gets_404(personas, city, as_user):
    c = as_user(personas["outsider"])
    for path in (f'/areas/{city["community_a"].pk}/', f'/areas/{city["unit_a"].pk}/',
                 f'/areas/{city["street"].pk}/', f'/residents/{city["resident_a"].pk}/', "/areas/999999/"):
        assert c.get(path).status_code == 404, path
    assert c.post(f'/residents/{city["resident_a"].pk}/', {"field": "phone", "reason": "check"}).status_code == 404
    assert not AuditEntry.objects.filter(action="resident.unmask").exists()


def test_audit_page_needs_permission(personas, as_user):
    assert as_user(personas["worker"]).get("/audit/").status_code == 403
    assert as_user(personas["auditor"]).get("/audit/").status_code == 200
    assert as_user(personas["commander"]).get("/audit/").status_code == 200


def test_audit_filters(personas, city, as_user):
    c = as_user(personas["auditor"])
    body = c.get("/audit/", {"action": "area.create"}).content.decode()
    assert "area.create" in body and "resident.create" not in body
    # Audit rows name residents by id only: the search finds a resident's rows by id, never by name.
    body = c.get("/audit/", {"object_type": "resident", "text": str(city["resident_a"].pk)}).content.decode()
    assert "resident.create" in body and "张伟" not in body and "王秀英" not in body
    body = c.get("/audit/", {"object_type": "resident", "text": "王秀英"}).content.decode()
    assert "resident.create" not in body
    body = c.get("/audit/", {"actor": "nobody-like-this"}).content.decode()
    assert "resident.create" not in body
    assert c.get("/audit/", {"date_from": "not-a-date"}).status_code == 200
    # Compact JSON of the change, Chinese unescaped.
    body = c.get("/audit/", {"action": "area.create"}).content.decode()
    assert "城关区" in body and "\\u" not in body


# ------------------------------------------------------------------------------------------ unmask


def test_unmask_writes_one_audit_row(personas, city, as_user):
    c = as_user(personas["worker"])
    res = city["resident_a"]
    before = AuditEntry.objects.count()
    r = c.post(f"/residents/{res.pk}/", {"field": "id_number", "reason": "ambulance dispatch"})
    assert r.status_code == 200
    assert res.id_number in r.content.decode()
    assert "13909310001" not in r.content.decode()
    assert r["Cache-Control"] == "no-store"
    assert AuditEntry.objects.count() == before + 1
    e = AuditEntry.objects.get(action="resident.unmask")
    assert e.actor_name == "worker_a" and e.reason == "ambulance dispatch" and e.object_id == str(res.pk)
    assert e.after == {"field": "id_number"}
    # The next plain view is masked again.
    assert res.id_number not in c.get(f"/residents/{res.pk}/").content.decode()


def test_unmask_needs_reason(personas, city, as_user):
    r = as_user(personas["worker"]).post(f'/residents/{city["resident_a"].pk}/', {"field": "phone", "reason": ""})
    assert r.status_code == 400
    assert not AuditEntry.objects.filter(action="resident.unmask").exists()


def test_unmask_forbidden_for_auditor(personas, city, as_user):
    c = as_user(personas["auditor"])
    page = c.get(f'/residents/{city["resident_a"].pk}/')
    assert page.status_code == 200 and 'name="reason"' not in page.content.decode()
    r = c.post(f'/residents/{city["resident_a"].pk}/', {"field": "phone", "reason": "curious"})
    assert r.status_code == 403
    assert "13909310001" not in r.content.decode()
    assert not AuditEntry.objects.filter(action="resident.unmask").exists()


# ------------------------------------------------------------------------------------------ i18n


def test_language_switch(personas, as_user):
    c = as_user(personas["worker"])
    body = c.get("/").content.decode()
    assert '<html lang="zh-Hans">' in body and "退出登录" in body
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/areas/"})
    assert r.status_code == 302 and r["Location"] == "/areas/"
    body = c.get("/areas/").content.decode()
    assert '<html lang="en">' in body and "Log out" in body and "退出登录" not in body
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "退出登录" in c.get("/").content.decode()


def test_english_is_complete_on_unit_page(personas, city, as_user):
    c = as_user(personas["worker"])
    c.cookies["django_language"] = "en"
    body = c.get(f'/areas/{city["unit_a"].pk}/').content.decode()
    assert "Households" in body and "Aged 80+" in body and "Living alone" in body
    # No Chinese UI text left except data (names, paths) and the language's own name.
    text = re.sub(r"<[^>]+>", " ", body)
    for word in ("户", "居民", "退出"):
        assert word not in text


# ------------------------------------------------------------------------------------------ security


def test_csp_nonce_on_scripts(personas, as_user):
    r = as_user(personas["worker"]).get("/")
    csp = r["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script[^>]*>", r.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert "style=" not in r.content.decode()


def test_static_served_by_app(client):
    r = client.get("/static/cordon/cordon.css")
    assert r.status_code == 200


# ------------------------------------------------------------------------------------------ budgets


@pytest.fixture
def big_unit(city):
    import datetime as dt

    from cordon.core import ids
    from cordon.places.actions import do_create_resident, do_get_or_create_household

    unit = city["unit_a"]
    seq = 100
    for n in range(30):
        hh = do_get_or_create_household(unit, f"{n // 4 + 1}{n % 4 + 1:02d}", actor="test")
        for k in range(3):
            seq += 1
            do_create_resident(hh, {"name": f"测试{seq}", "id_number": ids.make_id_number(
                "620102", dt.date(1950 + k * 20, 1 + n % 12, 1 + k), seq, "F")}, actor="test")
    return unit


def test_area_page_query_budget(personas, city, big_unit, as_user, django_assert_max_num_queries):
    c = as_user(personas["worker"])
    c.get("/")  # warm the session
    with django_assert_max_num_queries(12):
        r = c.get(f"/areas/{big_unit.pk}/")
    assert r.status_code == 200
    assert r.content.decode().count('class="card household"') == 20  # first page
    with django_assert_max_num_queries(12):
        assert c.get(f"/areas/{big_unit.pk}/", {"page": 2}).status_code == 200
    with django_assert_max_num_queries(10):
        assert c.get(f'/areas/{city["community_a"].pk}/').status_code == 200


def test_list_pages_query_budget(personas, city, big_unit, as_user, django_assert_max_num_queries):
    c = as_user(personas["commander"])
    c.get("/")
    with django_assert_max_num_queries(10):
        assert c.get("/audit/").status_code == 200
    with django_assert_max_num_queries(10):
        assert c.get("/areas/", {"q": "单元"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert c.get("/").status_code == 200


def test_search_below_an_area(personas, city, as_user):
    c = as_user(personas["commander"])
    body = c.get(f'/areas/{city["community_a"].pk}/', {"q": "1单元"}).content.decode()
    assert f'/areas/{city["unit_a"].pk}/' in body
    assert f'/areas/{city["unit_b"].pk}/' not in body  # another community
    # An out-of-scope node cannot be searched below at all.
    assert as_user(personas["outsider"]).get(f'/areas/{city["community_a"].pk}/', {"q": "1"}).status_code == 404


def test_favicon_points_at_the_site_icon(db):
    """A browser asks /favicon.ico on an answer with no icon of its own (a JSON file): it gets the site's icon,
    signed in or not, instead of a 404."""
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)

"""One end-to-end run in Debian's Chromium (Playwright, sync API): a community worker logs in, switches
the language to English and back, and browses from home through the tree down to a unit's households.

Skipped, with the reason printed, where /usr/bin/chromium is absent, unless CORDON_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CORDON_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("CORDON_REQUIRE_BROWSER", "") in ("1", "true", "yes")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def require_chromium():
    """Playwright's ``sync_playwright``, or the test skipped (failed under CORDON_REQUIRE_BROWSER=1) with the
    reason printed where Chromium or Playwright is absent."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium); set CORDON_REQUIRE_BROWSER=1 to fail"
        if REQUIRED:
            pytest.fail(reason)
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover
        if REQUIRED:
            raise
        pytest.skip(f"playwright not installed: {exc}")
    return sync_playwright


def launch(p):
    """Debian's Chromium, headless, from Playwright ``p``."""
    return p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)


@pytest.fixture
def browser():
    sync_playwright = require_chromium()
    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()
            # Inside sync_playwright the test runs in another context, so Django's per-context connections
            # opened by the fixtures and the test are not the ones seen outside it: close them here, or they
            # stay open and PostgreSQL refuses to drop the test database at the end of the session.
            from django.db import connections
            connections.close_all()


def logged_in(browser, url: str, user, width: int, height: int, *, then: str = "/", **options):  # noqa: F811
    """A page of the given size (in a context of its own, with Playwright's ``options``), logged in as ``user`` and
    sent on to ``then``, and the list its console and page errors go to."""
    errors: list[str] = []
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN", **options)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login/" + ("" if then == "/" else f"?next={then}"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + then)
    return page, errors


def test_worker_logs_in_switches_language_and_browses_to_unit(live_server, browser, city, worker):
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url

    # Log in (the first visit is in Chinese, the primary language).
    page.goto(url + "/login/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.fill("#id_username", worker.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")
    assert "您好" in page.locator("h1").inner_text()

    # On a phone the navigation is collapsed behind the menu button.
    nav_link = page.locator("#site-nav a[href='/areas/']")
    assert not nav_link.is_visible()
    page.click(".nav-toggle")
    assert nav_link.is_visible()

    # Switch to English, then back to Chinese.
    page.click("button.lang-btn[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Hello" in page.locator("h1").inner_text()
    page.click(".nav-toggle")
    page.click("button.lang-btn[value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"

    # Home -> the community tile -> down the tree to the unit.
    page.click(f"a.tile[href='/areas/{city['community_a'].pk}/']")
    page.wait_for_url(f"{url}/areas/{city['community_a'].pk}/")
    for name in ("五泉小区", "1号楼", "1单元"):
        page.click(f"ul.children a:has-text('{name}')")
        page.wait_for_load_state()
        assert name in page.locator("h1").inner_text()
    assert page.url == f"{url}/areas/{city['unit_a'].pk}/"

    # The unit shows its households with masked residents and special-group badges.
    households = page.locator("article.household")
    assert households.count() == 1
    text = households.first.inner_text()
    assert "101" in text and "王**" in text and "80岁以上" in text
    assert "王秀英" not in page.content()

    # A resident page opens from there, still masked.
    page.click("a.res-name:text-is('王**')")
    page.wait_for_load_state()
    assert "王秀英" in page.locator("h1").inner_text()
    assert city["resident_a"].id_number not in page.content()
    assert not errors, errors


def test_upload_form_shows_only_the_chosen_kinds_fields(live_server, browser, commander):  # noqa: F811
    """The "Files in" form: the round appears for registrations only, the series for counts only."""
    page, errors = logged_in(browser, live_server.url, commander, 360, 800)
    page.goto(live_server.url + "/uploads/")
    rnd, series = page.locator("select[name=round]"), page.locator("input[name=series]")
    shown = {}
    for kind in ("residents", "samples", "results", "counts"):
        page.select_option("select[name=kind]", kind)
        shown[kind] = (rnd.is_visible(), series.is_visible())
    assert shown == {"residents": (False, False), "samples": (True, False), "results": (False, False),
                     "counts": (False, True)}
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 and not errors, errors

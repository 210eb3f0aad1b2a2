"""Resources and playbook pages on a 360 px phone, in Chinese and English, as a street officer and a
community worker: nothing overflows the screen; the worker checks a step of a task's playbook by touch
(Debian's Chromium through Playwright; skipped with the reason printed where it is absent, unless
CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import os

import pytest

from tests.browser.test_browser import browser  # noqa: F401
from tests.cases._cfixtures import cases  # noqa: F401
from tests.resources._rfixtures import res  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
PAGES = ["/resources/", "/resources/people/", "/resources/teams/", "/resources/vehicles/", "/resources/labs/",
         "/resources/areas/", "/resources/shifts/new/", "/resources/people/new/", "/playbooks/",
         "/playbooks/seal_unit/", "/playbooks/hotline_medical/"]


def _login(browser, url, username, locale):  # noqa: F811
    from tests.conftest import PASSWORD

    context = browser.new_context(locale=locale, **PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page, errors


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_pages_fit_a_phone(live_server, browser, city, res, locale):  # noqa: F811
    from tests.conftest import _user

    _user("street_a", "street_officer", city["street"])
    page, errors = _login(browser, live_server.url, "street_a", locale)
    if locale == "en-US":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    wide = []
    for path in PAGES:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            wide.append((path, width))
    assert wide == [] and errors == []


def test_worker_checks_a_playbook_step_on_a_phone(live_server, browser, city, worker, cases):  # noqa: F811
    from cordon.playbooks.models import StepCheck

    page, errors = _login(browser, live_server.url, worker.username, "zh-CN")
    inf, t = cases["infection_a"], cases["task_a"]
    page.goto(live_server.url + f"/cases/infections/{inf.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    task = page.locator(f"#task-{t.pk}")
    with page.expect_navigation():
        task.locator("form:has(input[name=step][value=s1]) button").tap()
    assert StepCheck.objects.get().step == "s1"
    assert "worker_a" in page.locator(f"#task-{t.pk}").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []

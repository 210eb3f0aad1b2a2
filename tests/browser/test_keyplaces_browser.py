"""A key-place manager runs their nursing home from a phone (360 px, Chromium): the place's page fits the
screen, today's tests are listed, and a test result recorded through the form clears the person's due.
Skipped, with the reason printed, where Chromium is absent (unless CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_records_a_test_on_a_phone(live_server, browser, city):  # noqa: F811
    from cordon.core import clock
    from cordon.core.actions import do_create_user
    from cordon.keyplaces import actions as ka
    from cordon.keyplaces.models import SiteTest
    from cordon.places.models import Area

    compound = Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区")
    do_create_user("kpm", PASSWORD, role="keyplace_manager", area=compound, actor="test")
    today = clock.today()
    home = ka.do_register_place(ref="NH1", name="五泉养老院", kind="nursing_home", area=compound,
                                counts={"residents": 80}, actor="test", on=today - dt.timedelta(days=1))
    ka.do_set_place_status(home, status="closed_loop", reason="闭环", on=today, actor="test")
    ka.do_add_person(home, name="护工甲", role="staff", on=today, actor="test")

    errors: list[str] = []
    page = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN", is_mobile=True, has_touch=True)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    page.goto(url + "/login/")
    page.fill("#id_username", "kpm")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")
    for path in ("/keyplaces/", f"/keyplaces/{home.pk}/"):
        page.goto(url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    assert "今日应检" in page.content() or "应检" in page.content()
    page.select_option("#id_test-result", "negative")
    page.locator("form[action$='/do/test/'] button[type=submit]").click()
    page.wait_for_url(url + f"/keyplaces/{home.pk}/")
    assert "检测结果已记录" in page.locator(".messages").inner_text()
    assert SiteTest.objects.get().result == "negative"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not errors, errors

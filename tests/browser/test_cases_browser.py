"""A community worker opens the people-under-orders list on a phone and records a check-in (Debian's
Chromium through Playwright; skipped with the reason printed where it is absent, unless
CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import os

import pytest

from tests.browser.test_browser import browser  # noqa: F401
from tests.cases._cfixtures import cases  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_records_a_checkin_on_a_phone(live_server, browser, city, worker, cases):  # noqa: F811
    from cordon.cases.models import CheckIn
    from tests.conftest import PASSWORD

    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    page.goto(url + "/login/")
    page.fill("#id_username", worker.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")

    # The menu leads to the list of people under orders.
    page.click(".nav-toggle")
    page.click("#site-nav a[href='/cases/contacts/']")
    page.wait_for_url(url + "/cases/contacts/")
    assert "管控人员" in page.locator("h1").inner_text()
    order = cases["order_a"]
    card = page.locator(f"#order-{order.pk}")
    assert "C-K1" in card.inner_text() and "集中隔离" in card.inner_text()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    card.locator("details.checkin summary").click()
    card.locator("input[name=temperature]").fill("36.8")
    card.locator("select[name=test_result]").select_option("negative")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"#order-{order.pk}")
    assert "已记录 C-K1 的健康打卡" in page.locator(".messages").inner_text()
    assert "今日已打卡" in page.locator(f"#order-{order.pk}").inner_text()
    ck = CheckIn.objects.get(order=order)
    assert str(ck.temperature) == "36.8" and ck.test_result == "negative" and ck.actor == worker.username
    assert not errors, errors

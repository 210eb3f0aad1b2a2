"""People services end to end in Debian's Chromium: a medical dispatcher works the board on a phone (most
urgent first, dispatches the critical request through the green channel from a sealed unit), and a member
of the public sends a request through the hotline form and looks up only their own ticket.
Skipped, with the reason printed, where Chromium is absent (unless CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")


def test_dispatcher_board_orders_and_dispatches(live_server, browser, city):  # noqa: F811
    from cordon.care import actions as ca
    from cordon.care.models import CareRequest
    from cordon.core.actions import do_create_user
    from cordon.zones.actions import do_designate

    do_create_user("disp", PASSWORD, role="medical_dispatcher", area=None, actor="test")
    do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    ca.do_add_hospital("兰州市第一人民医院", actor="test")
    ca.do_add_vehicle("甘A·120A1", actor="test")
    elderly = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
    crit = ca.do_create_request(person="李建国", area=city["unit_a"], need="胸痛", actor="test")
    labour = ca.do_create_request(person="张伟", area=city["unit_b"], need="labour", actor="test")

    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    _login(page, url, "disp")
    page.goto(url + "/care/")
    refs = page.locator("li.care-item").evaluate_all("els => els.map(e => e.dataset.ref)")
    assert refs == [crit.ref, labour.ref, elderly.ref]
    first = page.locator("li.care-item").first
    assert "危重症" in first.inner_text() and "封控区" in first.inner_text()
    assert "王秀英" not in page.content()                      # names are masked on the board
    first.locator("a.care-ref").click()
    page.wait_for_url(url + f"/care/requests/{crit.pk}/")
    page.select_option("#id_dispatch-vehicle", label="甘A·120A1 ")
    page.locator("form.dispatch-form button[type=submit]").click()
    page.wait_for_url(url + f"/care/requests/{crit.pk}/")
    assert "已派车" in page.locator(".messages").inner_text()
    assert CareRequest.objects.get(pk=crit.pk).status == "dispatched"
    page.goto(url + "/care/")
    assert "甘A·120A1" in page.locator("li.care-item").first.inner_text()
    assert not errors, errors


def test_public_hotline_form_and_own_status(live_server, browser, city):  # noqa: F811
    from cordon.hotline import actions as ha
    from cordon.hotline.models import Ticket

    other = ha.do_create_ticket(phone="13909319999", category="complaint", text="别人的投诉 SECRET", actor="test")
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    page.goto(url + "/public/hotline")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.fill("#id_caller", "王女士")
    page.fill("#id_phone", "13909310042")
    page.select_option("#id_category", "supplies")
    page.fill("#id_location", city["unit_a"].path)
    page.fill("#id_text", "家里老人需要降压药")
    page.locator("form.public-hotline-form button[type=submit]").click()
    number = page.locator("#ticket-number").inner_text().strip()
    t = Ticket.objects.get(number=number)
    assert t.source == "web" and t.phone == "13909310042" and t.community_id == city["community_a"].pk
    page.locator("a.btn").filter(has_text="查询办理情况").click()
    page.fill("#id_number", number)
    page.fill("#id_last4", "0042")
    page.locator("form.desk-form button[type=submit]").click()
    assert page.locator("#ticket-status").inner_text() == "待首次响应"
    html = page.content()
    assert "SECRET" not in html and other.number not in html and "13909310042" not in html
    # Someone else's ticket with my digits: nothing shown.
    page.fill("#id_number", other.number)
    page.fill("#id_last4", "0042")
    page.locator("form.desk-form button[type=submit]").click()
    assert page.locator("#ticket-status").count() == 0 and "SECRET" not in page.content()
    assert not errors, errors

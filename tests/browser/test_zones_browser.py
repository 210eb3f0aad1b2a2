"""Risk areas end to end in Debian's Chromium: an infection proposes a designation, the commander confirms
it with one click on the command view, and the public page (no login) then lists the area, without any
personal data. Skipped, with the reason printed, where Chromium is absent (unless CORDON_REQUIRE_BROWSER=1).
"""
from __future__ import annotations

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD, without_random_tokens

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commander_confirms_proposal_and_public_page_shows_it(live_server, browser, city, commander):  # noqa: F811
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    do_record_infection(label="P1", home=city["unit_a"], found="community", confirmed_on=clock.today(),
                        resident=city["resident_a"], actor=commander)
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    path = city["unit_a"].path

    # Before: the public page does not list the area.
    page.goto(url + "/public/risk-areas")
    assert path not in page.locator("main").inner_text()

    page.goto(url + "/login/")
    page.fill("#id_username", commander.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")

    page.goto(url + "/zones/")
    proposal = page.locator("li.proposal")
    assert proposal.count() == 1 and path in proposal.inner_text() and "P1" in proposal.inner_text()
    proposal.locator("button.confirm").click()
    page.wait_for_url(url + "/zones/")
    assert page.locator("li.proposal").count() == 0
    assert "已确认" in page.locator(".messages").inner_text()
    card = page.locator("article.zone-card")
    assert card.count() == 1 and path in card.inner_text() and "高风险区" in card.inner_text()

    # The public page, in a fresh context without the session, now lists it without personal data.
    anon = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    anon.goto(url + "/public/risk-areas")
    text = anon.locator("main").inner_text()
    assert path in text and "高风险区" in text
    html = without_random_tokens(anon.content())
    for secret in ("P1", "王秀英", city["resident_a"].id_number):
        assert secret not in html
    assert not errors, errors

"""The situation page and the public lookup in Debian's Chromium: the command centre's charts render as SVG
with bars and the Rt line, and a resident without a login finds their building's status by typing its
address. Skipped, with the reason printed, where Chromium is absent (unless CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.browser.test_browser import logged_in
from tests.conftest import without_random_tokens
from tests.situation._sfixtures import DAY, situation_records

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _records(city):
    import datetime as dt

    from cordon.cases.actions import do_record_infection

    recs = situation_records(city)
    # a few more days of cases so Rt has windows to show
    for i in range(2, 12):
        do_record_infection(label=f"W-{i}", home=city["unit_b"], found="controlled_area",
                            confirmed_on=DAY - dt.timedelta(days=i), actor="test")
    return recs


def test_situation_page_renders_charts(live_server, browser, city, commander):  # noqa: F811
    _records(city)
    url = live_server.url
    page, errors = logged_in(browser, url, commander, 390, 844)
    page.goto(f"{url}/situation/?on={DAY}&days=30")
    curve = page.locator("svg#sit-curve")
    rt = page.locator("svg#sit-rt")
    assert curve.count() == 1 and rt.count() == 1
    assert curve.locator("rect.bar").count() >= 5
    assert rt.locator("polyline.mean").count() == 1 and rt.locator("polygon.band").count() == 1
    box = curve.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 60  # drawn, and fits a phone
    assert box["width"] <= 390
    assert curve.get_attribute("role") == "img"
    assert page.locator("#kpi-new").inner_text().strip() == "5"
    page.locator("details.data-table summary").first.click()
    assert page.locator("details.data-table table").first.is_visible()
    assert not errors, errors


def test_public_lookup_finds_building_status(live_server, browser, city):  # noqa: F811
    _records(city)
    from cordon.situation import public

    public.invalidate()
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/public/")
    page.fill("#hub-q", "五泉小区 1号楼 1单元")
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_url("**/public/lookup?q=*")
    result = page.locator("section.lookup-result").first
    assert result.get_attribute("data-status") == "high"
    text = result.inner_text()
    assert "五泉小区/1号楼/1单元" in text and "高风险区" in text and DAY.isoformat() in text
    html = without_random_tokens(page.content())
    for secret in ("D-1", "王秀英", city["resident_a"].id_number):
        assert secret not in html
    page.fill("#q", "白银小区2号楼")
    page.click("form.lookup-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("section.lookup-result").first.get_attribute("data-status") == "none"
    assert not errors, errors


def test_situation_report_pages_fit_a_360_px_phone(live_server, browser, city, commander):  # noqa: F811
    """The daily close (its figures' tables, the districts' sign-off), the situation page, a district's page, the counts
    and the bulletins: nothing is wider than a 360 px phone (report tables stack their cells under labels)."""
    recs = _records(city)
    from cordon.situation.actions import do_draft_bulletin

    import datetime as dt

    from cordon.zones import actions as za

    do_draft_bulletin(DAY, actor=commander)  # the bulletins list has a row
    # a kept area past its due day: the daily close of DAY + 8 lists its flag (rule and district in long notes)
    later = DAY + dt.timedelta(days=8)
    za.do_record_round(recs["designation"], on=DAY + dt.timedelta(days=7), result="negative", actor=commander)
    za.do_keep(recs["designation"], on=DAY + dt.timedelta(days=7), reason="assessment pending", actor=commander)
    assert za.do_tick(later)["flags"] == 1

    url = live_server.url
    page, errors = logged_in(browser, url, commander, 360, 800)
    district = city["district"].pk
    widths = {}
    for path in (f"/situation/daily/{DAY}/", f"/situation/daily/{later}/", f"/situation/?on={DAY}&days=30", f"/situation/district/{district}/?on={DAY}",
                 "/situation/counts/", "/situation/bulletins/"):
        page.goto(url + path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert widths == {path: w for path, w in widths.items() if w <= 360}, widths
    page.goto(f"{url}/situation/daily/{later}/")
    assert "nine-prohibitions-3" in page.locator("main").inner_text()
    cell = page.locator("table.daily td.num").first
    assert cell.get_attribute("data-label") and cell.is_visible()
    assert not errors, errors

"""Designating from the map in Debian's Chromium: a community worker opens the map on a building, clicks it,
selects a unit, sees who lives inside and the guardrail flag, confirms; the designation is zones' own. The
public map then draws it. Skipped, with the reason printed, where Chromium is absent (unless
CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_clicks_a_unit_and_designates_it(live_server, browser, city, worker):  # noqa: F811
    from cordon.maps.actions import do_generate_shapes
    from cordon.zones.models import Designation

    do_generate_shapes(actor="test")
    unit = city["unit_a"]
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = live_server.url
    page.goto(url + "/login/")
    page.fill("#id_username", worker.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(url + "/")

    page.goto(url + f"/maps/?at={unit.pk}")
    building = page.locator(f'path[data-layer="basemap"][data-area="{unit.building_id}"]')
    building.wait_for()
    assert page.evaluate("window.cordonMap.getZoom()") >= 15
    building.click()
    page.locator(f'button[data-select="{unit.pk}"]').click()
    assert "1号楼1单元" in page.locator("#selection").inner_text()
    page.locator("#propose").click()
    page.wait_for_url(f"**/maps/designate/?areas={unit.pk}")
    row = page.locator("tr.selected-area")
    assert row.count() == 1 and unit.path in row.inner_text()
    assert "80岁以上 1" in row.inner_text()
    assert page.locator('li.flag[data-rule="nine-prohibitions-1"]').count() == 1
    page.fill("#id_reason", "P7 lives here")
    page.fill("#id_exposure_note", "P7")
    page.locator("button[name=confirm]").click()
    page.wait_for_url(url + "/zones/")
    d = Designation.objects.get(area=unit)
    assert d.level == "high" and d.created_by == worker.username

    anon = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    anon.goto(url + "/public/map")
    anon.locator('#map[data-loaded="1"]').wait_for()
    assert anon.locator("path.leaflet-interactive").count() == 1
    assert not errors, errors

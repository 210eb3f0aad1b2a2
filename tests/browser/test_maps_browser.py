"""Designating from the map in Debian's Chromium: a community worker opens the map on a building, clicks it,
selects a unit, sees who lives inside and the guardrail flag, confirms; the designation is zones' own. The
public map then draws it. Skipped, with the reason printed, where Chromium is absent (unless
CORDON_REQUIRE_BROWSER=1)."""
from __future__ import annotations

import pytest

from tests.browser.test_browser import browser, logged_in  # noqa: F401  (the shared launch fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_clicks_a_unit_and_designates_it(live_server, browser, city, worker):  # noqa: F811
    from cordon.maps.actions import do_generate_shapes
    from cordon.zones.models import Designation

    do_generate_shapes(actor="test")
    unit = city["unit_a"]
    url = live_server.url
    page, errors = logged_in(browser, url, worker, 390, 844)

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
    assert anon.locator("path.map-risk").count() == 1
    assert not errors, errors


def _screen(page, lng: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a point on the map."""
    return tuple(page.evaluate(
        """([lng, lat]) => { const m = window.cordonMap, p = m.latLngToContainerPoint([lat, lng]),
             r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""", [lng, lat]))


def _shift(shape, to, dx: float, dy: float) -> None:
    """Put ``shape`` where ``to`` is, moved by (dx, dy) degrees."""
    import json

    def move(c):
        return [c[0] + dx, c[1] + dy] if isinstance(c[0], (int, float)) else [move(x) for x in c]

    g = json.loads(to.geometry)
    g["coordinates"] = move(g["coordinates"])
    shape.geometry = json.dumps(g)
    shape.outline = ""
    shape.cx, shape.cy = to.cx + dx, to.cy + dy
    shape.x0, shape.x1, shape.y0, shape.y1 = to.x0 + dx, to.x1 + dx, to.y0 + dy, to.y1 + dy
    shape.save()


def test_worker_lassos_buildings_and_sees_them_in_the_preview(live_server, browser, city, worker):  # noqa: F811
    """Drawn by dragging, and again by clicking corners: the buildings whose label point lies inside the ring are
    selected (no other), and the preview lists them with who lives inside. The legend is there, and the public
    map draws the districts' outlines."""
    from cordon.maps.actions import do_generate_shapes
    from cordon.maps.models import Shape
    from cordon.places.actions import do_ensure_area

    near = [do_ensure_area(f"城关区/皋兰路街道/五泉社区/五泉小区/{b}/1单元", actor="test").building_id
            for b in ("2号楼", "3号楼")]  # neighbours in unit A's compound, for the lasso to leave out
    do_generate_shapes(actor="test")
    unit = city["unit_a"]
    target = Shape.objects.get(area_id=unit.building_id)
    for b, (dx, dy) in zip(near, ((0.0012, 0.0), (0.0, 0.0009))):  # moved next to it: ~100 m east, ~100 m north
        _shift(Shape.objects.get(area_id=b), target, dx, dy)
    url = live_server.url
    page, errors = logged_in(browser, url, worker, 390, 844)
    page.goto(url + f"/maps/?at={unit.pk}")
    page.locator(f'path[data-layer="basemap"][data-area="{unit.building_id}"]').wait_for()
    assert "图例" in page.locator(".map-legend").inner_text() and "高风险区" in page.locator(".map-legend").inner_text()
    page.evaluate(f"window.cordonMap.setView([{target.cy}, {target.cx}], 16, {{animate: false}})")
    page.wait_for_function("""() => { let n = 0; window.cordonMap.eachLayer(l => { const p = l.feature && l.feature.properties;
        if (p && p.kind === "building") { n += 1; } }); return n >= 3; }""")
    x, y = _screen(page, target.cx, target.cy)
    # the buildings drawn: the ring (a square of half-side r around the target's label point) is cut to half the
    # distance to the nearest other one, so it holds the target alone
    others = page.evaluate("""() => { const out = []; window.cordonMap.eachLayer(l => { const p = l.feature && l.feature.properties;
        if (p && p.kind === "building") { out.push([p.area, p.label[0], p.label[1]]); } }); return out; }""")
    near = [max(abs(sx - x), abs(sy - y)) for sx, sy in (_screen(page, lng, lat) for a, lng, lat in others
                                                         if a != unit.building_id)]
    assert near, others
    r = min(40.0, min(near) / 2)
    assert r > 8, near
    expected = {unit.building_id}

    page.locator("#lasso").click()
    assert page.locator("#lasso").get_attribute("aria-pressed") == "true"
    page.evaluate("document.getElementById('map').scrollIntoView()")  # the button scrolled the page
    x, y = _screen(page, target.cx, target.cy)
    page.mouse.move(x - r, y - r)
    page.mouse.down()
    corners = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r), (x - r, y - r)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        for i in range(1, 9):
            page.mouse.move(x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8)
    page.mouse.up()
    assert page.locator("#lasso").get_attribute("aria-pressed") == "false"
    assert page.locator("path.map-lasso").count() == 1
    chosen = {int(v) for v in page.locator("#selection-areas").input_value().split(",") if v}
    assert chosen == expected and len(others) > 1, (chosen, others)
    assert page.locator("#lasso-status").inner_text().endswith("1")
    assert page.evaluate("window.cordonMap.dragging.enabled()")

    page.locator("#clear-selection").click()
    assert page.locator("#selection-areas").input_value() == "" and page.locator("path.map-lasso").count() == 0
    page.locator("#lasso").click()  # now by corners: four clicks, then the button closes the ring
    page.evaluate("document.getElementById('map').scrollIntoView()")
    x, y = _screen(page, target.cx, target.cy)
    for cx, cy in ((x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)):
        page.mouse.click(cx, cy)
    page.locator("#lasso").click()
    chosen = {int(v) for v in page.locator("#selection-areas").input_value().split(",") if v}
    assert chosen == expected, (chosen, others)

    page.locator("#propose").click()
    page.wait_for_url("**/maps/designate/?areas=*")
    rows = page.locator("tr.selected-area")
    assert rows.count() == len(chosen)
    assert any(unit.building.path in rows.nth(i).inner_text() for i in range(rows.count()))
    assert not errors, errors

    anon = browser.new_page(viewport={"width": 360, "height": 740}, locale="en")
    anon.goto(url + "/public/map")
    anon.locator('#map[data-loaded]').wait_for(state="attached")
    districts = Shape.objects.filter(kind="district").count()
    assert districts and anon.locator("path.map-district").count() == districts
    assert "Legend" in anon.locator(".map-legend").inner_text()


def test_zoom_buttons_speak_the_pages_language(live_server, browser, city, worker):  # noqa: F811
    """Leaflet's zoom buttons are titled (tooltip and accessible name) in the page's language on the map, the
    situation page's map panel and the public map: Leaflet's own titles are English."""
    from cordon.maps.actions import do_generate_shapes

    do_generate_shapes(actor="test")
    url = live_server.url
    page, errors = logged_in(browser, url, worker, 360, 780)
    anon = browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
    for p, path in ((page, "/maps/"), (page, "/situation/"), (anon, "/public/map")):
        p.goto(url + path)
        zoom_in = p.locator(".leaflet-control-zoom-in")
        zoom_in.wait_for()
        titles = [(p.locator(f".leaflet-control-zoom-{b}").get_attribute("title"),
                   p.locator(f".leaflet-control-zoom-{b}").get_attribute("aria-label")) for b in ("in", "out")]
        assert titles == [("放大", "放大"), ("缩小", "缩小")], (path, titles)
    assert not errors, errors

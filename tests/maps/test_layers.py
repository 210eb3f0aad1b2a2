"""The map's layers: scoped to the user's jurisdiction, points city-wide and shapes at building zoom, bad input
answered 400 with its field (issue 19 parts 2 and 3)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _layer(user, name, **params):
    resp = client_for(user).get(f"/api/maps/layers/{name}", params)
    return resp, (json.loads(resp.content) if resp.status_code == 200 else None)


def _around(area, pad=0.0005):
    from cordon.maps.queries import area_shape

    s = area_shape(area)
    return {"west": s.x0 - pad, "south": s.y0 - pad, "east": s.x1 + pad, "north": s.y1 + pad, "zoom": 17}


def test_city_wide_risk_layer_is_points_within_the_jurisdiction(mapped, commander, worker, outsider):
    _r, fc = _layer(commander, "risk", zoom=10)
    assert sorted(f["properties"]["id"] for f in fc["features"]) == sorted([mapped["d_a"].pk, mapped["d_b"].pk])
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Point"}
    _r, mine = _layer(worker, "risk", zoom=10)
    assert [f["properties"]["id"] for f in mine["features"]] == [mapped["d_a"].pk]
    _r, theirs = _layer(outsider, "risk", zoom=10)
    assert [f["properties"]["id"] for f in theirs["features"]] == [mapped["d_b"].pk]


def test_building_zoom_draws_the_building_with_its_sealed_unit(mapped, worker, outsider):
    view = _around(mapped["unit_a"])
    _r, fc = _layer(worker, "risk", **view)
    assert len(fc["features"]) == 1
    f = fc["features"][0]
    assert f["geometry"]["type"] == "Polygon"
    assert f["properties"]["area"] == mapped["unit_a"].building_id
    assert [it["path"] for it in f["properties"]["items"]] == [mapped["unit_a"].path]
    assert f["properties"]["items"][0]["url"] == f"/zones/{mapped['d_a'].pk}/"
    # the other community's worker sees nothing there: neither the designation nor the buildings
    _r, none = _layer(outsider, "risk", **view)
    assert none["features"] == []
    _r, base = _layer(outsider, "basemap", **view)
    assert mapped["unit_a"].building_id not in {f["properties"]["area"] for f in base["features"]}
    _r, base = _layer(worker, "basemap", **view)
    building = [f for f in base["features"] if f["properties"]["area"] == mapped["unit_a"].building_id][0]
    assert building["properties"]["units"] == [[mapped["unit_a"].pk, "1单元"]]


def test_basemap_outlines_nothing_outside_the_jurisdiction(mapped, outsider):
    _r, fc = _layer(outsider, "basemap", zoom=13)
    areas = {f["properties"]["area"] for f in fc["features"]}
    assert mapped["community_b"].pk in areas and mapped["community_a"].pk not in areas
    assert mapped["district"].pk in areas  # the outline of the nodes above the grant


def test_counts_layers(mapped, commander, worker, outsider):
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    do_record_infection(label="P1", home=mapped["unit_a"], resident=mapped["resident_a"], found="community",
                        confirmed_on=clock.today(), actor=commander)
    _r, fc = _layer(commander, "infections", **_around(mapped["unit_a"]))
    assert [(f["properties"]["area"], f["properties"]["infections"]) for f in fc["features"]] == [
        (mapped["unit_a"].building_id, 1)]
    assert "resident" not in json.dumps(fc) and "101" not in json.dumps(fc["features"][0]["properties"])
    _r, fc = _layer(outsider, "infections", zoom=10)
    assert fc["features"] == []
    # 王秀英 (aged 80+, living alone) lives in sealed unit A
    _r, fc = _layer(worker, "special", **_around(mapped["unit_a"]))
    assert [f["properties"]["special"] for f in fc["features"]] == [1]
    _r, fc = _layer(outsider, "special", zoom=10)
    assert fc["features"] == []


@pytest.mark.parametrize("params, field", [
    ({"west": 104, "east": 103}, "east"),
    ({"south": 37, "north": 36}, "north"),
    ({"zoom": 99}, "zoom"),
    ({"west": "x"}, "west"),
    ({"north": "nan"}, "north"),
])
def test_bad_viewport_is_400_with_its_field(mapped, commander, params, field):
    resp, _fc = _layer(commander, "risk", **params)
    assert resp.status_code == 400
    assert json.loads(resp.content)["field"] == field


def test_layers_the_role_does_not_read(mapped):
    from tests.conftest import _user

    hotline = _user("hl", "hotline_operator", None)
    assert _layer(hotline, "infections", zoom=10)[0].status_code == 404
    assert _layer(hotline, "risk", zoom=10)[0].status_code == 200
    employer = _user("emp", "employer_contact", None)
    assert _layer(employer, "risk", zoom=10)[0].status_code == 403
    assert client_for(None).get("/api/maps/layers/risk").status_code == 401
    assert _layer(hotline, "nosuchlayer")[0].status_code in (400, 422)


def test_map_page(mapped, worker, commander):
    html = client_for(worker).get("/maps/").content.decode()
    assert 'id="map"' in html and "leaflet.js" in html and 'value="infections"' in html
    assert 'id="selection"' in html  # community workers designate in their community
    assert client_for(None).get("/maps/").status_code in (302, 403)


@pytest.mark.parametrize("role", ["commander", "worker"])
def test_fuzz_layers(mapped, commander, worker, role):
    """The layers' operation under the API fuzzer (the whole-API fuzz covers it too; this one runs on a city with
    shapes and designations): no server error, answers conforming to the schema."""
    from tests.core.test_api_fuzz import fuzz

    out = fuzz({"commander": commander, "worker": worker}[role], examples=40, only="/api/maps/layers/{name}")
    assert out["counts"]["operations"] == 1
    assert not out["failures"], "\n\n".join(out["failures"])


def test_city_wide_layer_follows_a_new_designation(mapped, commander):
    from cordon.places.actions import do_ensure_area
    from cordon.zones.actions import do_designate, do_lift

    _r, before = _layer(commander, "risk", zoom=10)
    unit2 = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元", actor="test")
    d = do_designate(unit2, "medium", reason="P3 stayed here", exposure_note="P3", actor=commander)
    _r, after = _layer(commander, "risk", zoom=10)
    assert len(after["features"]) == len(before["features"]) + 1
    assert d.pk in {f["properties"]["id"] for f in after["features"]}
    do_lift(mapped["d_b"], reason="assessed", actor=commander)
    _r, lifted = _layer(commander, "risk", zoom=10)
    assert mapped["d_b"].pk not in {f["properties"]["id"] for f in lifted["features"]}

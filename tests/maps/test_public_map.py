"""The public map and its GeoJSON show exactly the public risk-area list (issue 19 part 4)."""
from __future__ import annotations

import json

import pytest
import shapely
from django.test import Client
from shapely.geometry import shape

pytestmark = pytest.mark.django_db


def _geojson(q: str = "") -> dict:
    resp = Client().get("/public/risk-areas.geojson", {"q": q} if q else {})
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/geo+json"
    assert resp["Access-Control-Allow-Origin"] == "*"
    return json.loads(resp.content)


def _list(q: str = "") -> list[dict]:
    resp = Client().get("/public/risk-areas.json", {"q": q} if q else {})
    return json.loads(resp.content)["areas"]


def test_geojson_is_the_public_list_exactly(mapped):
    fc = _geojson()
    assert fc["type"] == "FeatureCollection"
    listed = _list()
    assert len(listed) == 2
    got = [(f["properties"]["path"], f["properties"]["level"], f["properties"]["since"]) for f in fc["features"]]
    assert got == [(a["area"], a["level"], a["since"]) for a in listed]
    assert set(fc["features"][0]["properties"]) == {"path", "level", "since", "next_on"}
    for f in fc["features"]:
        g = shape(f["geometry"])
        assert g.is_valid and shapely.is_ccw(g.exterior)  # RFC 7946 right-hand rule
        lon, lat = g.representative_point().coords[0]
        assert 102.4 <= lon <= 104.6 and 35.5 <= lat <= 37.1  # WGS 84, Lanzhou


def test_geojson_follows_a_search_and_lifts_like_the_list(mapped, commander):
    from cordon.zones.actions import do_lift

    assert [f["properties"]["path"] for f in _geojson("白银")["features"]] == [a["area"] for a in _list("白银")]
    do_lift(mapped["d_b"], reason="assessed", actor=commander)
    paths = [f["properties"]["path"] for f in _geojson()["features"]]
    assert paths == [a["area"] for a in _list()] == [mapped["unit_a"].path]


def test_public_map_page_has_no_personal_data(mapped):
    resp = Client().get("/public/map")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "/public/risk-areas.geojson" in html and "leaflet.js" in html
    assert "王秀英" not in html and "13909310001" not in html


def test_geojson_fast_path_answers_as_the_full_stack(mapped, settings, monkeypatch):
    """A rush on the GeoJSON is answered right after WhiteNoise (``situation.hooks.PUBLIC_FAST``): the same body
    and headers as the view under the full middleware stack; a request with a cookie goes through the stack."""
    from django.test import override_settings
    from django.urls import reverse

    from cordon.maps import apps, queries
    from cordon.situation import hooks, middleware

    assert reverse("public_risk_areas_geojson") == apps.PUBLIC_GEOJSON and apps.PUBLIC_GEOJSON in hooks.PUBLIC_FAST
    served = []
    answer = middleware.PublicLookupMiddleware.answer
    monkeypatch.setattr(middleware.PublicLookupMiddleware, "answer",
                        lambda self, request: served.append(request.path) or answer(self, request))
    fast_mw = "cordon.situation.middleware.PublicLookupMiddleware"
    for q in ("", "白银", "  白银 ", "不存在"):
        for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}):
            fast = Client().get(apps.PUBLIC_GEOJSON, {"q": q} if q else {}, **headers)
            assert served.pop() == apps.PUBLIC_GEOJSON
            with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != fast_mw]):
                slow = Client().get(apps.PUBLIC_GEOJSON, {"q": q} if q else {}, **headers)
            assert not served
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content == queries.public_geojson(q).encode()
            assert dict(fast.headers) == dict(slow.headers), (q, headers)
    c = Client()
    c.cookies["sessionid"] = "x"
    assert c.get(apps.PUBLIC_GEOJSON).status_code == 200 and not served

"""Building-zoom tiles (``maps.tiles``): a tile answers exactly what the layer answers for the tile's box (kept or
rendered), a change to designations, shapes or areas is visible on the next request, and one jurisdiction's kept
tile is never served to another."""
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_tiles():
    from cordon.maps import tiles

    tiles.clear()
    yield
    tiles.clear()


def _tile_of(area):
    from cordon.maps import queries, tiles

    s = queries.area_shape(area)
    return tiles.covering(s.cx, s.cy, s.cx, s.cy)[0]


def _get(user, name, tx, ty, zoom=17):
    resp = client_for(user).get(f"/api/maps/layers/{name}", {"tx": tx, "ty": ty, "zoom": zoom})
    assert resp.status_code == 200, resp.content
    return resp.content


def _uncached(user, name, tx, ty) -> bytes:
    """What the layer answers for the tile's box, read afresh (no tile kept)."""
    from cordon.maps import queries, tiles

    return queries.layer(user, name, tiles.view_of(tx, ty)).encode()


@pytest.mark.parametrize("name", ["risk", "basemap", "observation", "infections", "special", "facilities"])
def test_a_tile_is_the_layer_of_its_box_rendered_or_kept(mapped, commander, worker, name):
    tx, ty = _tile_of(mapped["unit_a"])
    for user in (commander, worker):
        first = _get(user, name, tx, ty)
        again = _get(user, name, tx, ty)  # kept (risk, observation, basemap) or rendered again
        assert first == again == _uncached(user, name, tx, ty)
        assert json.loads(first)["type"] == "FeatureCollection"


def test_the_tile_draws_the_sealed_unit_and_the_building(mapped, worker):
    tx, ty = _tile_of(mapped["unit_a"])
    risk = json.loads(_get(worker, "risk", tx, ty))
    items = [it["path"] for f in risk["features"] for it in f["properties"]["items"]]
    assert mapped["unit_a"].path in items
    base = json.loads(_get(worker, "basemap", tx, ty))
    assert mapped["unit_a"].building_id in {f["properties"]["area"] for f in base["features"]}


def test_a_kept_tile_costs_one_statement(mapped, worker):
    from cordon.maps import tiles

    tx, ty = _tile_of(mapped["unit_a"])
    body = tiles.tile(worker, "risk", tx, ty)  # the user object holds its grants from here on
    with CaptureQueriesContext(connection) as q:
        assert tiles.tile(worker, "risk", tx, ty) == body
    assert len(q.captured_queries) == 1, [x["sql"] for x in q.captured_queries]  # the change stamps


def test_a_new_designation_is_on_the_next_request(mapped, worker):
    from cordon.places.actions import do_ensure_area
    from cordon.zones.actions import do_designate

    tx, ty = _tile_of(mapped["unit_a"])
    before = _get(worker, "risk", tx, ty)
    unit2 = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元", actor="test")
    do_designate(unit2, "medium", reason="P3 stayed here", exposure_note="P3", actor=worker)
    after = _get(worker, "risk", tx, ty)
    assert after != before and after == _uncached(worker, "risk", tx, ty)
    assert unit2.path in {it["path"] for f in json.loads(after)["features"] for it in f["properties"]["items"]}
    # the new unit is on its building's basemap feature too (areas changed)
    base = json.loads(_get(worker, "basemap", tx, ty))
    units = [u for f in base["features"] if f["properties"]["area"] == unit2.building_id
             for u in f["properties"]["units"]]
    assert [unit2.pk, "2单元"] in units


def test_a_lift_and_the_tick_bulk_write_are_on_the_next_request(mapped, worker, commander):
    from cordon.zones.actions import do_lift, save_cached
    from cordon.zones.models import Designation

    tx, ty = _tile_of(mapped["unit_a"])
    assert mapped["unit_a"].path in _get(worker, "risk", tx, ty).decode()
    d = Designation.objects.get(pk=mapped["d_a"].pk)
    d.status = "observation"
    with connection.cursor():
        save_cached([d])  # the day start's bulk write (no signal): it bumps the stamp itself
    assert mapped["unit_a"].path not in _get(worker, "risk", tx, ty).decode()
    assert mapped["unit_a"].path in _get(worker, "observation", tx, ty).decode()
    d.status = "active"
    save_cached([d])
    assert mapped["unit_a"].path in _get(worker, "risk", tx, ty).decode()
    do_lift(Designation.objects.get(pk=mapped["d_a"].pk), reason="assessed", actor=commander)
    assert _get(worker, "risk", tx, ty) == _uncached(worker, "risk", tx, ty)


def test_a_geometry_change_is_on_the_next_request(mapped, worker):
    from cordon.maps.models import Shape

    tx, ty = _tile_of(mapped["unit_a"])
    before = _get(worker, "basemap", tx, ty)
    s = Shape.objects.get(area_id=mapped["unit_a"].building_id)
    g = json.loads(s.geometry)
    g["coordinates"][0][0][0] += 0.00001
    g["coordinates"][0][-1][0] += 0.00001
    s.geometry = json.dumps(g, separators=(",", ":"))
    s.save()
    after = _get(worker, "basemap", tx, ty)
    assert after != before and after == _uncached(worker, "basemap", tx, ty)
    assert s.geometry.encode() in after


def test_one_jurisdictions_tile_is_never_served_to_another(mapped, commander, worker, outsider):
    """The same tile asked by users of different jurisdictions, in both orders: each gets their own."""
    for name in ("risk", "basemap"):
        for area in (mapped["unit_a"], mapped["unit_b"]):
            tx, ty = _tile_of(area)
            for order in ((worker, outsider, commander), (commander, outsider, worker)):
                for user in order:
                    assert _get(user, name, tx, ty) == _uncached(user, name, tx, ty), (name, user.username)
    tx, ty = _tile_of(mapped["unit_a"])
    _get(worker, "basemap", tx, ty)
    theirs = json.loads(_get(outsider, "basemap", tx, ty))
    assert mapped["unit_a"].building_id not in {f["properties"]["area"] for f in theirs["features"]}
    assert _get(outsider, "risk", tx, ty) == b'{"type":"FeatureCollection","features":[]}' or \
        mapped["unit_a"].path not in _get(outsider, "risk", tx, ty).decode()


def test_the_language_is_in_the_key(mapped, worker):
    from django.utils import translation

    from cordon.maps import tiles

    tx, ty = _tile_of(mapped["unit_a"])
    with translation.override("en"):
        tiles.tile(worker, "risk", tx, ty)
    with translation.override("zh-hans"):
        tiles.tile(worker, "risk", tx, ty)
    assert len({k[-1] for k in tiles._KEPT}) == 2


@pytest.mark.parametrize("params, field", [
    ({"tx": 1}, "ty"),
    ({"ty": 1}, "tx"),
    ({"tx": 1, "ty": 1, "zoom": 12}, "zoom"),
    ({"tx": -1, "ty": 1, "zoom": 17}, "tx"),
    ({"tx": 1, "ty": 2 ** 15, "zoom": 17}, "ty"),
])
def test_bad_tile_is_400_with_its_field(mapped, commander, params, field):
    resp = client_for(commander).get("/api/maps/layers/risk", params)
    assert resp.status_code == 400
    assert json.loads(resp.content)["field"] == field


def test_a_tile_of_a_layer_the_role_does_not_read(mapped):
    from tests.conftest import _user

    hotline = _user("hl", "hotline_operator", None)
    resp = client_for(hotline).get("/api/maps/layers/infections", {"tx": 1, "ty": 1, "zoom": 17})
    assert resp.status_code == 404


def test_covering_meets_the_viewport():
    from cordon.maps import tiles

    got = tiles.covering(103.8001, 36.0501, 103.8101, 36.0551)
    for tx, ty in got:
        v = tiles.view_of(tx, ty)
        assert v.west <= 103.8101 and v.east >= 103.8001 and v.south <= 36.0551 and v.north >= 36.0501
    assert len(got) == len(set(got)) >= 2


def test_feature_urls_are_the_routes(mapped, commander):
    from django.urls import reverse

    from cordon.maps import queries

    assert queries._url("area_detail", 42) == reverse("area_detail", args=[42])
    assert queries._url("zones_detail", 7) == reverse("zones_detail", args=[7])


def test_a_kept_tile_over_a_bearer_token_is_two_statements(mapped, worker, outsider):
    """The token with its user, grants and their areas (one statement) and the change stamps (one); the tile
    still follows the token's own jurisdiction."""
    from django.test import Client

    from cordon.core.actions import do_create_token

    tx, ty = _tile_of(mapped["unit_a"])
    mine = Client(HTTP_AUTHORIZATION=f"Bearer {do_create_token(worker, 'map', actor='test')[1]}")
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {do_create_token(outsider, 'map', actor='test')[1]}")
    path = f"/api/maps/layers/basemap?tx={tx}&ty={ty}&zoom=17"
    first = mine.get(path).content  # renders the tile and stamps the token's last use
    with CaptureQueriesContext(connection) as q:
        again = mine.get(path).content
    assert len(q.captured_queries) == 2, [x["sql"] for x in q.captured_queries]
    assert again == first == _uncached(worker, "basemap", tx, ty)
    theirs.get(path)
    assert theirs.get(path).content == _uncached(outsider, "basemap", tx, ty) != first

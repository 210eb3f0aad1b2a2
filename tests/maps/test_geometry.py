"""The synthetic city's geometry (issue 19 part 1): deterministic, valid, children inside parents, districts
where the real ones are, all inside Lanzhou's extent; stored per area by the load's hook and scoped."""
from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import box, shape

from cordon.citygen import City
from cordon.citygen import data
from cordon.citygen.geometry import layout, polygon


def _tree(city: City):
    return [(i, int(city.area_parent[i]), int(city.area_kind[i]), city.area_name[i], int(city.area_population[i]))
            for i in range(1, city.n_areas + 1)]


@pytest.fixture(scope="module")
def laid_out():
    city = City(60_000, seed=3)
    return city, dict(layout(_tree(city)))


def test_same_tree_same_geometry(laid_out):
    city, rects = laid_out
    again = dict(layout(_tree(City(60_000, seed=3))))
    assert again == rects
    other = dict(layout(_tree(City(60_000, seed=4))))
    assert other != rects  # another city, another layout (not a constant)


def test_every_node_down_to_building_has_a_valid_polygon_inside_its_parent(laid_out):
    city, rects = laid_out
    units = {i for i in range(1, city.n_areas + 1) if city.area_kind[i] == 5}
    assert set(rects) == set(range(1, city.n_areas + 1)) - units  # units are drawn as their building
    for aid, rect in rects.items():
        geom = shape(polygon(rect))
        assert geom.is_valid and geom.area > 0, (aid, rect)
        assert shapely.is_ccw(geom.exterior), "RFC 7946: exterior rings counter-clockwise"
        parent = int(city.area_parent[aid])
        if parent:
            assert box(*rects[parent]).contains_properly(geom), city.area_path[aid]


def test_siblings_do_not_overlap(laid_out):
    city, rects = laid_out
    by_parent: dict[int, list] = {}
    for aid, rect in rects.items():
        by_parent.setdefault(int(city.area_parent[aid]), []).append(box(*rect))
    for parent, kids in by_parent.items():
        tree = shapely.STRtree(kids)
        for i, k in enumerate(kids):
            hits = [j for j in tree.query(k) if j != i]
            if parent:  # children keep a margin between them
                assert all(not kids[j].intersects(k) for j in hits), parent
            else:  # districts may share a border, never an area
                assert all(kids[j].intersection(k).area == 0 for j in hits)


def test_districts_where_the_real_ones_are_inside_lanzhou(laid_out):
    city, rects = laid_out
    lon0, lat0, lon1, lat1 = data.EXTENT
    for (x0, y0, x1, y1) in rects.values():
        assert lon0 <= x0 < x1 <= lon1 and lat0 <= y0 < y1 <= lat1
    chengguan = rects[city.area_id("城关区")]
    # the real 城关区 government sits near 103.83 E, 36.06 N
    assert chengguan[0] < 103.83 < chengguan[2] and chengguan[1] < 36.06 < chengguan[3]
    yuzhong = rects[city.area_id("榆中县")]
    assert yuzhong[0] > chengguan[0] and yuzhong[1] < chengguan[1]  # south-east of the city centre


def test_an_unknown_district_gets_no_geometry():
    rows = [(1, 0, "district", "某某区", 10), (2, 1, "street", "某街道", 10)]
    assert list(layout(rows)) == []


@pytest.mark.django_db
def test_shapes_stored_scoped_and_regenerated(city, worker, outsider):
    from cordon.maps.actions import do_generate_shapes
    from cordon.maps.models import Shape
    from cordon.places.models import Area

    n = do_generate_shapes(actor="test")
    non_units = Area.objects.exclude(kind="unit").count()
    assert n == non_units == Shape.objects.count()
    s = Shape.objects.get(area=city["community_a"])
    g = json.loads(s.geometry)
    assert g["type"] == "Polygon" and shape(g).is_valid
    assert s.x0 < s.cx < s.x1 and s.y0 < s.cy < s.y1
    assert s.community_id == city["community_a"].pk and s.district_id == city["district"].pk
    mine = set(Shape.objects.for_user(worker).values_list("area_id", flat=True))
    assert city["community_a"].pk in mine and city["community_b"].pk not in mine
    assert not set(Shape.objects.for_user(outsider).values_list("area_id", flat=True)) & mine
    # again: same shapes, still one per area
    assert do_generate_shapes(actor="test") == n
    assert Shape.objects.get(area=city["community_a"]).geometry == s.geometry

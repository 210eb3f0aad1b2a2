"""``cordon import geometry FILE.geojson`` (issue 19 part 1): features matched by path; refused features
reported by number, field and reason and changing nothing; idempotent."""
from __future__ import annotations

import json

import pytest

from cordon.cli import main

pytestmark = pytest.mark.django_db

COMMUNITY_A = "城关区/皋兰路街道/五泉社区"
COMPOUND_A = "城关区/皋兰路街道/五泉社区/五泉小区"
BUILDING_A = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼"
SQUARE = [[103.80, 36.05], [103.81, 36.05], [103.81, 36.06], [103.80, 36.06], [103.80, 36.05]]


def _feature(path, geometry):
    props = {"name": "x"} if path is None else {"path": path}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write(tmp_path, feats, name="g.geojson"):
    p = tmp_path / name
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return p


@pytest.fixture
def shaped(city):
    from cordon.maps.actions import do_generate_shapes

    do_generate_shapes(actor="test")
    return city


def test_good_features_imported_bad_ones_reported_and_left_alone(shaped, tmp_path, capsys):
    from cordon.core.models import AuditEntry
    from cordon.maps.models import Shape

    before = {s.area.path: s.geometry for s in Shape.objects.select_related("area")}
    clockwise = list(reversed(SQUARE))
    bowtie = [[103.80, 36.05], [103.81, 36.06], [103.81, 36.05], [103.80, 36.06], [103.80, 36.05]]
    feats = [
        _feature(COMMUNITY_A, {"type": "Polygon", "coordinates": [clockwise]}),                 # 1 ok, reoriented
        _feature(COMPOUND_A, {"type": "Polygon", "coordinates": [bowtie]}),                     # 2 self-intersection
        _feature("城关区/没有这个街道", {"type": "Polygon", "coordinates": [SQUARE]}),             # 3 unknown path
        _feature(None, {"type": "Polygon", "coordinates": [SQUARE]}),                           # 4 no path
        _feature(shaped["unit_a"].path, {"type": "Point", "coordinates": [103.8, 36.05]}),      # 5 a unit
        _feature("城关区/皋兰路街道", {"type": "Point", "coordinates": [103.8, 36.05]}),          # 6 a street point
        _feature(BUILDING_A, {"type": "Point", "coordinates": [103.805123456, 36.055]}),        # 7 ok, rounded
        _feature("城关区", {"type": "Polygon", "coordinates": [[[36.0, 103.0], [36.1, 103.0], [36.1, 103.1],
                                                            [36.0, 103.0]]]}),                 # 8 lat/lon swapped
        _feature("城关区/皋兰路街道/白银路社区", {"type": "Polygon", "coordinates": [[[103.8, 36.05], [103.81, 36.05]]]}),
    ]                                                                                            # 9 too few points
    path = _write(tmp_path, feats)
    assert main(["import", "geometry", str(path)]) == 1
    out = capsys.readouterr().out
    assert "9 features: 0 created, 2 updated, 0 unchanged, 7 refused" in out
    report = (tmp_path / "g.geojson.errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "feature,field,reason"
    by_number = {int(line.split(",")[0]): line for line in report[1:]}
    assert sorted(by_number) == [2, 3, 4, 5, 6, 8, 9]
    assert "Self-intersection" in by_number[2] and "geometry" in by_number[2]
    assert "properties.path" in by_number[3] and "properties.path" in by_number[4]
    assert "building" in by_number[5] and "Point" in by_number[6] and "WGS 84" in by_number[8]
    after = {s.area.path: s for s in Shape.objects.select_related("area")}
    g = json.loads(after[COMMUNITY_A].geometry)
    assert {tuple(c) for c in g["coordinates"][0]} == {tuple(c) for c in SQUARE}
    import shapely
    from shapely.geometry import shape

    assert shapely.is_ccw(shape(g).exterior)
    assert after[COMMUNITY_A].source == "imported"
    assert json.loads(after[BUILDING_A].geometry) == {"type": "Point", "coordinates": [103.805123, 36.055]}
    for p in (COMPOUND_A, "城关区", "城关区/皋兰路街道", "城关区/皋兰路街道/白银路社区"):
        assert after[p].geometry == before[p] and after[p].source == "generated"  # refused: unchanged
    assert AuditEntry.objects.filter(action="maps.import").count() == 1

    # again: nothing changes
    assert main(["import", "geometry", str(path)]) == 1
    assert "0 created, 0 updated, 2 unchanged, 7 refused" in capsys.readouterr().out
    # and a regeneration of the synthetic layout keeps the imported shapes
    from cordon.maps.actions import do_generate_shapes

    do_generate_shapes(actor="test")
    assert Shape.objects.get(area__path=COMMUNITY_A).source == "imported"


def test_unreadable_files(shaped, tmp_path, capsys):
    bad = tmp_path / "x.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["import", "geometry", str(bad)]) == 2
    assert "not a GeoJSON file" in capsys.readouterr().err
    bad.write_text(json.dumps({"type": "Feature"}), encoding="utf-8")
    assert main(["import", "geometry", str(bad)]) == 2
    assert "FeatureCollection" in capsys.readouterr().err


def test_as_a_user_only_their_jurisdiction(shaped, tmp_path, capsys, outsider):
    path = _write(tmp_path, [_feature(COMMUNITY_A, {"type": "Polygon", "coordinates": [SQUARE]})])
    assert main(["import", "geometry", str(path), "--as", outsider.username]) == 1
    assert "in your jurisdiction" in capsys.readouterr().out


def test_detailed_rings_get_an_outline_for_low_zoom(shaped, tmp_path, capsys, commander):
    import math

    from cordon.maps.models import Shape
    from tests.conftest import client_for

    # a 200-point circle of ~1 km around the community: its low-zoom outline has far fewer points
    ring = [[103.80 + 0.01 * math.cos(2 * math.pi * i / 200), 36.05 + 0.008 * math.sin(2 * math.pi * i / 200)]
            for i in range(200)]
    ring.append(ring[0])
    path = _write(tmp_path, [_feature(COMMUNITY_A, {"type": "Polygon", "coordinates": [ring]})])
    assert main(["import", "geometry", str(path)]) == 0
    s = Shape.objects.get(area__path=COMMUNITY_A)
    full, outline = json.loads(s.geometry), json.loads(s.outline)
    assert len(full["coordinates"][0]) == 201 and 4 <= len(outline["coordinates"][0]) < 60
    box = {"west": 103.7, "south": 36.0, "east": 103.9, "north": 36.1}
    low = client_for(commander).get("/api/maps/layers/basemap", {**box, "zoom": 13}).json()
    mine = [f for f in low["features"] if f["properties"]["area"] == s.area_id]
    assert mine and mine[0]["geometry"] == outline

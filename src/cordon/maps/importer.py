"""``cordon import geometry FILE.geojson``: a real city's own geometry, matched to the area tree by path.

The file is a GeoJSON FeatureCollection in WGS 84 (RFC 7946). Each feature names its area by the property
``path`` (the area's path code, ``城关区/皋兰路街道/五泉社区``); districts to compounds take a Polygon or a
MultiPolygon, buildings also a Point (units are drawn as their building and take none). A feature is refused,
with its number (1-based, in file order), the field and the reason, when its path is missing, unknown (or
outside the importing user's jurisdiction) or given twice, or its geometry is of the wrong type, outside
WGS 84's ranges, or invalid (self-intersecting rings, unclosed rings, too few points: shapely's reason).
Refused features change nothing; the others replace the areas' shapes (exterior rings made counter-clockwise,
coordinates rounded to 6 decimals). Importing the same file again changes nothing (idempotent).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from cordon.core import access
from cordon.places.importer import ImportReport, RowError
from cordon.places.models import Area

POLYGONS = ("Polygon", "MultiPolygon")
ALLOWED = {"district": POLYGONS, "street": POLYGONS, "community": POLYGONS, "compound": POLYGONS,
           "building": (*POLYGONS, "Point")}
DIGITS = 6


class GeometryFileError(ValueError):
    """The file as a whole cannot be read (not JSON, not a FeatureCollection)."""


class GeometryReport(ImportReport):
    """The import's report: ``rows`` counts the features, each error's ``line`` is its feature's number."""

    number_column = "feature"


#: degrees (~50 m): how far an outline may stray from the geometry it simplifies
OUTLINE_TOLERANCE = 0.0005


@dataclass
class Accepted:
    area: Area
    geometry: str
    outline: str
    bbox: tuple[float, float, float, float]
    point: tuple[float, float]


def _normalized(geom):
    """Coordinates rounded, then exterior rings counter-clockwise and holes clockwise (RFC 7946)."""
    if geom.geom_type == "Point":
        return shapely.Point(round(geom.x, DIGITS), round(geom.y, DIGITS))
    geom = shapely.set_precision(geom, 10 ** -DIGITS)
    if geom.geom_type == "Polygon":
        return orient(geom, 1.0)
    if geom.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    return geom


def _check_geometry(raw, kind: str) -> tuple[object | None, str]:
    """(shapely geometry, "") or (None, reason)."""
    if not isinstance(raw, dict) or "type" not in raw:
        return None, "no geometry"
    if raw["type"] not in ALLOWED[kind]:
        return None, f"a {kind} takes {' or '.join(ALLOWED[kind])}, not {raw['type']}"
    try:
        geom = shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, shapely.errors.GEOSException) as exc:
        return None, f"unreadable coordinates ({exc})"
    if geom.is_empty:
        return None, "empty geometry"
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        return None, "coordinates outside WGS 84 (longitude -180..180, latitude -90..90; lon, lat order)"
    if not geom.is_valid:
        return None, f"invalid geometry: {explain_validity(geom)}"
    geom = _normalized(geom)
    if not geom.is_valid or geom.is_empty:
        return None, f"invalid geometry once rounded to {DIGITS} decimals: {explain_validity(geom)}"
    return geom, ""


def _text(geom) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def _outline(geom) -> str:
    """The geometry simplified for low zoom (topology kept, so still valid); blank when it has no fewer points."""
    if geom.geom_type == "Point":
        return ""
    simple = _normalized(geom.simplify(OUTLINE_TOLERANCE, preserve_topology=True))
    if simple.is_empty or not simple.is_valid or shapely.get_num_coordinates(simple) >= shapely.get_num_coordinates(geom):
        return ""
    return _text(simple)


def read(path, *, user=None) -> tuple[list[Accepted], GeometryReport]:
    """The file's acceptable features and the report of the refused ones (nothing written)."""
    path = Path(path)
    report = GeometryReport(file=str(path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeometryFileError(f"not a GeoJSON file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise GeometryFileError("not a GeoJSON FeatureCollection")
    feats = doc["features"]
    report.rows = len(feats)
    paths = {}
    for n, f in enumerate(feats, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        p = props.get("path") if isinstance(props, dict) else None
        if isinstance(p, str) and p.strip():
            paths.setdefault(p.strip(), []).append(n)
    areas = Area.objects.filter(path__in=list(paths))
    if user is not None:
        areas = areas.filter(access.scope_for(user, access.PLACES_WRITE).q())
    by_path = {a.path: a for a in areas}
    accepted = []
    for n, f in enumerate(feats, start=1):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            report.errors.append(RowError(n, "type", "not a Feature"))
            continue
        props = f.get("properties")
        p = props.get("path") if isinstance(props, dict) else None
        if not isinstance(p, str) or not p.strip():
            report.errors.append(RowError(n, "properties.path", "missing: the area's path code"))
            continue
        p = p.strip()
        if len(paths[p]) > 1:
            report.errors.append(RowError(n, "properties.path", f"{p} given by features {paths[p]}"))
            continue
        area = by_path.get(p)
        if area is None:
            report.errors.append(RowError(n, "properties.path", f"no area {p}" + (" in your jurisdiction" if user else "")))
            continue
        if area.kind == "unit":
            report.errors.append(RowError(n, "properties.path", "a unit is drawn as its building: give the building"))
            continue
        geom, reason = _check_geometry(f.get("geometry"), area.kind)
        if geom is None:
            report.errors.append(RowError(n, "geometry", reason))
            continue
        pt = geom if geom.geom_type == "Point" else geom.representative_point()
        accepted.append(Accepted(area, _text(geom), _outline(geom),
                                 tuple(round(v, DIGITS) for v in geom.bounds), (round(pt.x, DIGITS), round(pt.y, DIGITS))))
    return accepted, report

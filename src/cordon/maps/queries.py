"""Reads of the maps app: the layers (GeoJSON FeatureCollections as text) and the public risk-area GeoJSON.

Every layer is read within the user's jurisdiction (``for_user`` on the records it draws, under the layer's
capability, and on the shapes). A layer is answered for a viewport (``west, south, east, north`` in degrees)
and a zoom level: below ``DETAIL_ZOOM`` each record is a point (the label point of its area's shape) with a few
short properties, so the whole city's risk areas stay small; from ``DETAIL_ZOOM`` on, the shapes inside the
viewport are drawn as polygons, one feature per shape (the sealed units of a building are listed on their
building's feature). Geometry is stored as text (``Shape.geometry``) and pasted into the answer unparsed.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from django.db import connection
from django.db.models import Count, F, Q, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy

from cordon.cases.models import Facility, Infection
from cordon.core import access, clock, stamps
from cordon.keyplaces.models import KeyPlace
from cordon.core.models import LEVELS
from cordon.maps.models import BUILDING_REACH, WIDE, Shape
from cordon.places.models import Area, Resident
from cordon.screening.models import CoverageRow, Round
from cordon.zones import queries as zq
from cordon.zones.models import Designation, Status

#: From this zoom level on a layer draws polygons (buildings and their sealed units), below it points.
DETAIL_ZOOM = 15
#: The days of infections the infection layer counts.
INFECTION_DAYS = 14
CHUNK = 5000
LEVEL_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class View:
    """A viewport and a zoom level."""

    west: float
    south: float
    east: float
    north: float
    zoom: int

    @property
    def detail(self) -> bool:
        return self.zoom >= DETAIL_ZOOM

    def holds(self, x: float, y: float) -> bool:
        return self.west <= x <= self.east and self.south <= y <= self.north


CITY = View(-180.0, -90.0, 180.0, 90.0, 0)


# ---------------------------------------------------------------------------------------------- GeoJSON text
def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def feature(geometry: str | None, props: dict) -> str:
    """One Feature as text; ``geometry`` is stored GeoJSON text (None: a feature without a location)."""
    return f'{{"type":"Feature","geometry":{geometry or "null"},"properties":{_dumps(props)}}}'


def point(x: float, y: float) -> str:
    return f'{{"type":"Point","coordinates":[{x},{y}]}}'


def collection(features) -> str:
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


# ---------------------------------------------------------------------------------------------- shapes
def shape_key(area) -> int:
    """The area whose shape draws ``area``: a unit is drawn as its building."""
    return area.building_id if area.kind == "unit" and area.building_id else area.pk


def shapes_of(keys, *, geometry: bool = False, simple: bool = False) -> dict[int, tuple]:
    """area id -> (cx, cy[, geometry text]) for the shapes of ``keys``, in chunks of ``CHUNK`` ids (``simple``:
    the outline for low zoom where there is one)."""
    cols = ("area_id", "cx", "cy", "g") if geometry else ("area_id", "cx", "cy")
    g = Coalesce(NullIf("outline", Value("")), "geometry") if simple else F("geometry")
    keys = sorted(set(keys))
    out = {}
    for lo in range(0, len(keys), CHUNK):
        for row in Shape.objects.filter(area_id__in=keys[lo:lo + CHUNK]).annotate(g=g).values_list(*cols):
            out[row[0]] = row[1:]
    return out


#: Whether the city has wide buildings (``WIDE``; none in the synthetic city), as this process last looked:
#: [when (monotonic seconds), the answer]. A process looks again after ``WIDE_TTL`` seconds, and at once after an
#: import of shapes in it (``forget_wide``). Without wide buildings a view's statement leaves their part out: the
#: planner cannot estimate that part's condition (a comparison of two columns), guesses thousands of rows, and
#: for the whole view then starts parallel workers, which cost more (about 1 ms a view at 4.4 M) than the view.
#: (A city that has wide buildings pays that: 2.7 against 1.8 ms a commander's view at 4.4 M with one.)
_WIDE_SEEN: list = []
WIDE_TTL = 60.0
_clock = time.monotonic


def wide_buildings() -> bool:
    now = _clock()
    if not _WIDE_SEEN or now - _WIDE_SEEN[0] > WIDE_TTL:
        _WIDE_SEEN[:] = [now, Shape.objects.filter(WIDE).exists()]
    return _WIDE_SEEN[1]


def forget_wide() -> None:
    _WIDE_SEEN.clear()


def shapes_in(user, view: View, kinds=None, cols=("area_id",), cap: str = access.VIEW, **annotations) -> list[tuple]:
    """``cols`` of the user's shapes (under ``cap``) whose bounding box meets the viewport, one query: buildings
    found by their label point (the (kind, cx, cy) index: within ``BUILDING_REACH`` of the view), wide buildings
    whose label point lies farther by their bounding box (the partial index of ``WIDE`` ones; when the city has
    any, ``wide_buildings``), the larger kinds
    by their bounding box (their ids from the (kind, y0, y1, x0, x1, area) index alone, then their rows), the
    indexed reads joined by UNION ALL (an OR of them would read the whole table). ``annotations`` may name
    further columns.

    The statement is built by the ORM once per jurisdiction and shape of query (``_shapes_sql``) and run with
    each view's bounds: building it afresh cost more than running it."""
    scope = access.scope_for(user, cap)
    if scope.nothing:
        return []
    wide = (kinds is None or "building" in kinds) and wide_buildings()
    key = (connection.vendor, cap, access.scope_key(scope), tuple(sorted(scope.above.items())),
           None if kinds is None else tuple(kinds), tuple(cols), tuple((k, str(v)) for k, v in annotations.items()),
           wide)
    compiled = _SHAPES_SQL.get(key)
    if compiled is None:
        compiled = _shapes_sql(user, kinds, cols, cap, annotations, wide)
        if len(_SHAPES_SQL) >= 512:
            _SHAPES_SQL.clear()
        _SHAPES_SQL[key] = compiled
    sql, params, slots = compiled
    if sql is None:
        return []
    r = BUILDING_REACH
    bounds = (view.west, view.south, view.east, view.north, view.west - r, view.south - r, view.east + r,
              view.north + r)
    with connection.cursor() as c:
        c.execute(sql, [p if i is None else bounds[i] for p, i in zip(params, slots)])
        return c.fetchall()


#: (database, capability, jurisdiction, query) -> the statement ``shapes_in`` runs (``_shapes_sql``).
_SHAPES_SQL: dict[tuple, tuple] = {}
#: Stand-ins for the bounds while the ORM builds the statement: each parameter equal to one is a bound.
_PROBES = tuple(1.0e12 + i for i in range(8))


def _shapes_sql(user, kinds, cols, cap, annotations, wide: bool = True) -> tuple:
    """``shapes_in``'s statement as the ORM writes it for the user's jurisdiction, with ``_PROBES`` for the
    bounds (west, south, east, north, then the same less or plus ``BUILDING_REACH``): (sql, params, the index
    of the bound each parameter is, or None); (None, None, None) when it reads nothing."""
    west, south, east, north, west_r, south_r, east_r, north_r = _PROBES
    qs = Shape.objects.for_user(user, cap).annotate(**annotations)
    box = Q(x0__lte=east, x1__gte=west, y0__lte=north, y1__gte=south)
    parts = []
    if kinds is None or "building" in kinds:
        near = Q(cx__gte=west_r, cx__lte=east_r, cy__gte=south_r, cy__lte=north_r)
        parts.append(qs.filter(box, near, kind="building"))
        if wide:  # the label point beyond the reach: not above
            parts.append(qs.filter(WIDE).filter(box).exclude(near))
    larger = [k for k in LEVELS[:4] if kinds is None or k in kinds]
    if larger:
        meeting = Shape.objects.filter(box, kind__in=larger).values("area_id")
        parts.append(qs.filter(kind__in=larger, area_id__in=meeting))
    if not parts:
        return None, None, None
    first, *rest = [p.order_by().values_list(*cols) for p in parts]
    qs = first.union(*rest, all=True) if rest else first
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    slots = [_PROBES.index(p) if isinstance(p, float) and p in _PROBES else None for p in params]
    used = range(8) if kinds is None or "building" in kinds else range(4)
    if {i for i in slots if i is not None} != set(used):  # every bound the reads name is a parameter
        raise RuntimeError("shapes_in: a bound is not a parameter of the statement")
    return sql, list(params), slots


# ---------------------------------------------------------------------------------------------- layers
_MARK = 987654321
_URLS: dict[tuple[str, str], tuple[str, str]] = {}


def _url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a route taking one id, from its reversed form kept per script prefix (a
    layer names one per feature: reversing each cost more than the rest of the feature)."""
    key = (name, get_script_prefix())
    parts = _URLS.get(key)
    if parts is None:
        head, tail = reverse(name, args=[_MARK]).split(str(_MARK))
        parts = _URLS[key] = (head, tail)
    return f"{parts[0]}{pk}{parts[1]}"


def _designation_points(ds, view: View) -> str:
    rows = list(ds.annotate(key=Coalesce("building_id", "area_id")).values_list("id", "level", "key"))
    where = shapes_of([k for _i, _lv, k in rows])
    feats = []
    for did, level, key in rows:
        at = where.get(key)
        if at is not None and view.holds(at[0], at[1]):
            feats.append(feature(point(at[0], at[1]), {"id": did, "level": level}))
    return collection(feats)


def _designation_layer(user, view: View, status: str) -> str:
    ds = Designation.objects.for_user(user).filter(status=status)
    if not view.detail:
        # the same answer for everyone of one jurisdiction until a designation or a shape changes (or the
        # minute turns: the day start's bulk updates send no signal): kept in the cache (core.stamps)
        key = ("designation-points", status, access.scope_key(access.scope_for(user)),
               *(round(v, 3) for v in (view.west, view.south, view.east, view.north)))
        return stamps.cached(("risk_areas", "shapes"), key, lambda: _designation_points(ds, view))
    shapes = {s[0]: s[1:] for s in shapes_in(user, view, cols=("area_id", "kind", "geometry"))}
    buildings = [i for i, (k, _g) in shapes.items() if k == "building"]
    larger = [i for i, (k, _g) in shapes.items() if k != "building"]
    found = ds.filter(Q(building_id__in=buildings) | Q(area_id__in=larger)).values_list(
        "id", "level", "since", "area_id", "area__kind", "area__path", "area__building_id")
    by_shape: dict[int, list] = defaultdict(list)
    for did, level, since, area_id, kind, path, building in found:
        key = building if kind == "unit" and building else area_id
        if key in shapes:
            by_shape[key].append({"id": did, "level": level, "since": since.isoformat(), "path": path,
                                  "kind": kind, "url": _url("zones_detail", did)})
    feats = []
    for key, items in by_shape.items():
        items.sort(key=lambda it: (-LEVEL_RANK.get(it["level"], 0), it["path"]))
        feats.append(feature(shapes[key][1], {"area": key, "level": items[0]["level"], "items": items,
                                              "url": _url("area_detail", key)}))
    return collection(feats)


def risk_layer(user, view: View) -> str:
    """Risk areas (active designations) by level; the sealed units of a building on its feature."""
    return _designation_layer(user, view, Status.ACTIVE)


def observation_layer(user, view: View) -> str:
    """Areas lifted and under observation."""
    return _designation_layer(user, view, Status.OBSERVATION)


def _counts_layer(view: View, counts: dict[int, int], label: str) -> str:
    """Points at buildings (detail) or communities, with a count each (``counts`` by area id, read within the
    user's jurisdiction by the caller)."""
    where = shapes_of(counts)
    feats = []
    for key, n in counts.items():
        at = where.get(key)
        if at is None or not view.holds(at[0], at[1]):
            continue
        feats.append(feature(point(at[0], at[1]), {"area": key, label: n, "url": _url("area_detail", key)}))
    return collection(feats)


def infections_layer(user, view: View) -> str:
    """Infections confirmed in the last ``INFECTION_DAYS`` days, counted per building (never a household or a
    person); per community below ``DETAIL_ZOOM``."""
    since = clock.today() - dt.timedelta(days=INFECTION_DAYS)
    col = "building_id" if view.detail else "community_id"
    rows = (Infection.objects.for_user(user, access.READ_HEALTH).filter(confirmed_on__gte=since)
            .exclude(**{f"{col}__isnull": True}).order_by().values(col).annotate(n=Count("id")))
    return _counts_layer(view, {r[col]: r["n"] for r in rows}, "infections")


def special_layer(user, view: View) -> str:
    """Residents of a special group living in sealed areas (active designations), counted per building (per
    community below ``DETAIL_ZOOM``): counts only."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, aid in (Designation.objects.for_user(user).filter(status=Status.ACTIVE)
                      .values_list("area__kind", "area_id")):
        by_kind[kind].add(aid)
    if not by_kind:
        return collection([])
    sealed = Q(pk__in=[])
    for kind, ids in by_kind.items():
        sealed |= Q(**{f"{kind}_id__in": sorted(ids)})
    col = "building_id" if view.detail else "community_id"
    rows = (Resident.objects.for_user(user, access.READ_PERSONAL).filter(sealed).filter(zq.special_q(clock.today()))
            .order_by().values(col).annotate(n=Count("id")))
    return _counts_layer(view, {r[col]: r["n"] for r in rows if r[col]}, "special")


def _records_layer(view: View, rows, props) -> str:
    """Points at the shapes of records placed on an area (``record.area``), ``props(record)`` each."""
    where = shapes_of(shape_key(r.area) for r in rows)
    feats = []
    for r in rows:
        at = where.get(shape_key(r.area))
        if at is not None and view.holds(at[0], at[1]):
            feats.append(feature(point(at[0], at[1]), props(r)))
    return collection(feats)


def facilities_layer(user, view: View) -> str:
    """Quarantine sites and hospitals with their occupancy."""
    rows = list(Facility.objects.for_user(user).select_related("area")
                .only("id", "name", "kind", "capacity", "occupied", "area__kind", "area__building_id"))
    return _records_layer(view, rows, lambda f: {"id": f.pk, "name": f.name, "kind": f.kind, "capacity": f.capacity,
                                                 "occupied": f.occupied, "url": _url("cases_facility", f.pk)})


def keyplaces_layer(user, view: View) -> str:
    """Key places (schools, hospitals, nursing homes, ...) with their status."""
    rows = list(KeyPlace.objects.for_user(user, access.KEYPLACES_READ).select_related("area")
                .only("id", "name", "kind", "status", "area__kind", "area__building_id"))
    return _records_layer(view, rows, lambda p: {"id": p.pk, "name": p.name, "kind": p.kind, "status": p.status,
                                                 "url": _url("keyplaces_place", p.pk)})


def screening_layer(user, view: View) -> str:
    """Screening coverage of the latest round the user sees, by community (people sampled of people due)."""
    r = Round.objects.for_user(user).order_by("-on", "-id").first()
    if r is None:
        return collection([])
    rows = list(CoverageRow.objects.for_user(user).filter(round=r, kind="community")
                .values_list("area_id", "due", "sampled"))
    where = shapes_of([a for a, _d, _s in rows], geometry=view.detail or len(rows) < 400, simple=not view.detail)
    feats = []
    for area_id, due, sampled in rows:
        at = where.get(area_id)
        if at is None or not view.holds(at[0], at[1]):
            continue
        geom = at[2] if len(at) > 2 else point(at[0], at[1])
        feats.append(feature(geom, {"area": area_id, "round": r.pk, "due": due, "sampled": sampled,
                                    "share": round(sampled / due, 3) if due else None,
                                    "url": _url("screening_detail", r.pk)}))
    return collection(feats)


def basemap_layer(user, view: View) -> str:
    """Outlines and names: districts and streets at low zoom, communities and compounds nearer, buildings at
    ``DETAIL_ZOOM``; the user's shapes and the outlines of the nodes above their grants."""
    kinds = ["district", "street"] if view.zoom < 12 else (
        ["district", "street", "community"] if view.zoom < 14 else
        ["community", "compound"] if view.zoom < DETAIL_ZOOM else ["compound", "building"])
    drawn = F("geometry") if view.detail else Coalesce(NullIf("outline", Value("")), "geometry",
                                                           output_field=TextField())
    cols = ("area_id", "kind", "drawn", "cx", "cy", "area__name")
    rows = shapes_in(user, view, kinds, cols, drawn=drawn)
    above = {i for g in access.grants_of(user) if g.area_id for _lv, i in access.ancestors_above(g.area)}
    if above:
        rows += Shape.objects.filter(area_id__in=sorted(above), kind__in=kinds).annotate(drawn=drawn).values_list(*cols)
    units: dict[int, list] = defaultdict(list)
    buildings = [r[0] for r in rows if r[1] == "building"]
    for lo in range(0, len(buildings), CHUNK):
        for b, uid, name in (Area.objects.filter(building_id__in=buildings[lo:lo + CHUNK], kind="unit")
                             .order_by("id").values_list("building_id", "id", "name")):
            units[b].append([uid, name])
    feats = []
    for area_id, kind, geometry, cx, cy, name in rows:
        props = {"area": area_id, "kind": kind, "name": name, "label": [cx, cy], "url": _url("area_detail", area_id)}
        if kind == "building":
            props["units"] = units.get(area_id, [])
        feats.append(feature(geometry, props))
    return collection(feats)


@dataclass(frozen=True)
class Layer:
    name: str
    cap: str
    read: Callable[[object, View], str]
    title: object  # a lazy translation


LAYERS: dict[str, Layer] = {ly.name: ly for ly in (
    Layer("basemap", access.VIEW, basemap_layer, gettext_lazy("Basemap")),
    Layer("risk", access.VIEW, risk_layer, gettext_lazy("Risk areas")),
    Layer("observation", access.VIEW, observation_layer, gettext_lazy("Under observation")),
    Layer("infections", access.READ_HEALTH, infections_layer, gettext_lazy("Infections")),
    Layer("facilities", access.VIEW, facilities_layer, gettext_lazy("Facilities")),
    Layer("keyplaces", access.KEYPLACES_READ, keyplaces_layer, gettext_lazy("Key places")),
    Layer("screening", access.VIEW, screening_layer, gettext_lazy("Screening coverage")),
    Layer("special", access.READ_PERSONAL, special_layer, gettext_lazy("Special groups in sealed areas")),
)}


def layers_for(user) -> list[Layer]:
    """The layers the user's roles may read."""
    return [ly for ly in LAYERS.values() if access.has_perm(user, ly.cap)]


def layer(user, name: str, view: View) -> str:
    """The layer ``name`` for ``view`` within the user's jurisdiction (NotFound when unknown or not allowed)."""
    ly = LAYERS.get(name)
    if ly is None or not access.has_perm(user, ly.cap):
        raise access.NotFound
    return ly.read(user, view)


# ---------------------------------------------------------------------------------------------- public
def public_geojson(q: str = "") -> str:
    """The public risk-area GeoJSON of ``q`` as text (``_public``)."""
    return _public(q)[0]


def public_geojson_body(q: str | None = "") -> tuple[bytes, str]:
    """The public GeoJSON of ``q`` as the bytes of the answer (encoded once per change, not per request) and
    its content type: the view and the public fast path (``situation.hooks.PUBLIC_FAST``) both send this."""
    return _public(q)[1], "application/geo+json"


def _public(q: str | None) -> tuple[str, bytes]:
    """The public risk-area list (``zones.queries.public_current``, the list's own query) as an RFC 7946
    FeatureCollection: one feature per listed area (properties path, level, since, next_on), WGS 84
    geometry of its shape (a unit: its building), null when the area has none. Cached while no designation
    changes (and for the minute), and in the process's memory for ``PUBLIC_TTL`` seconds."""
    q = (q or "").strip()[:100]

    def render() -> str:
        current = zq.public_current()
        if q:
            current = current.filter(area__path__icontains=q)
        current = list(current)
        geoms = shapes_of((shape_key(d.area) for d in current), geometry=True)
        feats = []
        for d in current:
            g = geoms.get(shape_key(d.area))
            feats.append(feature(g[2] if g else None, {
                "path": d.area.path, "level": d.level, "since": d.since.isoformat(),
                "next_on": d.next_on.isoformat() if d.next_on else None}))
        return collection(feats)

    now = time.monotonic()
    kept = _PUBLIC_MEMO.get(q)
    if kept is not None and now - kept[0] < PUBLIC_TTL:
        return kept[1:]
    text = stamps.cached(("risk_areas", "shapes"), ("public-geojson", q), render)
    if kept is not None and kept[1] == text:
        body = kept[2]  # unchanged: the bytes made before
    else:
        body = text.encode()
    if len(_PUBLIC_MEMO) > 256:
        _PUBLIC_MEMO.clear()
    _PUBLIC_MEMO[q] = (now, text, body)
    return text, body


#: Seconds a process answers the public GeoJSON from its own memory without asking whether a designation
#: changed (the public pages say ``max-age=60``; a rush then costs no query at all).
PUBLIC_TTL = 5.0
_PUBLIC_MEMO: dict[str, tuple[float, str, bytes]] = {}


def district_outlines() -> dict:
    """The city's districts as a GeoJSON FeatureCollection (the low-zoom outline, properties ``name`` only):
    the public map's background. Public: geometry and names of districts, nothing about anyone. Kept while no
    shape changes."""
    def render() -> dict:
        rows = (Shape.objects.filter(kind="district").order_by("area__path")
                .annotate(g=Coalesce(NullIf("outline", Value("")), "geometry", output_field=TextField()))
                .values_list("area__name", "g"))
        return json.loads(collection(feature(g, {"name": name}) for name, g in rows))

    return stamps.cached(("shapes",), ("district-outlines",), render)


def area_shape(area: Area) -> Shape | None:
    return Shape.objects.filter(area_id=shape_key(area)).first()


# ---------------------------------------------------------------------------------------------- designate
MAX_SELECTION = 200


def selection(user, ids, perm: str = access.ZONES_WRITE) -> list[Area]:
    """The selected areas (units, buildings, ...) the user may designate, in path order; NotFound for an id
    outside the jurisdiction (or absent)."""
    ids = sorted({int(i) for i in ids})[:MAX_SELECTION]
    found = list(Area.objects.for_user(user, perm).filter(pk__in=ids).order_by("path"))
    if len(found) != len(ids):
        raise access.NotFound
    return found


def who_lives_inside(areas: list[Area], today: dt.date) -> list[dict]:
    """Per selected area: households, residents and residents of each special group (counts, no names)."""
    from cordon.places.models import Household, SPECIAL_GROUP_LABELS, special_groups

    out = []
    for a in areas:
        inside = {f"{a.kind}_id": a.pk}
        groups: dict[str, int] = defaultdict(int)
        residents = 0
        for r in Resident.objects.filter(**inside).filter(zq.special_q(today)).only(
                "birth_date", "lives_alone", "pregnant_due", "treatment", "disability", "chronic_illness").iterator():
            for g in special_groups(r, today):
                groups[g] += 1
        residents = Resident.objects.filter(**inside).count()
        out.append({"area": a, "households": Household.objects.filter(**inside).count(), "residents": residents,
                    "groups": [(SPECIAL_GROUP_LABELS[k], groups[k]) for k in SPECIAL_GROUP_LABELS if groups.get(k)]})
    return out


def guardrail_preview(areas: list[Area], level: str, *, infections=(), exposure_note: str = "") -> list[tuple]:
    """``(area, verdicts)``: the guardrail flags (#1 no linked infection or place, #4 above the pack's
    granularity) designating each area at ``level`` would raise, as ``zones.actions.do_designate`` checks them."""
    from cordon.core.packs import active_pack
    from cordon.policy import guardrails

    pack = active_pack(clock.today())
    if level not in pack.designated_levels:
        return []
    return [(a, guardrails.check_designation(pack, node_kind=a.kind, level=level, area=a.path,
                                             linked_infections=list(infections),
                                             linked_places=[exposure_note] if exposure_note else []))
            for a in areas]

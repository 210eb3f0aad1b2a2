"""Writes of the maps app: the synthetic city's shapes, and shapes imported from a GeoJSON file."""
from __future__ import annotations

import json

from django.db import transaction
from django.utils.translation import gettext as _

from cordon.citygen.geometry import layout, polygon
from cordon.core import audit, stamps
from cordon.core.actions import ActionError
from cordon.core.models import LEVELS
from cordon.maps import queries
from cordon.maps.models import Shape, Source
from cordon.places.models import Area
from cordon.zones.actions import do_designate

BATCH = 5000


def _dumps(geometry: dict) -> str:
    """A geometry as the compact text a shape stores."""
    return json.dumps(geometry, separators=(",", ":"))


def _rows():
    """The area tree, parents first, as ``citygen.geometry.layout`` reads it."""
    return Area.objects.order_by("depth", "id").values_list("id", "parent_id", "kind", "name", "population") \
        .iterator(chunk_size=20_000)


@transaction.atomic
def do_generate_shapes(*, actor=None) -> int:
    """Lay the synthetic city out (``citygen.geometry``): every generated shape is replaced; imported ones are
    kept (a real city's own geometry wins). Returns the number of shapes written; one audit row."""
    rects = dict(layout(_rows()))
    keep = set(Shape.objects.filter(source=Source.IMPORTED).values_list("area_id", flat=True))
    Shape.objects.filter(source=Source.GENERATED).delete()
    anc_cols = [f"{lv}_id" for lv in LEVELS]
    ids = [i for i in rects if i not in keep]
    written = 0
    for lo in range(0, len(ids), BATCH):
        chunk = ids[lo:lo + BATCH]
        areas = Area.objects.filter(pk__in=chunk).values_list("id", "kind", *anc_cols)
        objs = []
        for aid, kind, *anc in areas:
            x0, y0, x1, y1 = rect = rects[aid]
            objs.append(Shape(area_id=aid, kind=kind, geometry=_dumps(polygon(rect)), x0=x0, y0=y0, x1=x1, y1=y1,
                              cx=round((x0 + x1) / 2, 6), cy=round((y0 + y1) / 2, 6), source=Source.GENERATED,
                              **dict(zip(anc_cols, anc))))
        Shape.objects.bulk_create(objs, batch_size=1000)
        written += len(objs)
    stamps.bump("shapes")  # bulk writes send no signals
    audit.record("maps.generate", actor=actor, object_type="shape", object_repr="synthetic city geometry",
                 after={"shapes": written, "kept_imported": len(keep)})
    return written


@transaction.atomic
def do_designate_selection(areas, level: str, *, reason: str, infections=(), exposure_note: str = "",
                           actor=None) -> list:
    """Designate each area selected on the map at ``level``, all or none: each through
    ``zones.actions.do_designate`` (its checks, its audit rows and guardrail flags, as from the list page)."""
    areas = list(areas)
    if not areas:
        raise ActionError(_("select at least one area on the map"), field="areas")
    return [do_designate(a, level, reason=reason, infections=infections, exposure_note=exposure_note, actor=actor)
            for a in areas]


@transaction.atomic
def do_import_shapes(accepted, *, file: str, refused: int = 0, actor=None) -> dict:
    """Store the shapes a geometry file gave (``maps.importer.read``'s accepted features): each replaces its
    area's shape (generated or imported before); one that is already the same is left alone. One audit row."""
    anc_cols = [f"{lv}_id" for lv in LEVELS]
    existing = {s.area_id: s for s in Shape.objects.filter(area_id__in=[a.area.pk for a in accepted])}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for a in accepted:
        (x0, y0, x1, y1), (cx, cy) = a.bbox, a.point
        values = {"kind": a.area.kind, "geometry": a.geometry, "outline": a.outline, "x0": x0, "y0": y0, "x1": x1, "y1": y1, "cx": cx,
                  "cy": cy, "source": Source.IMPORTED, **{c: getattr(a.area, c) for c in anc_cols}}
        old = existing.get(a.area.pk)
        if old is not None and all(getattr(old, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
            continue
        Shape.objects.update_or_create(area_id=a.area.pk, defaults=values)
        counts["created" if old is None else "updated"] += 1
    audit.record("maps.import", actor=actor, object_type="shape", object_repr=file[:400],
                 after={**counts, "refused": refused})
    transaction.on_commit(queries.forget_wide)  # a wide building imported: this process's views find it at once
    return counts

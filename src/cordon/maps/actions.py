"""Writes of the maps app: the synthetic city's shapes, and shapes imported from a GeoJSON file."""
from __future__ import annotations

import json

from django.db import transaction

from cordon.citygen.geometry import layout, polygon
from cordon.core import audit
from cordon.core.models import LEVELS
from cordon.maps.models import Shape, Source
from cordon.places.models import Area

BATCH = 5000


def dumps(geometry: dict) -> str:
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
            objs.append(Shape(area_id=aid, kind=kind, geometry=dumps(polygon(rect)), x0=x0, y0=y0, x1=x1, y1=y1,
                              cx=round((x0 + x1) / 2, 6), cy=round((y0 + y1) / 2, 6), source=Source.GENERATED,
                              **dict(zip(anc_cols, anc))))
        Shape.objects.bulk_create(objs, batch_size=1000)
        written += len(objs)
    audit.record("maps.generate", actor=actor, object_type="shape", object_repr="synthetic city geometry",
                 after={"shapes": written, "kept_imported": len(keep)})
    return written

"""Writes of the maps app: the synthetic city's shapes, and shapes imported from a GeoJSON file."""
from __future__ import annotations

import json

from django.db import transaction
from django.utils.translation import gettext as _

from cordon.citygen.geometry import layout, polygon
from cordon.core import audit, stamps
from cordon.core.actions import ActionError
from cordon.core.models import LEVELS
from cordon.maps.models import Shape, Source
from cordon.places.models import Area
from cordon.zones.actions import do_designate

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

"""Area geometry: one shape per area from district down to building (a unit is drawn as its building).

``geometry`` is the GeoJSON geometry as compact text (coordinates rounded to 6 decimals; ``outline`` the same
simplified for the views below building zoom, where an imported city's detailed rings would only cost bytes), so a layer's
response is assembled from stored text without parsing it; ``x0 y0 x1 y1`` is its bounding box and
``cx cy`` a point inside it (the label and the marker at low zoom), both indexed for viewport queries (the
bounding box with the area id, so the few large shapes meeting a viewport are found among the city's thousands
without reading their rows). Shapes
carry the ancestor ids of their area (``ScopedFields``), so every read is scoped like any other record.
"""
from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields


class Source(models.TextChoices):
    GENERATED = "generated", _("Generated with the synthetic city")
    IMPORTED = "imported", _("Imported from a file")


#: How far (degrees) a building's label point may lie from its footprint's edge (citygen footprints are
#: at most ~90 m): a building no wider nor taller than this whose footprint meets a view has its label point
#: within this reach of the view. A wider one (imported) is found through its bounding box, from the partial
#: index of wide buildings (``WIDE``).
BUILDING_REACH = 0.002
#: A building wider or taller than ``BUILDING_REACH`` (the condition of the partial index ``maps_shape_wide``:
#: a query names it as written here, so the planner may read that index).
WIDE = Q(kind="building") & (Q(x1__gt=F("x0") + BUILDING_REACH) | Q(y1__gt=F("y0") + BUILDING_REACH))


class Shape(ScopedFields):
    # no database constraint: the city's bulk load may replace the area table under it (the shapes are then
    # generated again by the load's hook)
    area = models.OneToOneField("places.Area", primary_key=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="shape")
    kind = models.CharField(max_length=12)
    geometry = models.TextField()
    # the geometry simplified for views below building zoom (~50 m tolerance); blank: the same as ``geometry``
    # (the synthetic city's rectangles)
    outline = models.TextField(blank=True, default="")
    x0 = models.FloatField()
    y0 = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    cx = models.FloatField()
    cy = models.FloatField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERATED)

    class Meta:
        indexes = [models.Index(fields=["kind", "cx", "cy"], name="maps_shape_kind_point"),
                   # the larger kinds meeting a viewport, read from the index alone (``queries.shapes_in``)
                   models.Index(fields=["kind", "y0", "y1", "x0", "x1", "area"], name="maps_shape_kind_box"),
                   # the wide buildings (imported; none in the synthetic city) meeting a viewport
                   models.Index(fields=["y0", "y1", "x0", "x1", "area"], name="maps_shape_wide", condition=WIDE)]

    def __str__(self) -> str:
        return f"shape of area {self.area_id}"

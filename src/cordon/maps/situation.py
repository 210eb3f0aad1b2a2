"""The maps on the situation pages and in the daily close (``situation.hooks``, registered in ``apps.ready``):

- ``panel``: the command and district pages' map panel (the risk-area layer on the basemap, read by the map
  page's own script from ``/api/maps/layers``), opened on the district or the viewer's jurisdiction;
- ``report_map``: a static drawing for the PDF (reportlab graphics, no browser): the outlines of the scope's
  districts and streets (communities for a smaller scope) and the risk areas of the day as marks by level.
"""
from __future__ import annotations

import datetime as dt
import json
import math

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.maps import queries
from cordon.maps.models import Shape
from cordon.situation.daily import _FONT, _register_font
from cordon.zones.models import Designation

COLORS = {"high": "#c62828", "medium": "#ef6c00", "low": "#f9a825"}


def panel(user, view) -> dict | None:
    """The map panel of a situation page (None for a viewer without the view capability or without shapes)."""
    if not access.has_perm(user, access.VIEW):
        return None
    area = view.district
    shapes = Shape.objects.for_user(user)
    s = shapes.filter(area_id=area.pk).first() if area is not None else None
    if s is None:
        grants = [g for g in access.grants_of(user) if g.area_id]
        s = shapes.filter(area_id=grants[0].area_id).first() if grants else None
    if s is None:
        extent = shapes.filter(kind="district").order_by("area_id").values_list("x0", "y0", "x1", "y1")
        boxes = list(extent)
        if not boxes:
            return None
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    else:
        box = [s.x0, s.y0, s.x1, s.y1]
    return {"template": "maps/_situation_panel.html", "extent": box, "detail_zoom": queries.DETAIL_ZOOM,
            "layer_url": reverse("api:maps_layer", args=["basemap"]).rsplit("basemap", 1)[0],
            "map_url": reverse("maps_map") + (f"?at={area.pk}" if area is not None else "")}


def _active_on(view, day: dt.date):
    """The designations in force on ``day`` within the view (designated by then, not lifted before its end)."""
    qs = Designation.objects.filter(designated_on__lte=day).filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=day))
    return view.filter(qs)


def report_map(view, day: dt.date, width_mm: float = 178, height_mm: float = 110):
    """The day's risk areas on the scope's outlines as a reportlab Drawing (None when there are no shapes)."""
    from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    marks = list(_active_on(view, day).annotate(key=Coalesce("building_id", "area_id"))
                 .values_list("level", "key"))
    where = queries.shapes_of(k for _lv, k in marks)
    outline_kinds = ("district", "street") if view.scope.everything or view.scope.by_level.get("district") \
        else ("community", "compound")
    outlines = list(view.filter(Shape.objects.filter(kind__in=outline_kinds)).values_list("kind", "x0", "y0", "x1", "y1",
                                                                                        "geometry"))
    xs = [o[1] for o in outlines] + [o[3] for o in outlines] + [w[0] for w in where.values()]
    ys = [o[2] for o in outlines] + [o[4] for o in outlines] + [w[1] for w in where.values()]
    if not xs:
        return None
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    kx = math.cos(math.radians((y0 + y1) / 2))
    w, h = width_mm * mm, height_mm * mm
    legend_h = 14
    span_x, span_y = max((x1 - x0) * kx, 1e-6), max(y1 - y0, 1e-6)
    scale = min((w - 8) / span_x, (h - legend_h - 8) / span_y)

    def px(lon: float, lat: float) -> tuple[float, float]:
        return 4 + (lon - x0) * kx * scale, legend_h + 4 + (lat - y0) * scale

    d = Drawing(w, h)
    d.add(Rect(0, 0, w, h, fillColor=colors.HexColor("#fafafa"), strokeColor=colors.HexColor("#cccccc"),
               strokeWidth=0.5))
    for kind, *_box, geometry in outlines:
        ring = json.loads(geometry)["coordinates"][0] if geometry.startswith('{"type":"Polygon"') else []
        pts = [c for lon, lat in ring for c in px(lon, lat)]
        if pts:
            d.add(Polygon(pts, fillColor=None, strokeColor=colors.HexColor("#8a8fa3"),
                          strokeWidth=1.0 if kind == outline_kinds[0] else 0.4))
    counts: dict[str, int] = {}
    for level, key in sorted(marks, key=lambda m: {"high": 2, "medium": 1}.get(m[0], 0)):
        at = where.get(key)
        if at is None:
            continue
        counts[level] = counts.get(level, 0) + 1
        cx, cy = px(at[0], at[1])
        d.add(Rect(cx - 1.6, cy - 1.6, 3.2, 3.2, fillColor=colors.HexColor(COLORS.get(level, "#555555")),
                   strokeColor=None))
    _register_font()  # the report's CJK font
    x = 6
    d.add(String(x, 4, _("Risk areas on %(day)s") % {"day": day.isoformat()}, fontName=_FONT, fontSize=8))
    x += 110
    for level, label in (("high", _("High")), ("medium", _("Medium")), ("low", _("Low"))):
        d.add(Rect(x, 4, 6, 6, fillColor=colors.HexColor(COLORS[level]), strokeColor=None))
        d.add(String(x + 9, 4, f"{label} {counts.get(level, 0)}", fontName=_FONT, fontSize=8))
        x += 70
    return d

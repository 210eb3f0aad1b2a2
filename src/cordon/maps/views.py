"""Map pages: the jurisdiction's map (layers read from ``/api/maps/layers/<name>``), designating the units and
buildings selected on it, and the public map with its GeoJSON (exactly the public risk-area list).

Thin: parse, authorize, call ``maps.queries`` / ``maps.actions``, render."""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from cordon.citygen import data as citygen_data
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.maps import actions, forms, queries
from cordon.maps.models import Shape
from cordon.web.pages import bind_error, done, parse_id, reads_chinese, route, search_text
from cordon.zones.views import linked_infections

PUBLIC_CACHE = {"public": True, "max_age": 60}


def _extent(user, at: int | None) -> list[float]:
    """Where the map opens: the shape of ``at`` (an area the user sees), else of the user's first grant, else
    the whole city's districts, else Lanzhou's extent."""
    shapes = Shape.objects.for_user(user)
    s = None
    if at is not None:
        area = access.access(queries.Area, user, at)
        s = shapes.filter(area_id=queries.shape_key(area)).first()
    if s is None:
        grants = [g for g in access.grants_of(user) if g.area_id]
        if grants:
            s = shapes.filter(area_id=grants[0].area_id).first()
    if s is not None:
        return [s.x0, s.y0, s.x1, s.y1]
    return list(citygen_data.EXTENT)


@route("maps/", "maps_map")
@access.require(access.VIEW)
def map_page(request):
    """The jurisdiction on a map: the basemap of the city's own outlines and the layers the user's roles read;
    a feature opens its record; holders of zones.write select units and buildings to designate."""
    user = request.user
    layers = [ly for ly in queries.layers_for(user) if ly.name != "basemap"]
    return render(request, "maps/map.html", {
        "layers": [(ly.name, str(ly.title)) for ly in layers],
        "extent": _extent(user, parse_id(request.GET.get("at"))),
        "can_designate": access.has_perm(user, access.ZONES_WRITE),
        "detail_zoom": queries.DETAIL_ZOOM,
        "max_selection": queries.MAX_SELECTION,
        "layer_url": reverse("api:maps_layer", args=["basemap"]).rsplit("basemap", 1)[0],
        "designate_url": reverse("maps_designate"),
    })


def _selected_ids(raw: str) -> list[int]:
    ids = [parse_id(x) for x in (raw or "").replace(" ", ",").split(",") if x]
    if not ids or None in ids or len(ids) > queries.MAX_SELECTION:
        raise access.NotFound
    return ids


@route("maps/designate/", "maps_designate")
@access.require(access.ZONES_WRITE)
def designate(request):
    """The units and buildings selected on the map: who lives inside (households, residents, special groups)
    and the guardrail flags designating them would raise, then the designation (zones' action, audited). Without
    a selection, the map to make one."""
    user = request.user
    raw = request.POST.get("areas") if request.method == "POST" else request.GET.get("areas")
    if raw is None and request.method == "GET":
        return redirect("maps_map")  # nothing selected yet: the selection is made on the map
    areas = queries.selection(user, _selected_ids(raw))
    form = forms.SelectionForm(request.POST or None, initial={"areas": ",".join(str(a.pk) for a in areas)})
    confirm = request.method == "POST" and "confirm" in request.POST
    level, infections, note = "high", [], ""
    if request.method == "POST" and form.is_valid():
        level, note = form.cleaned_data["level"], form.cleaned_data["exposure_note"]
        try:
            infections = linked_infections(user, form.cleaned_data["infections"])
        except ActionError as exc:
            form.add_error("infections", str(exc))

    if confirm and not form.errors:
        try:
            made = actions.do_designate_selection(areas, level, reason=form.cleaned_data["reason"],
                                                  infections=infections, exposure_note=note, actor=user)
            return done(request, _("Designated %(n)s areas from the map.") % {"n": len(made)}, "zones_list")
        except ActionError as exc:
            bind_error(form, exc)
    return render(request, "maps/designate.html", {
        "form": form, "areas": areas, "inside": queries.who_lives_inside(areas, clock.today()),
        "may_read_personal": access.has_perm(user, access.READ_PERSONAL),
        "flags": [(a, v.rule, v.message("zh" if reads_chinese() else "en"))
                  for a, vs in queries.guardrail_preview(areas, level, infections=[i.label for i in infections],
                                                         exposure_note=note) for v in vs],
        "level": level, "map_url": reverse("maps_map") + f"?at={areas[0].pk}",
    }, status=400 if request.method == "POST" and form.errors else 200)


@route("public/map", "public_map")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_map(request):
    """The public risk-area list on a map: the same areas, nothing more (the features of the GeoJSON), over the
    city's district outlines (geometry and names only)."""
    q = search_text(request)
    return render(request, "maps/public_map.html", {
        "q": q, "districts": queries.district_outlines(), "geojson_url": reverse("public_risk_areas_geojson") + ("?" + urlencode({"q": q}) if q else ""),
        "extent": list(citygen_data.EXTENT), "updated": clock.now()})


@route("public/risk-areas.geojson", "public_risk_areas_geojson")
@access.public
@require_GET
@cache_control(**PUBLIC_CACHE)
def public_geojson(request):
    """The public risk-area list as RFC 7946 GeoJSON (one feature per listed area)."""
    body, content_type = queries.public_geojson_body(search_text(request))
    resp = HttpResponse(body, content_type=content_type)
    resp["Access-Control-Allow-Origin"] = "*"
    return resp

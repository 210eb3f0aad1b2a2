"""API of the maps: each layer as GeoJSON for a viewport and a zoom level, within the caller's jurisdiction
(``maps.queries``). The map page reads these; so may any client holding the layer's capability."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from cordon.core import access
from cordon.core.actions import ActionError
from cordon.core.api import current_user
from cordon.core.fields import finite, integer, one_of
from cordon.maps import queries, tiles

router = Router(tags=["maps"])


class ViewQuery(Schema):
    west: finite(-180, 180) = -180.0
    south: finite(-90, 90) = -90.0
    east: finite(-180, 180) = 180.0
    north: finite(-90, 90) = 90.0
    zoom: integer(0, 22, strict=False) = 10
    # a building-zoom tile (maps.tiles): its column and row, both or neither; the viewport is then the tile's
    tx: integer(0, tiles.MAX_TX, strict=False) | None = None
    ty: integer(0, tiles.MAX_TY, strict=False) | None = None


class FeatureCollectionOut(Schema):
    type: one_of(["FeatureCollection"])
    features: list[dict]


@router.get("/maps/layers/{name}", response=FeatureCollectionOut, url_name="maps_layer")
def get_layer(request, name: one_of(queries.LAYERS), f: Query[ViewQuery]):
    """A layer (basemap, risk, observation, infections, facilities, keyplaces, screening, special) as a GeoJSON
    FeatureCollection: points below zoom 15, the shapes in the viewport from 15 on; with ``tx`` and ``ty``, the
    building-zoom tile they name (its box at zoom 15; zoom must be 15 or more), the same answer as that box
    asked as a viewport. 404 for a layer the caller's roles do not read."""
    user = current_user(request)
    if (f.tx is None) != (f.ty is None):
        raise ActionError(_("give both tx and ty, or neither"), field="ty" if f.ty is None else "tx")
    if f.tx is not None:
        if f.zoom < queries.DETAIL_ZOOM:
            raise ActionError(_("tiles are for zoom %(z)s and more") % {"z": queries.DETAIL_ZOOM}, field="zoom")
        return HttpResponse(tiles.tile(user, name, f.tx, f.ty), content_type="application/json")
    if f.east <= f.west:
        raise ActionError(_("east must be greater than west"), field="east")
    if f.north <= f.south:
        raise ActionError(_("north must be greater than south"), field="north")
    text = queries.layer(user, name, queries.View(f.west, f.south, f.east, f.north, f.zoom))
    return HttpResponse(text, content_type="application/json")  # GeoJSON, as the schema documents it


access.declare_operations(router, {"get_layer": access.VIEW})

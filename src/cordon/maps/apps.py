"""Maps: area geometry, the map pages and their layers, the public map (issue 19)."""
from django.apps import AppConfig

from cordon.places import hooks

#: The public risk-area GeoJSON's path (``maps.views.public_geojson``; its tests check ``reverse`` gives it).
PUBLIC_GEOJSON = "/public/risk-areas.geojson"


def _generate_shapes():
    """After a bulk load of the synthetic city: lay out its geometry (``citygen.geometry``)."""
    from cordon.maps.actions import do_generate_shapes  # models load after app configs

    do_generate_shapes()


class MapsConfig(AppConfig):
    name = "cordon.maps"
    label = "maps"
    verbose_name = "Maps"

    def ready(self):
        hooks.connect("map_shapes", _generate_shapes)
        from cordon.core import stamps
        from cordon.maps.models import Shape
        from cordon.places.models import Area
        from cordon.zones.models import Designation, Member

        # the public GeoJSON and the building-zoom tiles are kept while no designation, shape or area (their
        # names, units, paths) changes (core.stamps)
        stamps.watch("risk_areas", Designation, Member)
        stamps.watch("shapes", Shape)
        stamps.watch("areas", Area)
        from cordon.maps import situation
        from cordon.situation import hooks as situation_hooks

        hooks.connect("maps", situation.panel, situation_hooks.MAP_PANEL)
        hooks.connect("maps", situation.report_map, situation_hooks.REPORT_MAP)
        from cordon.maps.queries import public_geojson_body

        # a rush on the public GeoJSON is answered right after WhiteNoise (its view answers the same)
        situation_hooks.PUBLIC_FAST[PUBLIC_GEOJSON] = public_geojson_body

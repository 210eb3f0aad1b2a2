"""Maps: area geometry, the map pages and their layers, the public map (issue 19)."""
from django.apps import AppConfig

from cordon.places import hooks


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

"""``cordon demo``: the city's geometry (laid out by the bulk load's hook, or here when the load ran inside a
transaction and the hook did not), so the map pages, the public map and the situation maps have shapes."""
from __future__ import annotations


def run() -> None:
    from cordon.maps.actions import do_generate_shapes
    from cordon.maps.models import Shape

    if not Shape.objects.exists():
        do_generate_shapes(actor="demo")
    print(f"Demo maps: {Shape.objects.count()} area shapes inside Lanzhou's extent; the map at /maps/ (designate "
          f"from it), the public map at /public/map and /public/risk-areas.geojson")

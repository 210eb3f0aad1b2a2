import pytest


@pytest.fixture
def mapped(city, commander):
    """The tiny city with its geometry, unit A designated high and unit B medium, and a third area (community B's
    compound) lifted-and-kept out of the public list by being low."""
    from cordon.maps.actions import do_generate_shapes
    from cordon.zones.actions import do_designate

    do_generate_shapes(actor="test")
    a = do_designate(city["unit_a"], "high", reason="P1 lives here", exposure_note="P1", actor=commander)
    b = do_designate(city["unit_b"], "medium", reason="P2 stayed here", exposure_note="P2", actor=commander)
    return {**city, "d_a": a, "d_b": b}


@pytest.fixture(autouse=True)
def _public_geojson_fresh(monkeypatch):
    """Each request reads the public GeoJSON afresh (a server process keeps it ``PUBLIC_TTL`` seconds)."""
    from cordon.maps import queries

    monkeypatch.setattr(queries, "PUBLIC_TTL", 0.0)
    queries._PUBLIC_MEMO.clear()
    queries.forget_wide()  # whether the city has wide buildings: each test's city is its own

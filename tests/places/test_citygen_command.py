"""``cordon citygen``: the synthetic city into the configured (here: the test) database."""
from __future__ import annotations

import pytest

from cordon.citygen import City
from cordon.cli import main
from cordon.core.models import AuditEntry
from cordon.places.models import Area, Household, Resident

pytestmark = pytest.mark.django_db


def _counts():
    return Area.objects.count(), Household.objects.count(), Resident.objects.count()


def test_generates_then_refuses_then_replaces(capsys):
    assert main(["citygen", "--population", "300", "--seed", "4", "--no-progress"]) == 0
    c4 = City(300, seed=4)
    assert _counts() == (c4.n_areas, c4.n_households, 300)
    assert f"{c4.n_areas:,} areas" in capsys.readouterr().out
    paths = set(Area.objects.values_list("path", flat=True))
    run = AuditEntry.objects.get(action="city.generate")
    assert run.after["population"] == 300 and run.after["seed"] == 4 and run.after["replaced_areas"] == 0

    # a database that has a city is refused without --replace, and left as it was
    assert main(["citygen", "--population", "500", "--no-progress"]) == 1
    assert "already has a city" in capsys.readouterr().err
    assert _counts() == (c4.n_areas, c4.n_households, 300)

    assert main(["citygen", "--population", "500", "--seed", "9", "--replace", "--no-progress"]) == 0
    c9 = City(500, seed=9)
    assert _counts() == (c9.n_areas, c9.n_households, 500)
    assert set(Area.objects.values_list("path", flat=True)) != paths
    assert Area.objects.filter(depth=0).values_list("population", flat=True).count() >= 1
    assert sum(Area.objects.filter(depth=0).values_list("population", flat=True)) == 500
    assert AuditEntry.objects.filter(action="city.generate").count() == 2


def test_replace_refused_while_records_point_at_the_city(worker, capsys):
    """An account's grant over a community (and the test city's residents) would be left pointing at places
    that no longer exist: refused, nothing changed."""
    before = _counts()
    assert main(["citygen", "--population", "300", "--replace", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "cannot replace the city while other records point at it" in err and "core.Grant.area" in err
    assert _counts() == before


def test_bounds(capsys):
    assert main(["citygen", "--population", "10", "--no-progress"]) == 2
    assert "--population must be between" in capsys.readouterr().err
    assert not Area.objects.exists()

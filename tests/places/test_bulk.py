"""Bulk load of the synthetic city (``cordon.places.bulk.load_city``) on the configured database."""
from __future__ import annotations

import io

import pytest
from django.db import connection
from django.db.models import Sum

from cordon.citygen import WELL_KNOWN_UNIT, City
from cordon.core.ids import id_number_error
from cordon.core.models import LEVELS
from cordon.places.bulk import CityNotEmpty, Progress, load_city
from cordon.places.models import Area, Household, Resident


def _constraints():
    out = {}
    with connection.cursor() as c:
        for model in (Area, Household, Resident):
            table = model._meta.db_table
            out[table] = {name: (tuple(info["columns"]), info["unique"], info["index"], info["foreign_key"])
                          for name, info in connection.introspection.get_constraints(c, table).items()}
    return out


def _check_city(population):
    city = City(population, seed=5)
    assert Area.objects.count() == city.n_areas
    assert Household.objects.count() == city.n_households
    assert Resident.objects.count() == population
    areas = {a.id: a for a in Area.objects.all()}
    by_path = {a.path: a for a in areas.values()}
    # ancestor ids agree with the paths and the parents
    for a in areas.values():
        parts = a.path.split("/")
        assert a.depth == len(parts) - 1 and a.kind == LEVELS[a.depth] and a.name == parts[-1]
        for lv in range(6):
            anc = getattr(a, f"{LEVELS[lv]}_id")
            if lv <= a.depth:
                assert areas[anc].path == "/".join(parts[: lv + 1])
            else:
                assert anc is None
        assert (a.parent_id is None) == (a.depth == 0)
        if a.parent_id:
            assert areas[a.parent_id].path == "/".join(parts[:-1])
    # households and residents carry their unit's ancestors
    for h in Household.objects.all()[:300]:
        assert h.scope_dict() == areas[h.unit_id].scope_dict()
    for r in Resident.objects.select_related("household")[:300]:
        assert r.scope_dict() == r.household.scope_dict()
        assert id_number_error(r.id_number) is None
    # populations add up level by level
    total = Area.objects.filter(depth=0).aggregate(s=Sum("population"))["s"]
    assert total == population
    for a in list(areas.values())[:200]:
        if a.depth < 5:
            assert a.population == sum(c.population for c in areas.values() if c.parent_id == a.id)
        else:
            assert a.population == Resident.objects.filter(unit_id=a.id).count()
    assert WELL_KNOWN_UNIT in by_path
    assert Resident.objects.filter(unit=by_path[WELL_KNOWN_UNIT]).exists()
    # the sequences continue after the loaded ids
    area = Area.objects.create(kind="district", name="测试区", path="测试区", depth=0)
    assert area.id == city.n_areas + 1


@pytest.mark.django_db(transaction=True)
def test_load_city_outside_a_transaction_restores_settings():
    before = _constraints()
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        pragmas = {p: connection.connection.execute(f"PRAGMA {p}").fetchone()[0]
                   for p in ("synchronous", "journal_mode", "foreign_keys", "cache_size")}
    stats = load_city(2_000, seed=5, progress=False)
    assert stats["residents"] == 2_000 and stats["rows"] == stats["areas"] + stats["households"] + 2_000
    assert _constraints() == before  # every index and constraint is back
    if connection.vendor == "sqlite":
        assert pragmas == {p: connection.connection.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
    _check_city(2_000)
    # a second load is refused, unless replacing
    with pytest.raises(CityNotEmpty):
        load_city(2_000, seed=5, progress=False)
    Area.objects.filter(path="测试区").delete()
    load_city(2_000, seed=5, progress=False, replace=True)
    _check_city(2_000)
    _check_search()


def _check_search():
    """The loaded city is searchable every way (the load fills the search indexes; the triggers that keep
    SQLite's in step are back afterwards)."""
    import datetime as dt

    from cordon.core import ids
    from cordon.places.actions import do_create_resident
    from cordon.places.models import Household
    from cordon.places.queries import search_residents
    from tests.conftest import _user

    everyone = _user("search-commander", "commander", None)
    for r in Resident.objects.exclude(phone="").order_by("id")[::400]:
        for q in (r.id_number, r.id_number[-5:], r.phone[-7:], r.name, r.name[1:]):
            found = search_residents(everyone, q, limit=500)
            assert r in found.residents or found.more, q
    new = do_create_resident(Household.objects.order_by("id").first(),
                             {"name": "欧阳测试", "id_number": ids.make_id_number("620102", dt.date(1990, 1, 1), 499, "M"),
                              "phone": "13912345678"}, actor="test")
    assert search_residents(everyone, "阳测试").residents == [new]


@pytest.mark.django_db
def test_load_city_inside_a_test_transaction():
    load_city(1_500, seed=5, progress=False)
    assert Resident.objects.count() == 1_500
    assert Area.objects.get(path=WELL_KNOWN_UNIT).population > 0


@pytest.mark.django_db
def test_replace_refuses_while_grants_point_at_the_city(django_user_model):
    from cordon.core.models import Grant

    load_city(1_000, seed=5, progress=False)
    user = django_user_model.objects.create(username="w")
    Grant.objects.create(user=user, role="community_worker", area=Area.objects.get(path=WELL_KNOWN_UNIT))
    with pytest.raises(CityNotEmpty, match="Grant"):
        load_city(1_000, seed=5, progress=False, replace=True)


def test_progress_bar_text():
    out = io.StringIO()
    bar = Progress(200, stream=out)
    bar.update(100, "residents", force=True)
    bar.update(100, force=True)
    bar.close()
    text = out.getvalue()
    assert "50.0%" in text and "100.0%" in text and text.endswith("\n")

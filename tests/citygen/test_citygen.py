"""The synthetic city generator (pure: no database)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from cordon.citygen import (AREA_FIELDS, HOUSEHOLD_FIELDS, RESIDENT_FIELDS, WELL_KNOWN_UNIT, City,
                            age_distribution)
from cordon.citygen.data import DISTRICTS, cn_number
from cordon.core.ids import birth_date_of, id_number_error, phone_error, sex_of

TODAY = dt.date(2022, 11, 8)


def _residents(city):
    return [r for ch in city.resident_chunks() for r in ch.rows()]


@pytest.fixture(scope="module")
def city20k():
    city = City(20_000, seed=3)
    return city, _residents(city)


def test_same_seed_same_city_other_seed_differs():
    a, b, c = City(3_000, seed=7), City(3_000, seed=7), City(3_000, seed=8)
    assert [r for ch in a.areas() for r in ch] == [r for ch in b.areas() for r in ch]
    assert [r for ch in a.households() for r in ch] == [r for ch in b.households() for r in ch]
    ra, rb, rc = _residents(a), _residents(b), _residents(c)
    assert ra == rb
    assert ra != rc


@pytest.mark.parametrize("population", [100, 1_000, 2_345, 50_000])
def test_well_known_path_and_exact_population(population):
    city = City(population, seed=1)
    uid = city.area_id(WELL_KNOWN_UNIT)
    assert uid is not None
    assert city.area_kind[uid] == 5
    assert city.area_population[uid] > 0
    assert city.counts()["residents"] == population
    assert int(city.hh_size.sum()) == population
    assert city.area_population[city.area_kind == 0].sum() == population
    assert city.counts()["district"] == len(DISTRICTS)


def test_rows_match_layouts_and_paths_are_unique(city20k):
    city, residents = city20k
    areas = [r for ch in city.areas() for r in ch]
    households = [r for ch in city.households() for r in ch]
    assert all(len(r) == len(AREA_FIELDS) for r in areas)
    assert all(len(r) == len(HOUSEHOLD_FIELDS) for r in households)
    assert all(len(r) == len(RESIDENT_FIELDS) for r in residents)
    paths = [r[4] for r in areas]
    assert len(set(paths)) == len(paths)
    by_id = {r[0]: r for r in areas}
    for aid, _kind, name, parent, path, depth, _pop, *anc in areas:
        assert anc[depth] == aid and all(a is None for a in anc[depth + 1:])
        if parent:
            p = by_id[parent]
            assert path == p[4] + "/" + name and depth == p[5] + 1 and anc[:depth] == list(p[7:7 + depth])
        else:
            assert depth == 0 and path == name
    # household and resident ancestors are those of their unit; unit populations add up
    unit_of = {r[0]: r[-1] for r in households}
    per_unit = Counter(unit_of[r[1]] for r in residents)
    for r in households[:500]:
        assert r[2:] == by_id[r[-1]][7:]
    for r in residents[:500]:
        assert r[-1] == unit_of[r[1]]
    for uid, n in per_unit.items():
        assert by_id[uid][6] == n
    # door numbers unique within a unit
    assert len({(r[-1], r[1]) for r in households}) == len(households)


def test_id_numbers_valid_unique_and_consistent(city20k):
    _, residents = city20k
    regions = {d[0]: d[1] for d in DISTRICTS}
    ids = [r[3] for r in residents]
    assert len(set(ids)) == len(ids)
    for r in residents:
        assert id_number_error(r[3]) is None, r[3]
        assert birth_date_of(r[3]).isoformat() == r[5]
        assert sex_of(r[3]) == r[6]
        assert r[3][:4] == "6201"
    assert set(i[:6] for i in ids) == set(regions.values())


def test_id_numbers_unique_when_many_share_a_birthday():
    # a dense city: far more people per (district, birth date, sex) than a small one
    city = City(400_000, seed=2)
    seen = set()
    n = 0
    for ch in city.resident_chunks():
        seen.update(ch.id_number)
        n += len(ch)
    assert len(seen) == n == 400_000


def test_phones_valid_unique_and_children_without(city20k):
    _, residents = city20k
    phones = [r[4] for r in residents if r[4]]
    assert len(set(phones)) == len(phones)
    assert all(phone_error(p) is None for p in phones)
    for r in residents:
        age = (TODAY - dt.date.fromisoformat(r[5])).days // 365.25
        if age < 11:
            assert r[4] == ""


def test_household_sizes_and_heads(city20k):
    city, residents = city20k
    mean = city.population / city.n_households
    assert 2.45 < mean < 2.8
    sizes = Counter(city.hh_size.tolist())
    assert 0.22 < sizes[1] / city.n_households < 0.29
    # the first member of every household is an adult
    first = {}
    for r in residents:
        first.setdefault(r[1], r)
    assert all(dt.date.fromisoformat(r[5]) <= dt.date(2002, 11, 8) for r in first.values())


def test_names_look_chinese(city20k):
    _, residents = city20k
    names = [r[2] for r in residents]
    assert all(2 <= len(n) <= 4 for n in names)
    assert Counter(n[0] for n in names).most_common(1)[0][0] in "王李张"


def test_special_group_rates(city20k):
    city, residents = city20k
    n = len(residents)
    chunks = list(city.resident_chunks())
    age = np.concatenate([c.age for c in chunks])
    female = np.concatenate([np.array(c.sex) == "F" for c in chunks])
    pregnant = np.concatenate([np.array([d is not None for d in c.pregnant_due]) for c in chunks])
    alone = np.concatenate([c.lives_alone for c in chunks])
    treat = Counter(t for c in chunks for t in c.treatment)
    disability = sum(int(c.disability.sum()) for c in chunks)
    chronic = sum(int(c.chronic_illness.sum()) for c in chunks)
    assert 0.018 < (age >= 80).mean() < 0.034
    assert 0.004 < (age < 1).mean() < 0.012
    assert 0.012 < alone.mean() < 0.035
    assert (age[alone] >= 60).all()
    w2040 = female & (age >= 20) & (age <= 40)
    assert 0.004 < pregnant[w2040].mean() < 0.02
    assert not pregnant[~w2040].any()
    dues = [dt.date.fromisoformat(d) for c in chunks for d in c.pregnant_due if d]
    assert all(TODAY < d <= TODAY + dt.timedelta(days=280) for d in dues)
    assert treat["dialysis"] / n < 0.002
    assert 0.0002 < treat["chemotherapy"] / n < 0.003
    assert 0.003 < treat["other"] / n < 0.008
    assert 0.028 < disability / n < 0.045
    assert 0.023 < chronic / n < 0.038
    assert 0.47 < female.mean() < 0.52


def test_age_distribution_and_today():
    p = age_distribution()
    assert abs(p.sum() - 1) < 1e-9
    assert 0.007 < p[0] < 0.009
    assert 0.02 < p[80:].sum() < 0.03
    a = City(1_000, seed=1, today=dt.date(2030, 1, 1))
    b = City(1_000, seed=1)
    ra, rb = _residents(a), _residents(b)
    assert ra[0][5] != rb[0][5]  # same people, born relative to another "today"
    assert all(r[5] < "2030-01-01" for r in ra)


def test_rural_parts_use_villages_and_groups():
    city = City(1_000_000, seed=1)  # the tree only; residents are not generated
    names = city.area_name
    kinds = city.area_kind
    assert any(n.endswith("村") for n, k in zip(names, kinds) if k == 2)
    assert any(n.endswith("组") for n, k in zip(names, kinds) if k == 3)
    assert any(n.endswith("社区") for n, k in zip(names, kinds) if k == 2)


def test_small_populations_refused():
    with pytest.raises(ValueError):
        City(10)


def test_cn_number():
    assert [cn_number(i) for i in (1, 10, 12, 20, 35, 101, 110)] == ["一", "十", "十二", "二十", "三十五", "一百零一",
                                                                      "一百一十"]

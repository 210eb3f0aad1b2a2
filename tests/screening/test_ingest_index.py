"""``screening.ingest.index``: ID numbers as sorted keys, looked up in one vectorised pass; the index read
from the database agrees with the residents, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cordon.core import ids
from cordon.places.bulk import load_city
from cordon.places.models import Area, Resident
from cordon.screening.ingest.index import ResidentIndex, id_keys


def test_keys_check_bytes_and_malformed_numbers():
    a = ids.make_id_number("620102", dt.date(1980, 5, 17), 12, "F")
    x = a[:17] + "x"
    keys, chk, ok = id_keys(np.array([a, x, "62010219800517A23X", "1" * 18], dtype="S18"))
    assert keys[0] == keys[1] == int(a[:17]) and keys[3] == int("1" * 17)
    assert chk.tolist() == [ord(a[17]), ord("X"), ord("X"), ord("1")]
    assert ok.tolist() == [True, True, False, True]


def test_lookup_finds_ids_and_units_and_refuses_wrong_check_bytes():
    nums = sorted(ids.make_id_number("620102", dt.date(1970 + i, 1, 1), i, "M") for i in range(5))
    keys, chk, _ = id_keys(np.array(nums, dtype="S18"))
    idx = ResidentIndex(keys, chk, np.arange(10, 15, dtype=np.int64), np.arange(100, 105, dtype=np.int64),
                        np.zeros((1, 6), dtype=np.int64))
    assert idx.max_rid == 14
    wrong = nums[2][:17] + ("0" if nums[2][17] != "0" else "1")
    probe = np.array([nums[3], wrong, "999999999999999999", nums[0]], dtype="S18")
    found, rid, unit = idx.lookup(probe)
    assert found.tolist() == [True, False, False, True]
    assert rid[found].tolist() == [13, 10] and unit[found].tolist() == [103, 100]
    empty = ResidentIndex(*(np.zeros(0, dtype=d) for d in (np.uint64, np.uint8, np.int64, np.int64)),
                          np.zeros((1, 6), dtype=np.int64))
    assert empty.lookup(probe)[0].tolist() == [False] * 4


@pytest.mark.django_db
def test_index_read_from_the_database_resolves_every_resident():
    load_city(400, seed=2, progress=False)
    ResidentIndex._cache.clear()
    idx = ResidentIndex.load(Resident.objects.count())
    rows = list(Resident.objects.values_list("id_number", "id", "unit_id"))
    found, rid, unit = idx.lookup(np.array([r[0] for r in rows], dtype="S18"))
    assert found.all() and rid.tolist() == [r[1] for r in rows] and unit.tolist() == [r[2] for r in rows]
    u = rows[0][2]
    area = Area.objects.get(pk=u)
    assert idx.anc[u].tolist() == [area.district_id, area.street_id, area.community_id, area.compound_id,
                                   area.building_id, area.unit_id or 0]
    ResidentIndex._cache.clear()

"""A grant filters on its node's whole ancestor chain (district, street, community, ...), so the tables written
most (orders, audit rows) are read through one composite scope index and keep no per-level indexes; the rows
a user sees are exactly the node's."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cordon.core import access
from cordon.core.models import AuditEntry
from cordon.places.models import Area, Resident


def _keyplace(city, node):
    from tests.conftest import _user

    return _user(f"kp_{node.kind}", "keyplace_manager", node)


def test_compound_grant_names_its_community(city):
    compound = Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区")
    user = _keyplace(city, compound)
    scope = access.scope_for(user)
    assert scope.above[compound.pk] == (("district", city["district"].pk), ("street", city["street"].pk),
                                        ("community", city["community_a"].pk))
    q = str(scope.q())
    assert "district_id" in q and "street_id" in q and "community_id" in q and "compound_id__in" in q
    with CaptureQueriesContext(connection) as ctx:
        ids = set(Resident.objects.for_user(user).values_list("pk", flat=True))
    assert "community_id" in ctx.captured_queries[-1]["sql"]
    assert ids == {city["resident_a"].pk, city["resident_a2"].pk}


def test_unit_grant_sees_only_its_unit_audit_rows(city):
    user = _keyplace(city, city["unit_b"])
    rows = list(AuditEntry.objects.for_user(user))
    assert rows and all(r.unit_id == city["unit_b"].pk for r in rows)
    assert AuditEntry.objects.filter(unit_id=city["unit_b"].pk).count() == len(rows)
    # Nothing of the other community's unit leaks through the community condition.
    assert not [r for r in rows if r.community_id == city["community_a"].pk]


def test_community_grant_names_district_and_street(city, worker):
    scope = access.scope_for(worker)
    assert scope.above == {city["community_a"].pk: (("district", city["district"].pk),
                                                    ("street", city["street"].pk))}
    assert access.within(city["community_a"]) == {"district_id": city["district"].pk, "street_id": city["street"].pk,
                                                   "community_id": city["community_a"].pk}
    # The extra conditions never change the rows: the same as filtering on the community alone.
    by_chain = set(Resident.objects.for_user(worker).values_list("pk", flat=True))
    plain = set(Resident.objects.filter(community_id=city["community_a"].pk).values_list("pk", flat=True))
    assert by_chain == plain and len(plain) == 2

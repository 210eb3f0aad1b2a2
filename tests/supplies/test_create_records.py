"""Creating supplies set-up records from the pages and the API: warehouses, items, delivery teams. One audit
row of the action on success; read-only roles get 403; an area outside the jurisdiction is 404 (API) or a
field error (page); bad input is a clear 400."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cordon.core.models import AuditEntry
from cordon.supplies.models import DeliveryTeam, Item, Warehouse

pytestmark = pytest.mark.django_db


CREATES = ("warehouse.create", "item.create", "delivery_team.create")


def _creates() -> int:
    return AuditEntry.objects.filter(action__in=CREATES).count()


def _post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _logistics(city):
    from cordon.core.actions import do_create_user

    u, _ = do_create_user("logi", "test-pass-2022", role="logistics_officer", area=city["community_a"])
    return u


def test_api_creates_warehouse_item_team_with_one_audit_row(city, as_user):
    c = as_user(_logistics(city))
    for path, body, action in (
            ("/api/supplies/warehouses", {"name": "五泉物资点", "area_id": city["community_a"].pk}, "warehouse.create"),
            ("/api/supplies/items", {"name": "粮油包", "kind": "staple", "per_person_per_day": "0.15",
                                     "baseline_price": "60"}, "item.create"),
            ("/api/supplies/teams", {"name": "五泉配送队", "area_id": city["unit_a"].pk, "leader": "马师傅"},
             "delivery_team.create")):
        before = AuditEntry.objects.count()
        r = _post(c, path, body)
        assert r.status_code == 201, r.content
        new = AuditEntry.objects.filter(pk__gt=0).order_by("-id")[: AuditEntry.objects.count() - before]
        assert [e.action for e in new] == [action]
        assert new[0].actor_name == "logi"
    w = Warehouse.objects.get(name="五泉物资点")
    assert w.community_id == city["community_a"].pk
    assert Item.objects.get(name="粮油包").per_person_per_day == Decimal("0.15")
    assert DeliveryTeam.objects.get(name="五泉配送队").leader == "马师傅"


def test_api_read_only_403_outsider_404(city, auditor, outsider, as_user):
    before = _creates()
    for path, body in (("/api/supplies/warehouses", {"name": "x", "area_id": city["community_a"].pk}),
                       ("/api/supplies/items", {"name": "x", "kind": "other"}),
                       ("/api/supplies/teams", {"name": "x", "area_id": city["community_a"].pk})):
        assert _post(as_user(auditor), path, body).status_code == 403
    for path in ("/api/supplies/warehouses", "/api/supplies/teams"):
        assert _post(as_user(outsider), path, {"name": "x", "area_id": city["community_a"].pk}).status_code == 404
    assert _creates() == before
    assert not Warehouse.objects.exists() and not Item.objects.exists() and not DeliveryTeam.objects.exists()


def test_api_bad_input_is_a_clear_400(city, worker, as_user):
    c = as_user(worker)
    r = _post(c, "/api/supplies/items", {"name": "奶粉", "kind": "toys"})
    assert r.status_code == 400 and "kind" in r.content.decode()
    r = _post(c, "/api/supplies/warehouses", {"name": "  ", "area_id": city["community_a"].pk})
    assert r.status_code == 400 and "name" in r.content.decode()
    assert _post(c, "/api/supplies/items", {"name": "奶粉", "kind": "other"}).status_code == 201
    before = _creates()
    r = _post(c, "/api/supplies/items", {"name": "奶粉", "kind": "other"})
    assert r.status_code == 400 and r.json()["detail"] == "已有名为 '奶粉' 的物资"
    assert _creates() == before and Item.objects.count() == 1


def test_pages_create_records(city, worker, as_user):
    c = as_user(worker)
    assert c.get("/supplies/new/warehouse/").status_code == 200
    before = AuditEntry.objects.count()
    r = c.post("/supplies/new/warehouse/", {"name": "五泉物资点", "area": city["community_a"].path})
    assert r.status_code == 302
    r = c.post("/supplies/new/item/", {"name": "蔬菜包", "kind": "vegetables", "unit": "份",
                                       "per_person_per_day": "0.5", "baseline_price": "20"})
    assert r.status_code == 302
    r = c.post("/supplies/new/team/", {"name": "五泉配送队", "area": city["unit_a"].path, "phone": "13909310000"})
    assert r.status_code == 302
    assert [e.action for e in AuditEntry.objects.filter(id__gt=0).order_by("id")][-3:] == \
        ["warehouse.create", "item.create", "delivery_team.create"]
    assert AuditEntry.objects.count() == before + 3
    assert "五泉物资点" in c.get("/supplies/").content.decode()


def test_pages_refuse_read_only_and_bad_input(city, auditor, outsider, worker, as_user):
    assert as_user(auditor).get("/supplies/new/item/").status_code == 403
    assert as_user(auditor).post("/supplies/new/item/", {"name": "x", "kind": "other", "unit": "份",
                                                         "per_person_per_day": "0"}).status_code == 403
    r = as_user(outsider).post("/supplies/new/warehouse/", {"name": "x", "area": city["community_a"].path})
    assert r.status_code == 400 and "area" in r.context["form"].errors
    r = as_user(worker).post("/supplies/new/item/", {"name": "x", "kind": "other", "unit": "份",
                                                     "per_person_per_day": "-1"})
    assert r.status_code == 400
    assert as_user(worker).get("/supplies/new/nothing/").status_code == 404
    assert not Warehouse.objects.exists() and not Item.objects.exists()

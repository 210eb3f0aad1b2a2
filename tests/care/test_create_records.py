"""Registering hospitals and closed-loop vehicles from the pages and the API (medical dispatchers and staff
with write access): one audit row of the action; read-only roles 403; bad input a clear 400."""
from __future__ import annotations

import json

import pytest

from cordon.care.models import Hospital, Vehicle
from cordon.core.models import AuditEntry

pytestmark = pytest.mark.django_db


CREATES = ("care_hospital.create", "care_vehicle.create")


def _creates() -> int:
    return AuditEntry.objects.filter(action__in=CREATES).count()


def _post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_dispatcher_registers_hospital_and_vehicle_via_api(city, as_user):
    from cordon.core.actions import do_create_user

    disp, _ = do_create_user("disp", "test-pass-2022", role="medical_dispatcher", area=city["district"])
    c = as_user(disp)
    for path, body, action in (("/api/care/hospitals", {"name": "城关区医院", "area_id": city["district"].pk,
                                                         "phone": "0931-1234567"}, "care_hospital.create"),
                               ("/api/care/vehicles", {"plate": "甘A·120X1", "team": "城关120站"},
                                "care_vehicle.create")):
        before = AuditEntry.objects.count()
        r = _post(c, path, body)
        assert r.status_code == 201, r.content
        new = list(AuditEntry.objects.order_by("-id")[: AuditEntry.objects.count() - before])
        assert [e.action for e in new] == [action] and new[0].actor_name == "disp"
    assert Hospital.objects.get().area == city["district"]
    assert Vehicle.objects.get().closed_loop


def test_api_read_only_403_outsider_404_bad_input_400(city, auditor, outsider, worker, as_user):
    before = _creates()
    assert _post(as_user(auditor), "/api/care/hospitals",
                 {"name": "x", "area_id": city["community_a"].pk}).status_code == 403
    assert _post(as_user(auditor), "/api/care/vehicles", {"plate": "甘A·1"}).status_code == 403
    assert _post(as_user(outsider), "/api/care/hospitals",
                 {"name": "x", "area_id": city["community_a"].pk}).status_code == 404
    r = _post(as_user(worker), "/api/care/vehicles", {"plate": "  "})
    assert r.status_code == 400 and "plate" in r.content.decode()
    assert _creates() == before
    assert _post(as_user(worker), "/api/care/vehicles", {"plate": "甘A·120X1"}).status_code == 201
    r = _post(as_user(worker), "/api/care/vehicles", {"plate": "甘A·120X1"})
    assert r.status_code == 400 and r.json()["detail"] == "车辆 甘A·120X1 已登记"
    assert Vehicle.objects.count() == 1 and not Hospital.objects.exists()


def test_pages_register_and_refuse(city, worker, auditor, outsider, as_user):
    c = as_user(worker)
    assert c.get("/care/setup/hospital/").status_code == 200
    before = AuditEntry.objects.count()
    assert c.post("/care/setup/hospital/", {"name": "五泉社区卫生院", "area": city["community_a"].path}).status_code == 302
    assert c.post("/care/setup/vehicle/", {"plate": "甘A·120X2", "closed_loop": "on"}).status_code == 302
    assert [e.action for e in AuditEntry.objects.order_by("id")][before:] == ["care_hospital.create",
                                                                               "care_vehicle.create"]
    assert Vehicle.objects.get().closed_loop and Hospital.objects.get().area == city["community_a"]
    r = c.post("/care/setup/hospital/", {"name": "五泉社区卫生院", "area": city["community_a"].path})
    assert r.status_code == 400 and r.context["form"].errors["name"] == ["已有名为 '五泉社区卫生院' 的医院"]
    assert as_user(auditor).get("/care/setup/vehicle/").status_code == 403
    assert as_user(auditor).post("/care/setup/vehicle/", {"plate": "甘A·9"}).status_code == 403
    r = as_user(outsider).post("/care/setup/hospital/", {"name": "x", "area": city["community_a"].path})
    assert r.status_code == 400 and "area" in r.context["form"].errors
    assert Hospital.objects.count() == 1 and Vehicle.objects.count() == 1

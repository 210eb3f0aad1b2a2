"""The phone app's server side (docs/phone-protocol.md): devices and their revocation, the slice (scoped, masked,
gzip), and the sync (idempotent, resumable, each change through the pages' action with the phone's time kept in
its audit row; duplicates reported, ended orders flagged, nothing silently dropped)."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid

import pytest

from cordon.core import clock
from cordon.core.models import AuditEntry
from cordon.phone.models import Change, Device

pytestmark = pytest.mark.django_db


def _post(c, path, body):
    return c.post(path, data=json.dumps(body), content_type="application/json")


def _device(c) -> dict:
    r = _post(c, "/api/phone/devices", {"name": "楼道手机"})
    assert r.status_code == 201, r.content
    return r.json()


def _slice(c, device: str) -> dict:
    r = c.get(f"/api/phone/slice?device={device}", HTTP_ACCEPT_ENCODING="gzip")
    assert r.status_code == 200, r.content
    assert r["Content-Encoding"] == "gzip"
    return json.loads(gzip.decompress(r.content))


def _change(kind, data, at=None) -> dict:
    return {"id": str(uuid.uuid4()), "kind": kind, "at": (at or clock.now()).isoformat(), "data": data}


def _sync(c, device, scope_hash, changes, batch=None):
    return _post(c, "/api/phone/sync", {"device": device, "batch": batch or str(uuid.uuid4()),
                                        "scope_hash": scope_hash, "changes": changes})


@pytest.fixture
def field(city):
    """Community A's field records: an open round, a sealed unit with two planned deliveries (one to be failed
    by the office), care tasks of its special-group residents, a close contact's order."""
    from cordon.care.actions import do_record_needs, do_sync_proactive_tasks
    from cordon.cases import actions as ca
    from cordon.screening.actions import do_create_round
    from cordon.supplies import actions as sa
    from cordon.zones.actions import do_designate

    today = clock.today()
    rnd = do_create_round(name="五泉社区全员", on=today, areas=[city["community_a"]], actor="test")
    d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    w = sa.do_create_warehouse("仓库", area=city["district"], actor="test")
    veg = sa.do_create_item("蔬菜包", kind="vegetables", per_person_per_day="0.5", baseline_price="20", actor="test")
    sa.do_move_stock(w, veg, direction="in", quantity=100, reason="调拨", actor="test")
    first = sa.do_issue_allocation(sa.do_allocate(d, warehouse=w, item=veg, days=1, actor="test"), actor="test")[0]
    second = sa.do_issue_allocation(sa.do_allocate(d, warehouse=w, item=veg, days=1, actor="test"), actor="test")[0]
    do_record_needs(city["resident_a2"], due_date=today + dt.timedelta(days=3), actor="test")
    do_sync_proactive_tasks(today, actor="test")
    inf = ca.do_record_infection(label="P-1", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    order = ca.do_register_contact(inf, label="K-1", last_exposure=today - dt.timedelta(days=1),
                                   identified_on=today, home=city["unit_a"], resident=city["resident_a2"],
                                   actor="test")
    from cordon.care.models import ProactiveTask

    return {"round": rnd, "designation": d, "delivery": first, "delivery2": second, "order": order,
            "task": ProactiveTask.objects.filter(done_at__isnull=True, resident=city["resident_a2"]).first()}


# ------------------------------------------------------------------------------------------ devices


def test_register_device_gives_a_key_and_is_audited(city, worker, as_user):
    c = as_user(worker)
    got = _device(c)
    assert len(got["key"]) == 43 and "=" not in got["key"]  # 32 bytes, base64url unpadded
    d = Device.objects.get(pk=got["device"])
    assert d.user == worker and d.revoked_at is None and d.expires_at > clock.now()
    e = AuditEntry.objects.get(action="phone.device.register")
    assert e.actor_name == "worker_a" and e.community_id == city["community_a"].pk
    state = c.get(f"/api/phone/devices/{got['device']}")
    assert state.status_code == 200 and state.json()["scope_hash"]


def test_someone_elses_or_expired_device_is_410_wipe(city, worker, outsider, as_user):
    got = _device(as_user(worker))
    r = as_user(outsider).get(f"/api/phone/devices/{got['device']}")
    assert r.status_code == 410 and r.json()["wipe"] is True
    assert as_user(outsider).get(f"/api/phone/slice?device={got['device']}").status_code == 410
    Device.objects.filter(pk=got["device"]).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert as_user(worker).get(f"/api/phone/devices/{got['device']}").status_code == 410


def test_roles_without_phone_use_get_403(city, auditor, commander, as_user):
    for user in (auditor, commander):
        r = _post(as_user(user), "/api/phone/devices", {"name": "x"})
        assert r.status_code == 403
    assert not Device.objects.exists()


def test_logout_and_deactivation_revoke_devices(city, worker, as_user):
    from django.test import Client

    c = Client()
    c.force_login(worker)
    got = _device(c)
    from django.contrib.auth import logout
    from django.test import RequestFactory

    req = RequestFactory().get("/")  # signing out (the logout page calls this)
    req.user = worker
    req.session = c.session
    logout(req)
    assert Device.objects.get(pk=got["device"]).revoked_at is not None
    e = AuditEntry.objects.get(action="phone.device.revoke")
    assert e.reason == "signed out" and got["device"] in e.after["devices"]
    c2 = as_user(worker)
    assert c2.get(f"/api/phone/devices/{got['device']}").status_code == 410
    second = _device(c2)
    worker.is_active = False
    worker.save()
    assert Device.objects.get(pk=second["device"]).revoked_at is not None


def test_revoke_all_devices_by_the_user(city, worker, as_user):
    c = as_user(worker)
    a, b = _device(c), _device(c)
    r = c.delete("/api/phone/devices")
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert c.delete("/api/phone/devices").json() == {"revoked": 0}
    assert all(c.get(f"/api/phone/devices/{x['device']}").status_code == 410 for x in (a, b))


def test_bad_device_name_is_400_with_field(city, worker, as_user):
    r = _post(as_user(worker), "/api/phone/devices", {"name": ""})
    assert r.status_code == 400 and r.json()["field"] == "name"
    r = _post(as_user(worker), "/api/phone/devices", {"name": "x" * 81})
    assert r.status_code == 400 and r.json()["field"] == "name"


# ------------------------------------------------------------------------------------------ slice


def test_slice_lists_buildings_and_units_with_numbers_in_number_order(city, worker, as_user):
    """2号楼 before 10号楼, 2单元 before 10单元 (a text order put 10 before 2)."""
    from cordon.places.actions import do_ensure_area

    estate = "城关区/皋兰路街道/五泉社区/五泉小区"
    for path in ("10号楼/1单元", "2号楼/10单元", "2号楼/2单元", "11号楼/1单元"):
        do_ensure_area(f"{estate}/{path}", actor="test")
    c = as_user(worker)
    data = _slice(c, _device(c)["device"])
    assert [b["name"] for b in data["buildings"]] == ["1号楼", "2号楼", "10号楼", "11号楼"]
    assert [u["name"] for u in data["buildings"][1]["units"]] == ["2单元", "10单元"]


def test_slice_is_scoped_masked_and_compressed(city, field, worker, outsider, as_user):
    c = as_user(worker)
    data = _slice(c, _device(c)["device"])
    assert data["version"] == 1 and data["user"]["username"] == "worker_a"
    assert data["user"]["screens"] == ["tubes", "deliveries", "checkins", "visits", "buildings", "care"]
    assert [a["path"] for a in data["areas"]] == ["城关区/皋兰路街道/五泉社区"]
    people = {p["id"]: p for b in data["buildings"] for u in b["units"] for h in u["households"]
              for p in h["residents"]}
    assert set(people) == {city["resident_a"].pk, city["resident_a2"].pk}
    wang = people[city["resident_a"].pk]
    assert wang["name_masked"] == "王**" and wang["age"] >= 84 and "birth_date" not in wang
    text = json.dumps(data, ensure_ascii=False)
    assert "王秀英" not in text and city["resident_a"].id_number not in text and "13909310001" not in text
    assert people[city["resident_a2"].pk]["order"]["id"] == field["order"].pk
    assert [r["id"] for r in data["rounds"]] == [field["round"].pk]
    assert {d["id"] for d in data["deliveries"]} == {field["delivery"].pk, field["delivery2"].pk}
    assert field["task"].pk in {v["task"] for v in data["visits"]}
    assert data["playbooks"] and all(p["steps"] for p in data["playbooks"])
    assert data["scope_hash"] == c.get(f"/api/phone/devices/{_device(c)['device']}").json()["scope_hash"]
    e = AuditEntry.objects.get(action="phone.slice")
    assert e.after["residents"] == 2 and e.community_id == city["community_a"].pk
    # community B's worker sees none of it
    other = as_user(outsider)
    theirs = _slice(other, _device(other)["device"])
    ids_b = {p["id"] for b in theirs["buildings"] for u in b["units"] for h in u["households"] for p in h["residents"]}
    assert ids_b == {city["resident_b"].pk}
    assert not theirs["deliveries"] and not theirs["visits"] and not theirs["rounds"]


def test_slice_query_budget(city, field, worker, as_user, django_assert_max_num_queries):
    c = as_user(worker)
    device = _device(c)["device"]
    with django_assert_max_num_queries(30):
        c.get(f"/api/phone/slice?device={device}")


# ------------------------------------------------------------------------------------------ sync


def test_tube_sync_is_idempotent_and_keeps_the_phone_time(city, field, worker, as_user):
    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    at = clock.now() - dt.timedelta(hours=2)
    tube = _change("tube", {"round": field["round"].pk, "barcode": "LZ-0001",
                            "residents": [city["resident_a"].pk, city["resident_a2"].pk]}, at=at)
    batch = str(uuid.uuid4())
    r = _sync(c, device, scope, [tube], batch=batch)
    assert r.status_code == 200, r.content
    [res] = r.json()["results"]
    assert res["status"] == "applied" and res["record"]["barcode"] == "LZ-0001"
    e = AuditEntry.objects.get(action="screening.tube_register")
    assert e.occurred_at == at and e.at > at and e.actor_name == "worker_a"
    assert e.community_id == city["community_a"].pk
    before = AuditEntry.objects.exclude(action="phone.sync").count()
    again = _sync(c, device, scope, [tube], batch=batch)  # the same batch resent: nothing new written
    assert again.json()["results"] == r.json()["results"]
    assert AuditEntry.objects.exclude(action="phone.sync").count() == before
    assert Change.objects.count() == 1
    # the same barcode from another phone change: a duplicate, reported; a person already registered too
    dup = _change("tube", {"round": field["round"].pk, "barcode": "LZ-0001", "residents": [city["resident_a"].pk]})
    dup2 = _change("tube", {"round": field["round"].pk, "barcode": "LZ-0002", "residents": [city["resident_a"].pk]})
    out = _sync(c, device, scope, [dup, dup2]).json()["results"]
    assert [x["status"] for x in out] == ["duplicate", "duplicate"]
    assert "LZ-0001" in out[0]["message"]
    from cordon.screening.models import Sample

    assert Sample.objects.filter(round=field["round"]).count() == 1
    # the tube is listed in today's slice (for a warning before sending)
    assert [t["barcode"] for t in _slice(c, device)["tubes"]] == ["LZ-0001"]


def test_delivery_outcomes_duplicates_and_flags(city, field, worker, as_user):
    from cordon.supplies import actions as sa

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    sa.do_mark_failed(field["delivery2"], reason="nobody home", actor="test")  # the office, meanwhile
    ok = _change("delivery", {"order": field["delivery"].pk, "delivered": True})
    conflict = _change("delivery", {"order": field["delivery2"].pk, "delivered": True})
    out = _sync(c, device, scope, [ok, conflict]).json()["results"]
    assert [x["status"] for x in out] == ["applied", "flagged"]
    field["delivery"].refresh_from_db()
    field["delivery2"].refresh_from_db()
    assert field["delivery"].status == "delivered" and field["delivery2"].status == "failed"
    assert AuditEntry.objects.filter(action="phone.flag", object_id=str(field["delivery2"].pk)).count() == 1
    # the same confirmation again under a new id: a duplicate
    again = _change("delivery", {"order": field["delivery"].pk, "delivered": True})
    assert _sync(c, device, scope, [again]).json()["results"][0]["status"] == "duplicate"


def test_delivery_after_the_sealing_ended_is_applied_and_flagged(city, field, worker, as_user):
    from cordon.zones.actions import do_lift

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    do_lift(field["designation"], reason="assessed", actor="test")
    out = _sync(c, device, scope, [_change("delivery", {"order": field["delivery"].pk, "delivered": True})])
    [res] = out.json()["results"]
    assert res["status"] == "flagged" and res["record"]["status"] == "delivered"
    assert Change.objects.get(pk=res["id"]).status == "flagged"


def test_checkin_visit_and_care_request(city, field, worker, as_user):
    from cordon.care.models import CareRequest
    from cordon.cases.models import CheckIn

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    at = clock.now() - dt.timedelta(minutes=30)
    changes = [_change("checkin", {"order": field["order"].pk, "temperature": 36.6, "symptoms": ""}, at=at),
               _change("visit", {"task": field["task"].pk, "note": "上门看过"}, at=at),
               _change("care_request", {"resident": city["resident_a"].pk, "need": "dialysis", "urgency": ""}, at=at)]
    out = _sync(c, device, scope, changes).json()["results"]
    assert [x["status"] for x in out] == ["applied"] * 3, out
    assert str(CheckIn.objects.get(order=field["order"]).temperature) == "36.6"
    field["task"].refresh_from_db()
    assert field["task"].done_by == "worker_a" and field["task"].note == "上门看过"
    assert CareRequest.objects.get(resident=city["resident_a"]).created_by == "worker_a"
    for action in ("order.checkin", "care_task.done", "care_request.create"):
        assert AuditEntry.objects.get(action=action).occurred_at == at
    again = _change("visit", {"task": field["task"].pk, "note": "again"})
    assert _sync(c, device, scope, [again]).json()["results"][0]["status"] == "duplicate"


def test_stale_scope_is_409_and_revoked_device_410(city, field, worker, as_user):
    from cordon.core.models import Grant

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    Grant.objects.filter(user=worker).update(area=city["unit_a"])  # re-scoped to one unit
    worker.refresh_from_db()
    c = as_user(worker)
    tube = _change("tube", {"round": field["round"].pk, "barcode": "LZ-0009", "residents": [city["resident_a"].pk]})
    r = _sync(c, device, scope, [tube])
    assert r.status_code == 409 and r.json()["stale"] is True and r.json()["wipe"] is True
    assert not Change.objects.exists()
    Device.objects.filter(pk=device).update(revoked_at=clock.now())
    r = _sync(c, device, scope, [tube])
    assert r.status_code == 410 and r.json()["wipe"] is True


def test_another_communitys_records_cannot_be_changed(city, field, outsider, as_user):
    c = as_user(outsider)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    before = AuditEntry.objects.exclude(action="phone.sync").count()
    changes = [_change("delivery", {"order": field["delivery"].pk, "delivered": True}),
               _change("tube", {"round": field["round"].pk, "barcode": "LZ-0100", "residents": [city["resident_a"].pk]}),
               _change("checkin", {"order": field["order"].pk, "temperature": 37}),
               _change("visit", {"task": field["task"].pk}),
               _change("care_request", {"resident": city["resident_a"].pk, "need": "x"})]
    out = _sync(c, device, scope, changes).json()["results"]
    assert [x["status"] for x in out] == ["rejected"] * 5
    field["delivery"].refresh_from_db()
    assert field["delivery"].status == "planned"
    assert AuditEntry.objects.exclude(action="phone.sync").count() == before


def test_bad_changes_are_rejected_with_field_others_apply(city, field, worker, as_user):
    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    future = _change("delivery", {"order": field["delivery"].pk, "delivered": True},
                     at=clock.now() + dt.timedelta(hours=1))
    old = _change("delivery", {"order": field["delivery"].pk, "delivered": True},
                  at=clock.now() - dt.timedelta(days=8))
    naive = {**_change("delivery", {"order": field["delivery"].pk, "delivered": True}), "at": "2022-11-08T10:00:00"}
    kind = _change("teleport", {})
    no_reason = _change("delivery", {"order": field["delivery"].pk, "delivered": False})
    bad_temp = _change("checkin", {"order": field["order"].pk, "temperature": "hot"})
    bad_id = {**_change("tube", {}), "id": "not-a-uuid"}
    good = _change("delivery", {"order": field["delivery"].pk, "delivered": True})
    out = _sync(c, device, scope, [future, old, naive, kind, no_reason, bad_temp, bad_id, good]).json()["results"]
    assert [x["status"] for x in out] == ["rejected"] * 7 + ["applied"]
    assert [x["message"].split(":")[0] for x in out[:7]] == ["at", "at", "at", "kind", "reason", "temperature", "id"]
    # whole-request errors: 400 with the field
    r = _post(c, "/api/phone/sync", {"device": device, "batch": "x", "scope_hash": scope, "changes": []})
    assert r.status_code == 400 and r.json()["field"] == "batch"
    r = _post(c, "/api/phone/sync", {"batch": str(uuid.uuid4()), "scope_hash": scope, "changes": []})
    assert r.status_code == 400 and r.json()["field"] == "device"


def test_pass_check_needs_passes_check(city, worker, as_user):
    """A community worker holds no passes.check: a queued pass check is rejected (a street officer's applies,
    re-verified by the server)."""
    from cordon.passes.actions import do_issue_pass
    from cordon.passes.signing import token_for
    from tests.conftest import _user

    p = do_issue_pass(kind="delivery", areas=[city["community_a"]], valid_from=clock.today(),
                      valid_to=clock.today(), holder=city["resident_a2"], actor="test")
    change = _change("pass_check", {"token": token_for(p), "checked_at_area": city["community_a"].pk})
    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    assert _sync(c, device, scope, [change]).json()["results"][0]["status"] == "rejected"
    officer = _user("street_a", "street_officer", city["street"])
    c = as_user(officer)
    device = _device(c)["device"]
    data = _slice(c, device)
    assert data["pass_key"]
    out = _sync(c, device, data["scope_hash"], [{**change, "id": str(uuid.uuid4())}]).json()["results"]
    assert out[0]["status"] in ("applied", "flagged") and out[0]["record"]["type"] == "pass_check"


def test_account_locked_by_failed_sign_ins_revokes_devices(city, worker, as_user):
    from axes.signals import user_locked_out

    got = _device(as_user(worker))
    user_locked_out.send(sender="axes", request=None, username="worker_a", ip_address="127.0.0.1")
    d = Device.objects.get(pk=got["device"])
    assert d.revoked_at is not None and d.revoked_reason == "account locked after failed sign-ins"
    assert as_user(worker).get(f"/api/phone/devices/{got['device']}").status_code == 410


def test_checkin_for_an_ended_order_is_kept_and_flagged(city, field, worker, as_user):
    from cordon.cases.models import CheckIn, PersonOrder

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    PersonOrder.objects.filter(pk=field["order"].pk).update(status="released", released_on=clock.today())
    [res] = _sync(c, device, scope, [_change("checkin", {"order": field["order"].pk, "temperature": 36.8})]).json()[
        "results"]
    assert res["status"] == "flagged" and res["record"]["order"] == field["order"].pk
    assert CheckIn.objects.filter(order=field["order"]).count() == 1


def test_a_change_id_is_one_account_s(city, field, worker, as_user):
    """Another account resending a change id it saw gets no result of it (and writes nothing)."""
    from tests.conftest import _user

    c = as_user(worker)
    device = _device(c)["device"]
    scope = _slice(c, device)["scope_hash"]
    change = _change("delivery", {"order": field["delivery"].pk, "delivered": True})
    assert _sync(c, device, scope, [change]).json()["results"][0]["status"] == "applied"
    colleague = _user("worker_a2", "community_worker", city["community_a"])
    c2 = as_user(colleague)
    d2 = _device(c2)["device"]
    [res] = _sync(c2, d2, _slice(c2, d2)["scope_hash"], [change]).json()["results"]
    assert res["status"] == "rejected" and res["message"].startswith("id") and res["record"] is None


def test_the_slice_s_screens_are_the_phone_grants_capabilities(city, worker):
    """``user.screens`` is read from ``core.access``'s table over the grants that carry ``phone.use`` only: a
    role held elsewhere without it adds nothing to the phone."""
    from cordon.core import access
    from cordon.core.models import Grant
    from cordon.phone import queries

    want = [s for s, cap in queries.SCREEN_CAPS.items() if access.role_has("community_worker", cap)]
    assert queries.screens(worker) == want
    Grant.objects.filter(user=worker).delete()
    Grant.objects.create(user=worker, role="hotline_operator", area=city["community_a"])  # care.create, no phone
    Grant.objects.create(user=worker, role="volunteer", area=city["community_a"])
    del worker._cordon_grants  # (grants are read once per request)
    assert queries.screens(worker) == ["deliveries"]

"""Passes through the API and the pages as the roles that use them: a street officer issues and revokes, the
checkpoint officer checks (a forged token refused, a revoked one replayed refused), scoping, every role's pages."""
import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.actions import do_create_user
from cordon.core.models import AuditEntry
from cordon.passes import actions, signing
from cordon.passes.models import CheckLog, Checkpoint, Pass


@pytest.fixture
def officers(city):
    street, _g = do_create_user("street_x", "pw-Street-2022!", role="street_officer", area=city["street"],
                                actor="test", check_password=False)
    cp, _g = do_create_user("checkpoint_x", "pw", role="checkpoint_officer", area=city["district"], actor="test",
                            check_password=False)
    return {"street": street, "checkpoint": cp}


def test_issue_check_revoke_replay_through_the_api(city, officers, as_user, outsider):
    today = clock.today()
    s = as_user(officers["street"])
    r = s.post("/api/passes", {"kind": "driver", "area_ids": [city["street"].pk], "valid_from": str(today),
                               "valid_to": str(today + dt.timedelta(days=2)), "holder_name": "赵六",
                               "holder_id_number": city["resident_b"].id_number[:-4] + "9999"},
               content_type="application/json")
    assert r.status_code in (201, 400), r.content  # a bad check digit is a 400 with the field
    r = s.post("/api/passes", {"kind": "delivery", "area_ids": [city["street"].pk], "valid_from": str(today),
                               "valid_to": str(today + dt.timedelta(days=2)), "holder_id": city["resident_a2"].pk},
               content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["holder"] == "李**" and body["status"] == "active" and "." in body["token"]
    token = body["token"]
    c = as_user(officers["checkpoint"])
    key = c.get("/api/passes/public-key").json()
    assert key["algorithm"] == "Ed25519" and signing.unb64(key["public_key"]) == signing.public_key()
    r = c.post("/api/passes/check", {"token": token, "area_id": city["unit_a"].pk}, content_type="application/json")
    assert (r.status_code, r.json()["result"], r.json()["reason"]) == (200, "allowed", None)
    forged = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    r = c.post("/api/passes/check", {"token": forged, "area_id": city["unit_a"].pk}, content_type="application/json")
    assert (r.json()["result"], r.json()["reason"], r.json()["pass_id"]) == ("refused", "invalid", None)
    assert s.post(f"/api/passes/{body['id']}/revoke", {"reason": ""}, content_type="application/json").status_code in (400, 422)
    r = s.post(f"/api/passes/{body['id']}/revoke", {"reason": "lost"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert c.get("/api/passes/revocations?since=0").json() == {"version": 1, "revoked": [body["id"]]}
    r = c.post("/api/passes/check", {"token": token, "area_id": city["unit_a"].pk}, content_type="application/json")
    assert (r.json()["result"], r.json()["reason"]) == ("refused", "revoked")
    assert CheckLog.objects.count() == 3 and AuditEntry.objects.filter(action="pass.check").count() == 3
    # the checkpoint officer cannot issue; a community worker of community B does not see the pass
    assert c.post("/api/passes", {}, content_type="application/json").status_code == 403
    assert as_user(outsider).get(f"/api/passes/{body['id']}").status_code == 404
    assert as_user(outsider).get("/api/passes").json()["items"] == []


def test_pages_as_each_role(city, officers, as_user, commander, worker, auditor):
    p = actions.do_issue_pass(kind="medical", areas=[city["community_a"]], valid_from=clock.today(),
                              valid_to=clock.today(), holder=city["resident_a"], actor="test")
    actions.do_create_checkpoint("五泉卡口", area=city["community_a"], actor="test")
    for user in (commander, worker, auditor, officers["street"], officers["checkpoint"]):
        c = as_user(user)
        for url in ("/passes/", f"/passes/{p.pk}/", "/passes/checks/"):
            r = c.get(url)
            assert r.status_code == 200, (user.username, url)
        r = c.get(f"/passes/{p.pk}/")
        assert b"<svg" in r.content and p.code.encode() in r.content and "王**".encode() in r.content
        assert "王秀英".encode() not in r.content
    c = as_user(commander)
    assert f"/passes/{p.pk}/".encode() in c.get("/passes/?status=current&kind=medical&q=王").content
    assert f"/passes/{p.pk}/".encode() not in c.get("/passes/?kind=driver").content
    assert f"/passes/{p.pk}/".encode() in c.get(f"/passes/?q={p.pk}").content
    assert c.get("/passes/?q=" + "9" * 40).status_code == 200
    r = c.get("/passes/export/?format=csv&kind=medical")
    assert r.status_code == 200 and "王**".encode() in b"".join(r.streaming_content if r.streaming else [r.content])
    assert as_user(officers["checkpoint"]).get("/passes/new/").status_code == 403
    assert as_user(officers["checkpoint"]).get("/passes/check/").status_code == 200
    assert as_user(worker).get("/passes/check/").status_code == 403
    r = as_user(officers["street"]).post("/passes/new/", {
        "kind": "supply", "holder": city["resident_a2"].id_number, "areas": "城关区/皋兰路街道/五泉社区",
        "valid_from": str(clock.today()), "valid_to": str(clock.today())})
    assert r.status_code == 302 and Pass.objects.filter(kind="supply").count() == 1
    r = as_user(officers["street"]).post("/passes/new/", {
        "kind": "supply", "holder": city["resident_a2"].id_number, "areas": "七里河区",
        "valid_from": str(clock.today()), "valid_to": str(clock.today())})
    assert r.status_code == 400
    cp = Checkpoint.objects.get()
    r = as_user(officers["checkpoint"]).post("/passes/check/", {"checkpoint": cp.pk, "code": p.code})
    assert r.status_code == 200 and CheckLog.objects.get().result == "allowed"
    r = as_user(officers["street"]).post(f"/passes/{p.pk}/revoke/", {"reason": "holder moved"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.status == "revoked"


def test_care_transfer_out_of_a_sealed_building_gets_a_pass(city):
    from cordon.care import actions as ca
    from cordon.zones.actions import do_designate

    do_designate(city["unit_a"], "high", reason="S1", exposure_note="home", actor="test")
    hospital = ca.do_add_hospital("一院", area=city["district"], actor="test")
    vehicle = ca.do_add_vehicle("甘A·120B1", team="t", actor="test")
    req = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", resident=city["resident_a"],
                               actor="test")
    dispatcher, _g = do_create_user("disp", "pw", role="medical_dispatcher", area=city["district"], actor="test",
                                    check_password=False)
    ca.do_dispatch_request(req, vehicle=vehicle, hospital=hospital, actor=dispatcher)
    p = Pass.objects.get(care_request=req.pk)
    e = AuditEntry.objects.get(action="pass.issue", object_id=str(p.pk))
    assert (e.actor_name, e.rule[:20]) == ("disp", "nine-prohibitions-6:")
    assert (p.kind, p.holder_id, p.area_paths, p.valid_to - p.valid_from) == (
        "care_transfer", city["resident_a"].pk, [city["unit_a"].path], dt.timedelta(days=1))
    # the pass's history names the transfer in the page's language (the reason is stored in English)
    from django.test import Client

    c = Client()
    c.force_login(dispatcher)
    for lang, shown in (("zh-hans", f"就医转运 {req.ref}"), ("en", f"Care transfer {req.ref}")):
        c.cookies["django_language"] = lang
        html = c.get(f"/passes/{p.pk}/").content.decode()
        assert shown in html and f"care transfer {req.ref}" not in html, lang


def test_delivery_into_a_sealed_unit_needs_a_rider_with_a_pass(city):
    from cordon.core.actions import ActionError
    from cordon.supplies import actions as sa
    from cordon.zones.actions import do_designate
    from cordon.places.hooks import connect
    from cordon.passes import hooks
    from tests.passes._fixtures import OVERDUE_FROM, fake_overdue

    d = do_designate(city["unit_a"], "high", reason="S1", exposure_note="home", actor="test")
    w = sa.do_create_warehouse("仓", area=city["community_a"], actor="test")
    item = sa.do_create_item("米", kind="staple", per_person_per_day="1", actor="test")
    sa.do_move_stock(w, item, direction="in", quantity=100, reason="in", actor="test")
    order = sa.do_issue_allocation(sa.do_allocate(d, warehouse=w, item=item, days=1, actor="test"), actor="test")[0]
    rider = city["resident_b"]
    with pytest.raises(ActionError) as e:
        sa.do_assign_delivery(order, rider=rider, actor="test")
    assert e.value.field == "rider"
    actions.do_issue_pass(kind="delivery", areas=[city["street"]], valid_from=clock.today(), valid_to=clock.today(),
                          holder=rider, actor="test")
    from django.test import Client

    logi, _g = do_create_user("logi", "pw", role="logistics_officer", area=city["community_a"], actor="test",
                     check_password=False)
    api = Client()
    api.force_login(logi)
    url = f"/api/supplies/deliveries/{order.pk}/assign"
    r = api.post(url, {"rider_id": city["resident_a2"].pk}, content_type="application/json")  # no pass
    assert r.status_code == 400 and r.json()["field"] == "rider", r.content
    r = api.post(url, {"rider_id": 10 ** 12}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "rider_id", r.content
    r = api.post(url, {"rider_id": rider.pk, "reason": "on shift"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["rider_id"] == rider.pk, r.content
    assert AuditEntry.objects.get(action="delivery.assign", object_id=str(order.pk)).actor_name == "logi"
    order.refresh_from_db()
    order.rider = None
    order.save(update_fields=["rider"])
    assert sa.do_assign_delivery(order, rider=rider, actor="test").rider_id == rider.pk
    connect("test.overdue", fake_overdue, hooks.OVERDUE)
    try:
        OVERDUE_FROM[rider.pk] = clock.today()
        with pytest.raises(ActionError):
            sa.do_assign_delivery(order, rider=rider, actor="test")
        from cordon.passes.queries import to_reassign

        boss, _g = do_create_user("boss", "pw", role="commander", actor="test", check_password=False)
        assert [o.pk for o in to_reassign(boss, clock.today())] == [order.pk]
        c = Client()
        c.force_login(boss)
        body = c.get("/supplies/deliveries/").content.decode()
        assert f"/passes/deliveries/{order.pk}/assign/" in body
        assert f"/passes/deliveries/{order.pk}/assign/" in c.get("/passes/").content.decode()
    finally:
        hooks.OVERDUE[:] = [h for h in hooks.OVERDUE if h[0] != "test.overdue"]
        OVERDUE_FROM.clear()

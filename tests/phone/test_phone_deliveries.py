"""Delivery outcomes in a sync: the batch path (a chunk's outcomes through ``supplies.do_mark_deliveries``, one
locking read, one update, one audit insert) and the per-change path (each through ``do_mark_delivered`` /
``do_mark_failed`` in a savepoint of its own: the path a chunk takes again after meeting a concurrent sync) give
the same results, rows and audit rows for the same batch; the statements per outcome; a volunteer's outcomes."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cordon.core import clock, ids
from cordon.core.models import AuditEntry
from cordon.phone import actions
from cordon.phone.models import Change, Device, Status

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def _orders(designation, warehouse, item, n):
    """``n`` planned deliveries (one allocation each) to the households inside ``designation``."""
    from cordon.supplies import actions as sa

    return [o for _ in range(n) for o in sa.do_issue_allocation(
        sa.do_allocate(designation, warehouse=warehouse, item=item, days=1, actor="test"), actor="test")]


@pytest.fixture
def supplies(city):
    """Planned deliveries: eight to community A's sealed unit, one to a sealed unit of community A whose sealing
    then ends, one to community B's."""
    from cordon.places.actions import do_create_resident, do_ensure_area, do_get_or_create_household
    from cordon.supplies import actions as sa
    from cordon.zones.actions import do_designate, do_lift

    w = sa.do_create_warehouse("仓库", area=city["district"], actor="test")
    veg = sa.do_create_item("蔬菜包", kind="vegetables", per_person_per_day="0.5", actor="test")
    sa.do_move_stock(w, veg, direction="in", quantity=1000, reason="调拨", actor="test")
    a = _orders(do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test"), w, veg, 8)
    unit = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/3号楼/1单元", actor="test")
    do_create_resident(do_get_or_create_household(unit, "501", actor="test"), {"name": "赵敏", "id_number": ids.make_id_number(
                       "620102", dt.date(1990, 2, 3), 7, "F"), "phone": "13909310007"}, actor="test")
    ended = do_designate(unit, "high", reason="P2", exposure_note="home", actor="test")
    lifted = _orders(ended, w, veg, 1)
    do_lift(ended, reason="assessed", actor="test")
    b = _orders(do_designate(city["unit_b"], "high", reason="P3", exposure_note="home", actor="test"), w, veg, 1)
    return {"a": a, "ended": lifted[0], "b": b[0]}


def _change(order, delivered=True, reason=None, at=None, cid=None):
    data = {"order": order, "delivered": delivered}
    if reason is not None:
        data["reason"] = reason
    return {"id": cid or str(uuid.uuid4()), "kind": "delivery", "at": (at or clock.now()).isoformat(), "data": data}


def _batch(supplies, device, user):
    from cordon.supplies import actions as sa

    a = [o.pk for o in supplies["a"]]
    sa.do_mark_failed(supplies["a"][6], reason="家中无人", actor="test")     # the office, before the sync
    sa.do_mark_delivered(supplies["a"][7], actor="test")
    earlier = _change(a[5])
    actions.do_sync(device, batch=uuid.uuid4(), changes=[earlier], actor=user)  # a change sent before
    now = clock.now() - dt.timedelta(minutes=30)
    changes = [
        _change(a[0], at=now),
        _change(a[1], delivered=False, reason="拒收", at=now + dt.timedelta(minutes=1)),
        _change(a[0], at=now + dt.timedelta(minutes=2)),              # the same outcome again: duplicate
        _change(a[1], at=now + dt.timedelta(minutes=3)),              # failed meanwhile (in this batch): flagged
        _change(a[6], delivered=False, reason="无人", at=now),         # failed by the office: duplicate
        _change(a[7], delivered=False, reason="无人", at=now),         # delivered by the office: flagged
        _change(supplies["ended"].pk, at=now),                        # the sealing has ended: applied, flagged
        _change(supplies["b"].pk, at=now),                            # another community's: rejected
        _change(999_999_999, at=now),                                 # unknown: rejected
        _change(a[2], delivered=False, at=now),                       # failed without a reason: rejected
        _change(a[2], delivered="yes", at=now),                       # not a boolean: rejected
        _change(a[2], delivered=False, reason="x" * 201, at=now),    # reason too long: rejected
        {"id": str(uuid.uuid4()), "kind": "delivery", "at": "yesterday", "data": {"order": a[2]}},
        earlier,                                                      # sent before: its stored result
        {"id": str(uuid.uuid4()), "kind": "nonsense", "at": now.isoformat(), "data": {}},
        _change(a[2], delivered=False, reason="地址不符", at=now),
        _change(a[3], at=now + dt.timedelta(minutes=4)),
        _change(a[4], at=now + dt.timedelta(minutes=5)),
    ]
    changes.append(dict(changes[0]))                                  # an id again, in a later chunk
    changes.append(dict(changes[17]))                                 # ... and in the same chunk
    return changes


def _snapshot(results):
    from cordon.supplies.models import DeliveryOrder

    return {
        "results": results,
        "rows": sorted((o.pk, o.status, o.done_at is not None, o.failed_reason, o.actor)
                       for o in DeliveryOrder.objects.all()),
        "audit": sorted((a.action, a.object_id, a.after, a.reason, a.occurred_at, a.actor_name, a.district_id,
                         a.community_id, a.unit_id)
                        for a in AuditEntry.objects.filter(action__in=("delivery.delivered", "delivery.failed",
                                                                       "phone.flag"), actor_name="worker_a")),
        "changes": sorted((str(c.pk), c.status, c.message, str(c.record), c.at if c.at != c.received else None,
                           c.community_id, c.unit_id)
                          for c in Change.objects.filter(kind="delivery")),
    }


def test_batch_and_per_change_paths_give_the_same_records(city, supplies, worker, monkeypatch):
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    changes = _batch(supplies, device, worker)
    snaps = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            m.setattr(actions, "CHUNK", 7)  # three chunks
            if not fast:
                m.setattr(actions, "_fast", lambda *_a, **_k: (_ for _ in ()).throw(actions._Retry()))
            try:
                with transaction.atomic():
                    out = actions.do_sync(device, batch=uuid.uuid4(), changes=changes, actor=worker)
                    snaps.append(_snapshot(out))
                    again = actions.do_sync(device, batch=uuid.uuid4(), changes=changes, actor=worker)
                    assert again == out and _snapshot(again) == snaps[-1]  # a retried batch: nothing twice
                    raise _Undo
            except _Undo:
                pass
    fast, slow = snaps
    assert [x["status"] for x in fast["results"]] == [
        Status.APPLIED, Status.APPLIED, Status.DUPLICATE, Status.FLAGGED, Status.DUPLICATE, Status.FLAGGED,
        Status.FLAGGED] + [Status.REJECTED] * 6 + [Status.APPLIED, Status.REJECTED] + [Status.APPLIED] * 5
    for key in fast:
        assert fast[key] == slow[key], key
    audit = fast["audit"]  # with the one sent before (a[5])
    assert sum(a[0] == "delivery.delivered" for a in audit) == 5 and sum(a[0] == "delivery.failed" for a in audit) == 2
    assert sum(a[0] == "phone.flag" for a in audit) == 2 and all(a[4] is not None for a in audit)


def test_the_single_actions_are_the_batch_of_one(city, supplies):
    """``do_mark_delivered`` / ``do_mark_failed`` refuse as the batch answers: a closed delivery, a missing
    reason; the batch refuses an item and applies the others."""
    from cordon.core.actions import ActionError
    from cordon.supplies import actions as sa

    o1, o2, o3 = supplies["a"][:3]
    got = sa.do_mark_deliveries([{"order": o1, "delivered": True}, {"order": o1, "delivered": False, "reason": "x"},
                                 {"order": o2, "delivered": False, "reason": ""}, {"order": o3, "delivered": False,
                                                                                   "reason": "拒收"}], actor="test")
    assert got[0] is o1 and o1.status == "delivered" and isinstance(got[1], sa.DeliveryClosed)
    assert type(got[2]) is ActionError and got[3].status == "failed"
    with pytest.raises(sa.DeliveryClosed):
        sa.do_mark_failed(o1, reason="x", actor="test")
    with pytest.raises(ActionError):
        sa.do_mark_failed(o2, reason=" ", actor="test")
    o2.refresh_from_db()
    assert o2.status == "planned" and sa.do_mark_delivered(o2, actor="test").status == "delivered"
    assert AuditEntry.objects.filter(action__startswith="delivery.", actor_name="test").count() == 3


#: statements per delivery outcome in a sync: none (one locking read, one update, one audit insert per chunk)
PER_DELIVERY = 0


def test_delivery_sync_statements_per_change(city, supplies, worker, capsys):
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    a = [o.pk for o in supplies["a"]]
    actions.do_sync(device, batch=uuid.uuid4(), changes=[_change(a[0])], actor=worker)  # warm-up
    counts = []
    for orders in ([a[1]], a[2:8]):
        with CaptureQueriesContext(connection) as q:
            out = actions.do_sync(device, batch=uuid.uuid4(), changes=[_change(x) for x in orders], actor=worker)
        assert [r["status"] for r in out] == [Status.APPLIED] * len(orders)
        counts.append(len(q.captured_queries))
    per_change = (counts[1] - counts[0]) / 5
    with capsys.disabled():
        print(f"\nstatements: {counts[0]} for 1 delivery, {counts[1]} for 6: {per_change:.1f} per change")
    assert per_change <= PER_DELIVERY


def test_a_volunteer_confirms_their_communitys_deliveries_only(city, supplies, volunteer):
    """A volunteer's phone: delivered and failed outcomes in their community (audited under their name), another
    community's delivery not found; their slice carries the deliveries (no names) and no resident, order, round,
    visit or pass key."""
    from cordon.phone import queries

    device = Device.objects.get(pk=actions.do_register_device(volunteer, "手机").pk)
    a = supplies["a"]
    out = actions.do_sync(device, batch=uuid.uuid4(), changes=[
        _change(a[0].pk), _change(a[1].pk, delivered=False, reason="家中无人"), _change(supplies["b"].pk)],
        actor=volunteer)
    assert [r["status"] for r in out] == [Status.APPLIED, Status.APPLIED, Status.REJECTED]
    assert AuditEntry.objects.filter(action__startswith="delivery.", actor_name="volunteer_a").count() == 2
    data = queries.build_slice(volunteer)
    assert {d["id"] for d in data["deliveries"]} == {o.pk for o in a[2:]} | {supplies["ended"].pk}
    assert {d["household_label"] for d in data["deliveries"]} == {"101", "501"}
    assert data["buildings"] == [] and data["rounds"] == [] and data["checkins"] == [] and data["visits"] == []
    assert data["pass_key"] == "" and data["user"]["roles"] == ["volunteer"]
    assert data["user"]["screens"] == ["deliveries"]  # the app shows no tile it could not use
    text = str(data)
    assert "王秀英" not in text and "13909310001" not in text and city["resident_a"].name[0] + "*" not in text


def test_a_volunteer_sees_nothing_of_another_community(city, supplies, volunteer, as_user):
    """Through the pages, the API, the exports and the phone: a volunteer of community A reads no record of
    community B (nor of A beyond their deliveries), and a volunteer granted one building carries only its
    deliveries."""
    from cordon.core.actions import do_create_user
    from tests.conftest import PASSWORD
    from tests.phone.test_phone_api import _device, _slice, _sync

    c = as_user(volunteer)
    b = supplies["b"]
    for url in (f"/residents/{city['resident_b'].pk}/", f"/areas/{city['unit_b'].pk}/", "/supplies/deliveries/",
                f"/supplies/deliveries/print/{city['unit_b'].parent_id}/", "/supplies/deliveries/export/",
                "/zones/export/?tab=active", "/audit/"):
        assert c.get(url).status_code == 403, url
    for url in (f"/api/residents/{city['resident_b'].pk}", "/api/residents", "/api/supplies/deliveries"):
        assert c.get(url).status_code == 403, url
    assert c.post(f"/api/supplies/deliveries/{b.pk}/delivered", data="{}",
                  content_type="application/json").status_code == 403
    device = _device(c)["device"]
    data = _slice(c, device)
    assert b.pk not in {d["id"] for d in data["deliveries"]} and data["deliveries"]
    assert city["unit_b"].path not in str(data) and "白银路社区" not in str(data)
    out = _sync(c, device, data["scope_hash"], [_change(b.pk)]).json()["results"]
    assert out[0]["status"] == Status.REJECTED
    b.refresh_from_db()
    assert b.status == "planned"
    # a grant narrower than a community: one building
    building = city["unit_a"].parent
    narrow, _ = do_create_user("volunteer_bldg", PASSWORD, role="volunteer", area=building, actor="test")
    cn = as_user(narrow)
    got = _slice(cn, _device(cn)["device"])["deliveries"]
    assert {d["id"] for d in got} == {o.pk for o in supplies["a"]}

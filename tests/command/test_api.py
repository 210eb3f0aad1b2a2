"""The command-order API: a sender sends and follows the matrix; a unit acknowledges and completes; bad input
is a clear 422/400, never a 500."""
from __future__ import annotations

import datetime as dt
import json

from cordon.command.models import Recipient


def command_records(city) -> dict:
    """Two orders to community A (sent by the system): one waiting for acknowledgement, one acknowledged."""
    from cordon.command import actions
    from cordon.core import clock

    due = clock.now() + dt.timedelta(days=1)
    a = actions.do_send_order(title="入户排查", text="排查", due=due, to=[city["community_a"].path], actor="test")
    b = actions.do_send_order(title="物资配送", text="配送", due=due, to=[city["community_a"].path], actor="test")
    acked = actions.do_acknowledge_order(Recipient.objects.get(order=b), actor="test")
    return {"command_a": a, "recipient_a": Recipient.objects.get(order=a), "acked_a": acked}


def _post(c, path, body):
    return c.post(path, data=json.dumps(body), content_type="application/json")


def test_send_matrix_acknowledge(city, commander, worker, outsider, as_user):
    due = "2028-03-02T18:00:00+08:00"
    r = _post(as_user(commander), "/api/commands", {"title": "全员核酸", "text": "今日完成", "due": due,
                                                  "to": ["城关区/皋兰路街道"], "level": "community",
                                                  "priority": "urgent"})
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["counts"]["sent"] == 2 and order["counts"]["total"] == 2
    mine = as_user(worker).get("/api/command-inbox").json()["items"]
    assert [m["unit"] for m in mine] == ["城关区/皋兰路街道/五泉社区"]
    r = _post(as_user(worker), f"/api/command-inbox/{mine[0]['id']}/acknowledge", {})
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = _post(as_user(worker), f"/api/command-inbox/{mine[0]['id']}/complete", {"evidence": "ok", "numbers": {"n": 3}})
    assert r.json()["status"] == "done"
    rows = as_user(commander).get(f"/api/commands/{order['id']}/matrix?status=done").json()["items"]
    assert [x["unit"] for x in rows] == ["城关区/皋兰路街道/五泉社区"]
    # the other community's row: 404 for the worker (not theirs), the sender's routes 403 (no orders.send)
    other = Recipient.objects.get(label__endswith="白银路社区")
    assert _post(as_user(worker), f"/api/command-inbox/{other.pk}/acknowledge", {}).status_code == 404
    assert as_user(worker).get(f"/api/commands/{order['id']}").status_code == 403
    n = as_user(worker).get("/api/notifications").json()
    assert n["unread"] == 1 and n["items"][0]["url"] == f"/orders/{order['id']}/"
    assert _post(as_user(worker), "/api/notifications/read", {}).json() == {"marked": 1}


def test_bad_input_is_refused_clearly(city, commander, district_officer, as_user):
    c = as_user(commander)
    r = _post(c, "/api/commands", {"title": "t", "text": "x", "due": "2028-01-01T10:00:00", "to": ["外市/某区"]})
    assert r.status_code == 400 and "外市/某区" in r.json()["detail"] and r.json()["field"] == "to"
    r = _post(c, "/api/commands", {"title": "", "text": "x", "due": "soon", "to": []})
    assert r.status_code == 400 and {e["field"] for e in r.json()["errors"]} >= {"title", "due"}
    r = _post(as_user(district_officer), "/api/commands", {"title": "t", "text": "x", "due": "2028-01-01T10:00:00",
                                                         "to": ["*"], "level": "community"})
    assert r.status_code == 400 and r.json()["rule"] == "order-outside-jurisdiction"


def test_a_deadline_without_time_zone_is_city_time(city, commander, as_user):
    r = _post(as_user(commander), "/api/commands", {"title": "t", "text": "x", "due": "2028-01-01T10:00:00",
                                                    "to": ["城关区"]})
    assert r.status_code == 201 and r.json()["due"] == "2028-01-01T10:00:00+08:00"  # the city's time

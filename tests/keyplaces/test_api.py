"""The key-place API: reads scoped like the pages, writes by the place's manager, bad input answered 400 or
422 with the field (never 500), names masked for readers who may not change the place."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.core import clock
from cordon.keyplaces.models import Breach, Person
from tests.conftest import client_for
from tests.keyplaces._kfixtures import D0, day, home, manager, market  # noqa: F401

pytestmark = pytest.mark.django_db


def post(c, path, body):
    return c.post(path, data=json.dumps(body), content_type="application/json")


def at(n):
    return clock.frozen(dt.datetime.combine(day(n), dt.time(10, 0), tzinfo=clock.tz()))


def test_manager_runs_the_loop_through_the_api(home, manager):
    c = client_for(manager)
    with at(1):
        r = post(c, f"/api/keyplaces/{home.pk}/status", {"status": "closed_loop", "reason": "闭环管理"})
        assert r.status_code == 200 and r.json()["status"] == "closed_loop"
        r = post(c, f"/api/keyplaces/{home.pk}/people", {"name": "护工甲", "role": "staff", "phone": "13909317777",
                                                         "rotate_on": day(8).isoformat()})
        assert r.status_code == 201
        person = r.json()["people"][0]
        assert (person["name"], person["phone"], person["test_due"], person["test_overdue"]) == \
            ("护工甲", "139****7777", day(1).isoformat(), False)
    with at(3):
        got = c.get(f"/api/keyplaces/{home.pk}").json()
        assert (got["overdue_tests"], got["people"][0]["test_overdue"]) == (1, True)
        pid = got["people"][0]["id"]
        r = post(c, f"/api/keyplaces/people/{pid}/tests", {"result": "negative"})
        assert r.status_code == 200 and r.json()["people"][0]["test_due"] == day(5).isoformat()
        r = post(c, f"/api/keyplaces/people/{pid}/movements", {"direction": "exit", "reason": "other",
                                                               "note": "私自外出"})
        assert r.status_code == 200 and r.json()["breaches_today"] == 1
    assert Breach.objects.get().on == day(3)


def test_lists_and_details_are_scoped_and_masked(home, market, manager, worker, outsider, commander):
    from cordon.keyplaces.actions import do_add_person

    do_add_person(home, name="护工甲", role="staff", on=D0, actor="test")
    with at(1):
        assert [p["ref"] for p in client_for(manager).get("/api/keyplaces").json()["items"]] == ["NH1"]
        assert sorted(p["ref"] for p in client_for(commander).get("/api/keyplaces").json()["items"]) == ["MK1", "NH1"]
        assert [p["ref"] for p in client_for(outsider).get("/api/keyplaces").json()["items"]] == ["MK1"]
        assert client_for(outsider).get(f"/api/keyplaces/{home.pk}").status_code == 404
        assert client_for(manager).get(f"/api/keyplaces/{market.pk}").status_code == 404
        assert client_for(worker).get(f"/api/keyplaces/{home.pk}").json()["people"][0]["name"] == "护**"
        assert client_for(worker).get("/api/keyplaces?kind=market").json()["items"] == []
        assert post(client_for(worker), f"/api/keyplaces/{home.pk}/status",
                    {"status": "closed", "reason": "x"}).status_code == 403


@pytest.mark.parametrize("path,body,field", [
    ("/api/keyplaces/{home}/status", {"status": "sealed", "reason": "x"}, "status"),
    ("/api/keyplaces/{home}/status", {"status": "closed"}, "reason"),
    ("/api/keyplaces/{home}/status", {"status": "closed", "reason": "   "}, "reason"),
    ("/api/keyplaces/{home}/status", {"status": "closed_loop", "reason": "x", "on": "2022-13-01"}, "on"),
    ("/api/keyplaces/{home}/counts", {"counts": {"guests": 1}}, "counts"),
    ("/api/keyplaces/{home}/counts", {"counts": {"residents": -1}}, "counts"),
    ("/api/keyplaces/{home}/counts", {"counts": {"residents": "many"}}, "counts"),
    ("/api/keyplaces/{home}/people", {"name": "", "role": "staff"}, "name"),
    ("/api/keyplaces/{home}/people", {"name": "x", "role": "visitor"}, "role"),
    ("/api/keyplaces/{home}/people", {"name": "x", "role": "resident", "rotate_on": "2022-11-20"}, "rotate_on"),
    ("/api/keyplaces/{home}/shift", {"reason": "x"}, "leaving"),
    ("/api/keyplaces/{home}/shift", {"leaving": [999999], "reason": "x"}, "leaving"),
    ("/api/keyplaces/{home}/shift", {"leaving": ["a"], "reason": "x"}, "leaving"),
    ("/api/keyplaces/people/{person}/movements", {"direction": "sideways", "reason": "other"}, "direction"),
    ("/api/keyplaces/people/{person}/movements", {"direction": "entry", "reason": "other"}, "direction"),
    ("/api/keyplaces/people/{person}/movements", {"direction": "exit", "reason": "shift_change"}, "reason"),
    ("/api/keyplaces/people/{person}/tests", {"result": "maybe"}, "result"),
    ("/api/keyplaces", {"ref": "NH1", "name": "x", "kind": "school", "area_id": 1}, "ref"),
    ("/api/keyplaces", {"ref": "X", "name": "x", "kind": "mall", "area_id": 1}, "kind"),
    ("/api/keyplaces", {"ref": "X", "name": "x", "kind": "school", "area_id": 1, "test_every_days": 0},
     "test_every_days"),
])
def test_bad_input_names_the_field(home, commander, path, body, field):
    from cordon.keyplaces.actions import do_add_person

    resident = do_add_person(home, name="老人乙", role="resident", on=D0, actor="test")
    if "area_id" in body:
        body = {**body, "area_id": home.area_id}
    r = post(client_for(commander), path.format(home=home.pk, person=resident.pk), body)
    assert r.status_code in (400, 409, 422), r.content
    assert field in json.dumps(r.json()), r.json()
    assert Person.objects.count() == 1


def test_unknown_ids_are_404(commander, home):
    c = client_for(commander)
    assert c.get("/api/keyplaces/999999").status_code == 404
    assert post(c, "/api/keyplaces/people/999999/tests", {"result": "negative"}).status_code == 404
    assert c.get("/api/keyplaces/0").status_code == 400
    assert c.get("/api/keyplaces?page=0").status_code == 400

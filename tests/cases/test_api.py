"""Cases API: infections with their response, KPIs, contacts and chain; tasks with filters; orders with
filters and pagination; contacts, arrivals, spill-over, manual orders, check-ins and extensions (guardrail
refusals as 400 with ``rule``); facilities with capacity and days left; outside regions (commanders only);
scoping (404 out of scope, 403 read-only) and query budgets."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.cases import actions as ca
from cordon.cases.models import OrderStatus, PersonOrder, Placement, ResponseTask
from cordon.core import clock
from cordon.core.models import AuditEntry
from tests.cases._cfixtures import cases  # noqa: F401

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def day(n=0):
    return clock.today() + dt.timedelta(days=n)


# ------------------------------------------------------------------------------------------ infections

def test_record_infection_opens_its_response(city, worker, as_user):
    c = as_user(worker)
    r = post(c, "/api/infections", {"label": "N1", "home_id": city["unit_a"].pk, "found": "community",
                                    "kind": "asymptomatic"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["label"] == "N1" and body["kind"] == "asymptomatic" and body["open_tasks"] == 6
    detail = c.get(f"/api/infections/{body['id']}").json()
    steps = [t["step"] for t in detail["tasks"]]
    assert set(steps) == {"transfer", "investigation", "contact_tracing", "designation", "disinfection",
                          "area_round"}
    transfer = next(t for t in detail["tasks"] if t["step"] == "transfer")
    assert transfer["owner"] and transfer["checklist"][0]["done"] is False and "2 h" in transfer["rule"]
    # The same label again is refused (a reclassification is not a new infection).
    r = post(c, "/api/infections", {"label": "N1", "home_id": city["unit_a"].pk})
    assert r.status_code == 409 and r.json()["field"] == "label"


def test_reclassify_is_the_same_infection(city, worker, cases, as_user):
    inf = cases["infection_a"]
    r = post(as_user(worker), f"/api/infections/{inf.pk}/reclassify", {"kind": "asymptomatic", "reason": "CT"})
    assert r.status_code == 200 and r.json()["kind"] == "asymptomatic" and r.json()["id"] == inf.pk
    assert AuditEntry.objects.filter(action="infection.reclassify", object_id=str(inf.pk)).count() == 1


def test_detail_has_tasks_kpis_contacts_and_chain(city, worker, cases, as_user):
    inf = cases["infection_a"]
    body = as_user(worker).get(f"/api/infections/{inf.pk}").json()
    assert {o["person"] for o in body["contacts"]} == {"C-K1", "C-K2", "C-K3"}
    assert body["kpi"]["contacts"] == 3 and body["kpi"]["placed"] == 1
    assert body["kpi"]["to_contacts_placed_h"] is None  # not everyone is placed
    k1 = next(o for o in body["contacts"] if o["person"] == "C-K1")
    assert k1["today"] == "centralized" and k1["free_on"] == str(day(10)) and k1["next_test"] == str(day(0))
    assert body["chain"]["label"] == "C-P1" and len(body["chain"]["children"]) == 3


def test_kpis_hours(city, commander, as_user):
    start = dt.datetime.combine(day(0), dt.time(8), tzinfo=clock.tz())
    with clock.frozen(start):
        inf = ca.do_record_infection(label="K1", home=city["unit_a"], found="community", confirmed_on=day(0),
                                     actor=commander)
    with clock.frozen(start + dt.timedelta(hours=1, minutes=30)):
        ca.do_complete_task(inf.tasks.get(step="transfer"), actor=commander)
    with clock.frozen(start + dt.timedelta(hours=4)):
        o = ca.do_register_contact(inf, label="K1-1", last_exposure=day(-1), actor=commander)
    f = ca.do_create_facility(name="site", kind="quarantine_site", area=city["community_a"], capacity=5)
    with clock.frozen(start + dt.timedelta(hours=7)):
        ca.do_place(f, order=o, actor=commander)
    with clock.frozen(start + dt.timedelta(hours=9)):  # a contact of a contact stays home: nothing to place
        ca.do_register_contact(inf, label="K1-1-1", category="contact_of_contact", last_exposure=day(-1), via=o,
                               actor=commander)
    k = as_user(commander).get(f"/api/infections/{inf.pk}").json()["kpi"]
    assert k["to_transfer_h"] == 1.5 and k["to_contacts_identified_h"] == 4.0
    assert k["to_contacts_placed_h"] == 7.0 and k["contacts"] == 2 and k["placed"] == 1 and k["to_place"] == 1
    assert k["to_designation_h"] is None
    # The bulk KPIs agree with the per-infection action.
    from cordon.cases.queries import infection_kpis

    one = infection_kpis(inf)
    assert one["to_transfer_h"] == k["to_transfer_h"] and one["to_contacts_placed_h"] == k["to_contacts_placed_h"]


def test_infection_out_of_scope_is_404(city, outsider, cases, as_user):
    inf = cases["infection_a"]
    assert as_user(outsider).get(f"/api/infections/{inf.pk}").status_code == 404
    assert as_user(outsider).get("/api/infections").json()["items"] == []
    r = post(as_user(outsider), "/api/infections", {"label": "X", "home_id": city["unit_a"].pk})
    assert r.status_code == 404


# ------------------------------------------------------------------------------------------ contacts

def test_register_contact_of_a_contact_and_late_identification(city, worker, cases, as_user):
    c = as_user(worker)
    inf, k1 = cases["infection_a"], cases["order_a"]
    r = post(c, f"/api/infections/{inf.pk}/contacts", {"person": "C-S1", "category": "contact_of_contact",
                                                       "last_exposure": str(day(-1)), "via_id": k1.pk})
    assert r.status_code == 201, r.content
    assert r.json()["via_id"] == k1.pk and r.json()["home_until"] == str(day(6))
    # Found late: the clock runs from the last exposure, not from today.
    r = post(c, f"/api/infections/{inf.pk}/contacts", {"person": "C-L1", "last_exposure": str(day(-4))})
    assert r.status_code == 201 and r.json()["free_on"] == str(day(7)) and r.json()["identified_on"] == str(day(0))
    # Found after the order would have ended: no order.
    r = post(c, f"/api/infections/{inf.pk}/contacts", {"person": "C-L2", "last_exposure": str(day(-12))})
    assert r.status_code == 200 and r.json() is None
    chain = c.get(f"/api/infections/{inf.pk}").json()["chain"]
    k1_node = next(n for n in chain["children"] if n["label"] == "C-K1")
    assert [n["label"] for n in k1_node["children"]] == ["C-S1"]


def test_contact_with_home_out_of_scope_is_404(city, worker, cases, as_user):
    r = post(as_user(worker), f"/api/infections/{cases['infection_a'].pk}/contacts",
             {"person": "Z", "last_exposure": str(day(-1)), "home_id": city["unit_b"].pk})
    assert r.status_code == 404
    assert not PersonOrder.objects.filter(label="Z").exists()


def test_guardrail_refusals_are_400_with_rule(city, worker, cases, as_user):
    c = as_user(worker)
    # #4: a manual order for a person with no recorded link.
    r = post(c, "/api/orders", {"person": "nobody", "category": "close_contact", "reason": "x",
                                "home_id": city["unit_a"].pk})
    assert r.status_code == 400 and r.json()["rule"] == "nine-prohibitions-4"
    # #5: an extension without a positive result.
    r = post(c, f"/api/orders/{cases['order_a'].pk}/extend", {"days": 3, "reason": "just in case"})
    assert r.status_code == 400 and r.json()["rule"] == "nine-prohibitions-5"
    # #2/#7: a manual quarantine of a student from a low-risk area.
    r = post(c, "/api/orders", {"person": "C-A1", "category": "from_high_area", "reason": "x"})
    assert r.status_code == 400 and r.json()["rule"] in ("nine-prohibitions-2", "nine-prohibitions-7")
    # Spill-over from an area that was not high or medium.
    r = post(c, "/api/spillovers", {"person": "SP", "from_area_id": city["unit_a"].pk, "left_on": str(day(0)),
                                    "home_id": city["unit_a"].pk})
    assert r.status_code == 400 and r.json()["rule"] == "nine-prohibitions-4"


def test_extension_with_a_positive_result(city, worker, cases, as_user):
    o = cases["order_positive_a"]
    r = post(as_user(worker), f"/api/orders/{o.pk}/extend", {"days": 3, "reason": "positive on day 1"})
    assert r.status_code == 200 and r.json()["free_on"] == str(o.free_on + dt.timedelta(days=3))
    assert r.json()["extended_by"] == 3


def test_checkin_validates_and_updates_the_day(city, worker, cases, as_user):
    c = as_user(worker)
    o = cases["order_a"]
    r = post(c, f"/api/orders/{o.pk}/checkins", {"temperature": "36.6", "test_result": "negative"})
    assert r.status_code == 201 and r.json()["test_result"] == "negative"
    r = post(c, f"/api/orders/{o.pk}/checkins", {"temperature": "37.9", "symptoms": "cough"})
    assert r.status_code == 201
    detail = c.get(f"/api/orders/{o.pk}").json()
    assert len(detail["checkins"]) == 1 and detail["checkins"][0]["symptoms"] == "cough"
    assert post(c, f"/api/orders/{o.pk}/checkins", {"test_result": "maybe"}).json()["field"] == "test_result"
    assert post(c, f"/api/orders/{o.pk}/checkins", {"temperature": "60"}).json()["field"] == "temperature"


# ------------------------------------------------------------------------------------------ orders list

def test_orders_list_filters_paginates_and_is_scoped(city, worker, outsider, commander, cases, as_user):
    c = as_user(worker)
    body = c.get("/api/orders").json()
    assert {o["person"] for o in body["items"]} == {"C-K1", "C-K2", "C-K3"}
    assert c.get("/api/orders", {"category": "contact_of_contact"}).json()["items"] == []
    assert len(c.get("/api/orders", {"today": "centralized"}).json()["items"]) == 3
    assert c.get("/api/orders", {"today": "home"}).json()["items"] == []
    page = c.get("/api/orders", {"page_size": 2}).json()
    assert len(page["items"]) == 2 and page["has_next"] is True
    assert as_user(outsider).get("/api/orders").json()["items"] == []
    assert as_user(outsider).get("/api/orders", {"community": city["community_a"].pk}).status_code == 404
    body = as_user(commander).get("/api/orders", {"community": city["community_a"].pk}).json()
    assert len(body["items"]) == 3


def test_orders_list_query_budget(city, worker, cases, as_user, django_assert_max_num_queries):
    inf = cases["infection_a"]
    for i in range(30):
        ca.do_register_contact(inf, label=f"Q{i}", last_exposure=day(-1), home=city["unit_a"], actor="test")
    c = as_user(worker)
    with django_assert_max_num_queries(6):
        assert len(c.get("/api/orders").json()["items"]) == 33
    with django_assert_max_num_queries(9):
        c.get("/api/infections")
    with django_assert_max_num_queries(6):
        c.get("/api/tasks")


# ------------------------------------------------------------------------------------------ tasks

def test_tasks_filters_complete_and_note(city, worker, cases, as_user):
    c = as_user(worker)
    t = cases["task_a"]
    assert c.get("/api/tasks", {"overdue": True}).json()["items"] == []
    with clock.frozen(clock.now() + dt.timedelta(hours=3)):
        overdue = c.get("/api/tasks", {"overdue": True}).json()["items"]
        assert [x["step"] for x in overdue] == ["transfer"] and overdue[0]["overdue"] is True
    r = post(c, f"/api/tasks/{t.pk}/note", {"check": 1, "text": "ambulance sent"})
    assert r.status_code == 200 and r.json()["checklist"][1]["done"] is True
    assert r.json()["notes"][-1]["text"] == "ambulance sent"
    assert post(c, f"/api/tasks/{t.pk}/note", {"check": 9}).json()["field"] == "check"
    assert post(c, f"/api/tasks/{t.pk}/note", {}).json()["field"] == "text"
    r = post(c, f"/api/tasks/{t.pk}/complete", {"note": "in hospital"})
    assert r.status_code == 200 and r.json()["status"] == "done" and all(x["done"] for x in r.json()["checklist"])
    assert post(c, f"/api/tasks/{t.pk}/complete", {}).status_code == 409  # already done
    assert len(c.get("/api/tasks", {"status": "open"}).json()["items"]) == 5
    assert len(c.get("/api/tasks", {"mine": True}).json()["items"]) == 6


def test_escalation_with_a_frozen_clock(city, commander, as_user):
    start = dt.datetime.combine(day(0), dt.time(8), tzinfo=clock.tz())
    with clock.frozen(start):
        inf = ca.do_record_infection(label="E1", home=city["unit_a"], found="community", confirmed_on=day(0),
                                     actor=commander)
    transfer = inf.tasks.get(step="transfer")  # 2 h deadline
    with clock.frozen(start + dt.timedelta(hours=1)):
        assert ca.do_escalate_overdue() == 0
    with clock.frozen(start + dt.timedelta(hours=2, minutes=30)):
        assert ca.do_escalate_overdue() == 1
        transfer.refresh_from_db()
        assert transfer.escalation == 1
        tasks = as_user(commander).get("/api/tasks", {"overdue": True}).json()["items"]
        assert tasks[0]["escalated_to"] == "street" and tasks[0]["overdue"]
    with clock.frozen(start + dt.timedelta(hours=4, minutes=30)):
        ca.do_escalate_overdue()
    with clock.frozen(start + dt.timedelta(hours=30)):
        ca.do_escalate_overdue()
    levels = dict(ResponseTask.objects.filter(infection=inf).values_list("step", "escalation"))
    assert levels["transfer"] == 3 and levels["investigation"] == 1
    notes = [n.text for n in transfer.notes.order_by("at")]
    assert notes == ["overdue: escalated to level 1", "overdue: escalated to level 2",
                     "overdue: escalated to level 3"]
    assert AuditEntry.objects.filter(action="task.escalate", object_id=str(transfer.pk)).count() == 3


# ------------------------------------------------------------------------------------------ facilities

def test_facility_capacity_error_and_days_left(city, worker, cases, as_user):
    c = as_user(worker)
    f = cases["facility_a"]  # capacity 3, one placed
    for label in ("C-K1", "C-K2"):
        o = PersonOrder.objects.get(label=label)
        assert post(c, f"/api/facilities/{f.pk}/place", {"order_id": o.pk}).status_code == 201
    o = ca.do_register_contact(cases["infection_a"], label="C-K4", last_exposure=day(-1), home=city["unit_a"])
    r = post(c, f"/api/facilities/{f.pk}/place", {"order_id": o.pk})
    assert r.status_code == 400 and r.json()["field"] == "facility"
    assert r.json()["detail"] == "五泉隔离点 已满（3 个床位已占用 3 个）"  # in the request's language
    f.refresh_from_db()
    assert f.occupied == 3 and Placement.objects.filter(facility=f).count() == 3
    row = c.get("/api/facilities").json()["items"][0]
    assert row["free"] == 0 and row["intake_per_day"] == 1.0 and row["days_left"] == 0.0
    # Already placed.
    r = post(c, f"/api/facilities/{f.pk}/place", {"order_id": cases["placed_order_a"].pk})
    assert r.status_code == 409
    r = post(c, f"/api/placements/{cases['placement_a'].pk}/discharge", {"reason": "moved to hospital"})
    assert r.status_code == 200 and r.json()["discharged_on"] == str(day(0))
    f.refresh_from_db()
    assert f.occupied == 2
    assert post(c, f"/api/placements/{cases['placement_a'].pk}/discharge", {}).status_code == 400


def test_facility_writes_out_of_scope(city, outsider, auditor, cases, as_user):
    f = cases["facility_a"]
    assert post(as_user(outsider), f"/api/facilities/{f.pk}/place", {"order_id": cases["order_a"].pk}).status_code \
        == 404
    assert post(as_user(auditor), f"/api/facilities/{f.pk}/place", {"order_id": cases["order_a"].pk}).status_code \
        == 403
    r = post(as_user(outsider), "/api/facilities", {"name": "x", "kind": "quarantine_site",
                                                    "area_id": city["community_a"].pk, "capacity": 3})
    assert r.status_code == 404
    assert as_user(outsider).get("/api/facilities").json()["items"] == []


def test_release_due_discharges_and_returns_beds(city, cases):
    f = cases["facility_a"]
    placed = cases["placed_order_a"]
    before = AuditEntry.objects.filter(action="order.release").count()
    n = ca.do_release_due(placed.free_on)
    assert n == 3
    placed.refresh_from_db()
    f.refresh_from_db()
    assert placed.status == OrderStatus.RELEASED and placed.released_on == placed.free_on and f.occupied == 0
    rows = list(AuditEntry.objects.filter(action="order.release").order_by("id"))
    assert len(rows) - before == 3
    e = next(r for r in rows if r.object_id == str(placed.pk))
    assert e.object_repr == "C-K3" and e.after == {"released_on": str(placed.free_on), "free_on": str(placed.free_on)}
    assert e.before is None and e.actor_name == "system" and e.community_id == city["community_a"].pk
    assert e.rule == "order end (pack)" and e.object_type == "order"
    assert ca.do_release_due(placed.free_on) == 0


# ------------------------------------------------------------------------------------------ arrivals, regions

def test_arrivals_measures_and_completion(city, worker, cases, as_user):
    c = as_user(worker)
    region = cases["region"]
    r = post(c, "/api/arrivals", {"person": "AR2", "destination_id": city["unit_a"].pk,
                                  "arrived_on": str(day(0)), "region_id": region.pk, "kind": "resident"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["from_level"] == "high" and body["category"] == "from_high_area"
    assert body["order"]["centralized_until"] == str(day(7)) and body["complete"] is False
    low = c.get("/api/arrivals").json()["items"]
    a1 = next(a for a in low if a["person"] == "C-A1")
    assert a1["order"] is None and a1["tests_required"] == 2 and a1["complete"] is False
    r = post(c, f"/api/arrivals/{a1['id']}/tests", {"result": "negative"})
    with clock.frozen(clock.now() + dt.timedelta(days=1)):
        r = post(c, f"/api/arrivals/{a1['id']}/tests", {"result": "negative"})
    assert r.json()["tests_done"] == 2 and r.json()["complete"] is True


def test_outside_regions_only_commanders_write(city, commander, worker, as_user):
    r = post(as_user(worker), "/api/outside-regions", {"name": "某地", "level": "high"})
    assert r.status_code == 403
    c = as_user(commander)
    r = post(c, "/api/outside-regions", {"name": "某地", "level": "high"})
    assert r.status_code == 200 and r.json()["level"] == "high"
    r = post(c, "/api/outside-regions", {"name": "某地", "level": "low", "source": "notice 12"})
    assert r.json()["level"] == "low"
    assert [x["name"] for x in as_user(worker).get("/api/outside-regions").json()] == ["某地"]
    e = AuditEntry.objects.filter(action="region.upsert").order_by("-id").first()
    assert e.before == {"level": "high"} and e.actor_name == "commander"
    assert post(c, "/api/outside-regions", {"name": "x", "level": "extreme"}).json()["field"] == "level"

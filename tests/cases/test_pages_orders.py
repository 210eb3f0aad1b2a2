"""The cases writes that have a page of their own: recording an infection (by hand with places visited, and
prefilled from a positive result), a manual order, an extension, a spill-over, an arrival's test, and the
check-ins of many people at once (each row one audited action, refused rows reported). Errors show on the
form's field, never as a server error; out-of-scope and read-only users are refused."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.cases import actions as ca
from cordon.cases.models import Arrival, CheckIn, Infection, PersonOrder
from cordon.core import clock
from cordon.core.models import AuditEntry
from tests.cases._cfixtures import cases  # noqa: F401

pytestmark = pytest.mark.django_db


def en(client):
    client.cookies["django_language"] = "en"
    return client


def day(n=0):
    return clock.today() + dt.timedelta(days=n)


# ------------------------------------------------------------------------------------------ infections

def test_record_infection_by_hand_with_places_visited(city, worker, cases, as_user):
    c = en(as_user(worker))
    body = c.get("/cases/").content.decode()
    assert 'href="/cases/infections/new/"' in body
    page = c.get("/cases/infections/new/").content.decode()
    assert f'value="{day(0):%Y-%m%d}-01"' in page  # a free reference of the day is suggested
    as_zh = as_user(worker)
    as_zh.cookies["django_language"] = "zh-hans"  # a date input shows only ISO dates, whatever the language
    assert f'type="date" name="confirmed_on" value="{day(0).isoformat()}"' in \
        as_zh.get("/cases/infections/new/").content.decode()
    visited = f"{city['unit_b'].path}\n{city['community_a'].path}/"
    r = c.post("/cases/infections/new/", {"label": "H-1", "home": city["unit_a"].path, "kind": "asymptomatic",
                                          "found": "community", "confirmed_on": str(day(0)), "visited": visited,
                                          "reason": "hospital report"})
    inf = Infection.objects.get(label="H-1")
    assert r.status_code == 302 and r["Location"] == f"/cases/infections/{inf.pk}/"
    assert {a.pk for a in inf.visited.all()} == {city["unit_b"].pk, city["community_a"].pk}
    assert inf.tasks.count() == 6
    assert AuditEntry.objects.filter(action="infection.create", object_id=str(inf.pk)).count() == 1


def test_record_infection_errors_show_on_the_form(city, worker, outsider, cases, as_user):
    c = en(as_user(worker))
    base = {"label": "H-2", "home": city["unit_a"].path, "kind": "confirmed", "found": "community",
            "confirmed_on": str(day(0))}
    r = c.post("/cases/infections/new/", {**base, "visited": "城关区/没有这个地方"})
    assert r.status_code == 400 and "line 1: no such address" in r.content.decode()
    r = c.post("/cases/infections/new/", {**base, "label": "C-P1"})  # already recorded
    assert r.status_code == 400 and "already recorded" in r.content.decode()
    r = c.post("/cases/infections/new/", {**base, "home": city["unit_b"].path})  # not in the worker's area
    assert r.status_code == 400 and "No such area in your jurisdiction" in r.content.decode()
    r = c.post("/cases/infections/new/", {**base, "confirmed_on": "2022-13-01"})
    assert r.status_code == 400
    assert not Infection.objects.filter(label="H-2").exists()


def test_record_infection_prefilled_from_a_positive_result(city, worker, outsider, cases, as_user):
    c = en(as_user(worker))
    o = cases["order_positive_a"]  # checked in positive today
    body = c.get(f"/cases/contacts/?q={o.label}").content.decode()
    assert f'href="/cases/infections/new/?order={o.pk}"' in body
    page = c.get(f"/cases/infections/new/?order={o.pk}").content.decode()
    assert 'value="C-K2"' in page and city["unit_a"].path in page and "under an order" in page
    assert as_user(outsider).get(f"/cases/infections/new/?order={o.pk}").status_code == 404
    r = c.post(f"/cases/infections/new/?order={o.pk}", {
        "label": "C-K2", "home": city["unit_a"].path, "kind": "confirmed", "found": "controlled_area",
        "confirmed_on": str(day(0)), "home_isolating": "on"})
    assert r.status_code == 302
    assert Infection.objects.get(label="C-K2").home_isolating


def test_arrival_test_form_and_positive_offers_the_infection(city, worker, cases, as_user):
    c = en(as_user(worker))
    a = cases["arrival_a"]
    r = c.post(f"/cases/arrivals/{a.pk}/test/", {"result": "positive", "on": str(day(0))})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.tests_done == [{"on": str(day(0)), "result": "positive"}]
    body = c.get("/cases/arrivals/").content.decode()
    assert f"/cases/infections/new/?arrival={a.pk}" in body
    assert 'value="C-A1"' in c.get(f"/cases/infections/new/?arrival={a.pk}").content.decode()
    r = c.post(f"/cases/arrivals/{a.pk}/test/", {"result": "maybe"}, follow=True)
    assert "Not done" in r.content.decode() and Arrival.objects.get(pk=a.pk).tests_done == a.tests_done


# ------------------------------------------------------------------------------------------ orders

def test_manual_order_page(city, worker, auditor, cases, as_user):
    c = en(as_user(worker))
    assert 'href="/cases/orders/new/"' in c.get("/cases/contacts/").content.decode()
    assert as_user(auditor).get("/cases/orders/new/").status_code == 403
    # No recorded link: refused with the rule's message on the form.
    r = c.post("/cases/orders/new/", {"person": "NOBODY", "category": "close_contact", "reason": "asked",
                                      "home": city["unit_a"].path})
    assert r.status_code == 400 and "no recorded link" in r.content.decode()
    r = c.post("/cases/orders/new/", {"person": "C-A1", "category": "close_contact", "reason": ""})
    assert r.status_code == 400 and "This field is required" in r.content.decode()
    before = PersonOrder.objects.count()
    r = c.post("/cases/orders/new/", {"person": "C-K1", "category": "close_contact",
                                      "reason": "re-exposed at home"})
    assert r.status_code == 302 and PersonOrder.objects.count() == before + 1
    assert PersonOrder.objects.filter(label="C-K1", manual=True).exists()


def test_extend_order_page(city, worker, outsider, cases, as_user):
    c = en(as_user(worker))
    o, pos = cases["order_a"], cases["order_positive_a"]
    assert f'href="/cases/orders/{o.pk}/extend/"' in c.get("/cases/contacts/").content.decode()
    r = c.post(f"/cases/orders/{o.pk}/extend/", {"days": "3", "reason": "to be safe"})
    assert r.status_code == 400 and "positive" in r.content.decode()  # nine prohibitions #5
    r = c.post(f"/cases/orders/{pos.pk}/extend/", {"days": "0", "reason": "x"})
    assert r.status_code == 400
    free = pos.free_on
    r = c.post(f"/cases/orders/{pos.pk}/extend/", {"days": "3", "reason": "positive check-in"})
    assert r.status_code == 302
    pos.refresh_from_db()
    assert pos.free_on == free + dt.timedelta(days=3)
    assert as_user(outsider).get(f"/cases/orders/{pos.pk}/extend/").status_code == 404


def test_spillover_page(city, worker, cases, as_user):
    c = en(as_user(worker))
    assert 'href="/cases/spillovers/new/"' in c.get("/cases/contacts/").content.decode()
    r = c.post("/cases/spillovers/new/", {"person": "S-1", "from_area": city["unit_b"].path, "left_on": str(day(0)),
                                          "home": city["unit_a"].path})
    assert r.status_code == 400 and "was not a high- or medium-risk area" in r.content.decode()
    r = c.post("/cases/spillovers/new/", {"person": "S-1", "from_area": "nowhere", "left_on": str(day(0)),
                                          "home": city["unit_a"].path})
    assert r.status_code == 400 and "No such area" in r.content.decode()
    assert not PersonOrder.objects.filter(label="S-1").exists()


# ------------------------------------------------------------------------------------------ bulk check-ins

def test_bulk_checkins_each_row_one_action_and_refusals_reported(city, worker, outsider, cases, as_user):
    c = en(as_user(worker))
    assert 'href="/cases/checkins/"' in c.get("/cases/contacts/").content.decode()
    page = c.get("/cases/checkins/").content.decode()
    k1, k3 = cases["order_a"], cases["placed_order_a"]
    assert f'name="row" value="{k1.pk}"' in page and f'name="row" value="{k3.pk}"' in page
    other = ca.do_register_contact(cases["infection_a"], label="B-OUT", last_exposure=day(-1), identified_on=day(0),
                                   home=city["unit_b"], actor="test")
    audit_before = AuditEntry.objects.filter(action="order.checkin").count()
    r = c.post("/cases/checkins/", {"row": [str(k1.pk), str(k3.pk), str(other.pk), "x"],
                                    f"temperature-{k1.pk}": "36.6", f"test_result-{k1.pk}": "negative",
                                    f"temperature-{k3.pk}": "99"})
    body = r.content.decode()
    assert r.status_code == 200
    assert CheckIn.objects.filter(order=k1, on=day(0), test_result="negative").exists()
    assert not CheckIn.objects.filter(order=k3).exists() and not CheckIn.objects.filter(order=other).exists()
    assert "C-K3" in body and "less than or equal to 45" in body  # the row and why
    assert "not found, or not yours to change" in body and "not a row of this list" in body
    assert AuditEntry.objects.filter(action="order.checkin").count() == audit_before + 1
    # All rows fine: saved, back to the list with a message.
    r = c.post("/cases/checkins/", {"row": [str(k3.pk)], f"temperature-{k3.pk}": "36.8"})
    assert r.status_code == 302 and CheckIn.objects.filter(order=k3).exists()
    r = c.post("/cases/checkins/", {})
    assert r.status_code == 400 and "Tick at least one row" in r.content.decode()
    assert f'value="{k1.pk}"' not in as_user(outsider).get("/cases/checkins/").content.decode()

"""Cases pages: infections list with daily KPIs and overdue tasks, the infection page (response timeline,
checklist ticks, notes, completion, contacts, transmission chain), a community's people under orders with the
check-in, facilities (admit, capacity error, discharge), arrivals (register, tests, regions); scoping,
read-only refusals, query budgets, translations."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.cases import actions as ca
from cordon.cases.models import CheckIn, Infection, PersonOrder, Placement
from cordon.core import clock
from cordon.core.models import AuditEntry
from tests.cases._cfixtures import cases  # noqa: F401

pytestmark = pytest.mark.django_db


def zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def en(client):
    client.cookies["django_language"] = "en"
    return client


def day(n=0):
    return clock.today() + dt.timedelta(days=n)


# ------------------------------------------------------------------------------------------ infections

def test_infections_list(city, worker, outsider, cases, as_user):
    body = en(as_user(worker)).get("/cases/").content.decode()
    inf = cases["infection_a"]
    assert f'href="/cases/infections/{inf.pk}/"' in body and "C-P1" in body
    assert "3 identified, 1 of 3 placed" in body and "6 tasks open" in body
    assert "hours per day" in body and "style=" not in body
    assert "C-P1" not in as_user(outsider).get("/cases/").content.decode()


def test_overdue_tasks_are_listed_with_escalation(city, worker, as_user):
    start = dt.datetime.combine(day(0), dt.time(8), tzinfo=clock.tz())
    with clock.frozen(start):
        inf = ca.do_record_infection(label="O1", home=city["unit_a"], found="community", confirmed_on=day(0),
                                     actor="test")
    with clock.frozen(start + dt.timedelta(hours=5)):
        ca.do_escalate_overdue()
        body = en(as_user(worker)).get("/cases/").content.decode()
        assert "Overdue response tasks" in body and "Escalated · level 2" in body
        page = en(as_user(worker)).get(f"/cases/infections/{inf.pk}/").content.decode()
        assert "is-overdue" in page and "Escalated · level 2" in page
        # a team's owner and a task's title, kept "中文 / English", read in the page's language only
        assert "Owner: transfer team" in page and "转运组" not in page and "transfer team</span>" in body
        page = zh(as_user(worker)).get(f"/cases/infections/{inf.pk}/").content.decode()
        assert "责任方: 120 转运组<" in page and "transfer team" not in page
        assert "transfer team" not in zh(as_user(worker)).get("/cases/").content.decode()
    # the worker is told of the overdue task, its title in each language's own half
    from cordon.core.models import Notification

    n = Notification.objects.filter(user=worker, kind="overdue_task", text_en__contains="transfer").first()
    assert n.text_en.startswith("Response task overdue: transfer") and "转运" not in n.text_en
    assert n.text_zh.startswith("处置任务逾期：转运") and "transfer" not in n.text_zh


def test_infection_page_timeline_checklist_and_completion(city, worker, cases, as_user):
    c = zh(as_user(worker))
    inf, t = cases["infection_a"], cases["task_a"]
    body = c.get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "转运" in body and "联系定点医院或方舱医院确认床位" in body and f'id="task-{t.pk}"' in body
    assert f'action="/cases/tasks/{t.pk}/check/"' in body
    r = c.post(f"/cases/tasks/{t.pk}/check/", {"check": "0"})
    assert r.status_code == 302 and r["Location"].endswith(f"#task-{t.pk}")
    t.refresh_from_db()
    assert t.checklist[0]["done"] and not t.checklist[1]["done"]
    c.post(f"/cases/tasks/{t.pk}/note/", {"text": "救护车已出发"})
    c.post(f"/cases/tasks/{t.pk}/complete/", {"text": "已入院"})
    t.refresh_from_db()
    assert t.status == "done" and [n.text for n in t.notes.order_by("at", "id")] == ["✓", "救护车已出发", "已入院"]
    body = c.get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "救护车已出发" in body and "已入院" in body


def test_infection_page_read_only_and_out_of_scope(city, auditor, outsider, cases, as_user):
    inf, t = cases["infection_a"], cases["task_a"]
    body = as_user(auditor).get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "/check/" not in body and "/complete/" not in body
    assert as_user(auditor).post(f"/cases/tasks/{t.pk}/complete/").status_code == 403
    assert as_user(outsider).get(f"/cases/infections/{inf.pk}/").status_code == 404
    assert as_user(outsider).post(f"/cases/tasks/{t.pk}/complete/").status_code == 404
    t.refresh_from_db()
    assert t.status == "open"


def test_register_contact_from_the_page(city, worker, cases, as_user):
    c = en(as_user(worker))
    inf = cases["infection_a"]
    r = c.post(f"/cases/infections/{inf.pk}/contact/", {"person": "PG1", "category": "close_contact",
                                                         "last_exposure": str(day(-3)), "home": ""})
    assert r.status_code == 302
    o = PersonOrder.objects.get(label="PG1")
    assert o.infection == inf and o.anchor == day(-3) and o.free_on == day(8) and o.home == inf.home
    r = c.post(f"/cases/infections/{inf.pk}/contact/", {"person": "PG2", "category": "contact_of_contact",
                                                         "last_exposure": str(day(-1)), "via": "PG1"})
    assert PersonOrder.objects.get(label="PG2").via == o
    body = c.get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "PG1" in body and "identified late" not in body
    with clock.frozen(day(2)):  # traced two days after the confirmation
        ca.do_register_contact(inf, label="PG3", last_exposure=day(-1), home=city["unit_a"])
    body = c.get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "identified late" in body


def test_chain_view_nests_contacts_infections_and_their_contacts(city, worker, cases, as_user):
    inf, k1 = cases["infection_a"], cases["order_a"]
    ca.do_register_contact(inf, label="C-S1", category="contact_of_contact", last_exposure=day(-1), via=k1,
                           home=city["unit_a"])
    # C-K2 tests positive and becomes an infection, with a close contact of its own.
    p2 = ca.do_record_infection(label="C-K2", home=city["unit_a"], found="quarantine_site", confirmed_on=day(0))
    ca.do_register_contact(p2, label="C-K2-1", last_exposure=day(-1), home=city["unit_a"])
    body = en(as_user(worker)).get(f"/cases/infections/{inf.pk}/").content.decode()
    chain = body[body.index('<ul class="chain">'):]
    # nesting order: C-P1 > C-K1 > C-S1; C-P1 > C-K2 > (infection C-K2) > C-K2-1
    assert chain.index("C-P1") < chain.index("C-K1") < chain.index("C-S1")
    assert "became infection" in chain
    assert f'href="/cases/infections/{p2.pk}/"' in chain
    assert chain.index(f'/cases/infections/{p2.pk}/') < chain.index("C-K2-1")
    from cordon.cases import queries

    tree = queries.chain(inf)
    k2 = next(n for n in tree["children"] if n["label"] == "C-K2")
    assert k2["infection"]["id"] == p2.pk and [n["label"] for n in k2["infection"]["children"]] == ["C-K2-1"]
    assert queries.chain_size(tree) == 7


def test_chain_does_not_expand_out_of_scope_infections(city, worker, cases, as_user):
    inf = cases["infection_a"]
    # A contact at home in A who became an infection recorded in B (and a contact of that infection in B).
    ca.do_register_contact(inf, label="FAR", last_exposure=day(-1), home=city["unit_a"])
    far = ca.do_record_infection(label="FAR", home=city["unit_b"], found="community", confirmed_on=day(0))
    ca.do_register_contact(far, label="FAR-1", last_exposure=day(-1), home=city["unit_b"])
    ca.do_register_contact(inf, label="AWAY", last_exposure=day(-1), home=city["unit_b"])
    from cordon.cases import queries

    tree = queries.chain(inf, worker)
    node = next(n for n in tree["children"] if n["label"] == "FAR")
    assert node["infection"]["id"] is None and node["infection"]["children"] == []
    # A contact living outside the worker's jurisdiction is not in the worker's tree at all.
    assert "AWAY" not in {n["label"] for n in tree["children"]}
    assert "AWAY" in {n["label"] for n in queries.chain(inf)["children"]}


def test_infection_page_query_budget(city, worker, cases, as_user, django_assert_max_num_queries):
    inf = cases["infection_a"]
    for i in range(20):
        o = ca.do_register_contact(inf, label=f"B{i}", last_exposure=day(-1), home=city["unit_a"])
        ca.do_register_contact(inf, label=f"B{i}-s", category="contact_of_contact", last_exposure=day(-1), via=o,
                               home=city["unit_a"])
    c = as_user(worker)
    with django_assert_max_num_queries(26):
        assert c.get(f"/cases/infections/{inf.pk}/").status_code == 200


# ------------------------------------------------------------------------------------------ contacts page

def test_contact_list_shows_status_and_records_a_checkin(city, worker, cases, as_user):
    c = en(as_user(worker))
    body = c.get("/cases/contacts/").content.decode()
    assert "C-K1" in body and "Centralized quarantine" in body and "Test today" in body
    assert "3 people" in body
    o = cases["order_a"]
    assert f'action="/cases/orders/{o.pk}/checkin/"' in body
    r = c.post(f"/cases/orders/{o.pk}/checkin/", {"temperature": "36.7", "test_result": "negative",
                                                  "next": "/cases/contacts/?page=1"})
    assert r.status_code == 302 and r["Location"] == "/cases/contacts/?page=1"
    ck = CheckIn.objects.get(order=o)
    assert str(ck.temperature) == "36.7" and ck.test_result == "negative" and ck.actor == "worker_a"
    assert AuditEntry.objects.filter(action="order.checkin", object_id=str(o.pk)).count() == 1
    body = c.get("/cases/contacts/").content.decode()
    assert "Checked in today" in body
    # A bad temperature is refused with the field.
    c.post(f"/cases/orders/{o.pk}/checkin/", {"temperature": "55"})
    assert str(CheckIn.objects.get(order=o).temperature) == "36.7"


def test_contact_list_tabs_filters_and_days(city, worker, cases, as_user):
    c = en(as_user(worker))
    assert "C-K1" in c.get("/cases/contacts/", {"today": "centralized"}).content.decode()
    assert "C-K1" not in c.get("/cases/contacts/", {"today": "home"}).content.decode()
    with clock.frozen(day(8)):
        body = c.get("/cases/contacts/", {"today": "home"}).content.decode()
        assert "C-K1" in body and "At home" in body
    assert "C-K1" not in c.get("/cases/contacts/", {"category": "from_high_area"}).content.decode()
    assert "C-K1" in c.get("/cases/contacts/", {"q": "C-K"}).content.decode()
    body = c.get("/cases/contacts/", {"community": city["community_a"].pk}).content.decode()
    assert city["community_a"].path in body and "C-K1" in body


def test_contact_list_scoping(city, outsider, auditor, cases, as_user):
    assert "C-K1" not in as_user(outsider).get("/cases/contacts/").content.decode()
    assert as_user(outsider).get("/cases/contacts/", {"community": city["community_a"].pk}).status_code == 404
    o = cases["order_a"]
    assert as_user(outsider).post(f"/cases/orders/{o.pk}/checkin/", {"temperature": "36.5"}).status_code == 404
    body = as_user(auditor).get("/cases/contacts/").content.decode()
    assert "C-K1" in body and "/checkin/" not in body
    assert as_user(auditor).post(f"/cases/orders/{o.pk}/checkin/", {"temperature": "36.5"}).status_code == 403
    assert not CheckIn.objects.filter(order=o, on=day(0)).exclude(test_result="positive").exists()


def test_contact_list_query_budget(city, worker, cases, as_user, django_assert_max_num_queries):
    inf = cases["infection_a"]
    for i in range(60):
        o = ca.do_register_contact(inf, label=f"Q{i:02d}", last_exposure=day(-(i % 3) - 1), home=city["unit_a"])
        ca.do_record_checkin(o, temperature=36.5)
    c = as_user(worker)
    with django_assert_max_num_queries(9):
        body = c.get("/cases/contacts/").content.decode()
    assert body.count('class="person-card') == 50 and "page=2" in body


# ------------------------------------------------------------------------------------------ facilities

def test_facilities_page_admit_full_and_discharge(city, worker, cases, as_user):
    c = en(as_user(worker))
    f = cases["facility_a"]
    body = c.get("/cases/facilities/").content.decode()
    assert "五泉隔离点" in body and "1 of 3" in body and "Days of capacity left" in body
    for label in ("C-K1", "C-K2"):
        r = c.post(f"/cases/facilities/{f.pk}/admit/", {"person": label})
        assert r.status_code == 302
    o = ca.do_register_contact(cases["infection_a"], label="C-K4", last_exposure=day(-1), home=city["unit_a"])
    r = c.post(f"/cases/facilities/{f.pk}/admit/", {"person": "C-K4"}, follow=True)
    assert "full (3 of 3 places taken)" in r.content.decode()
    assert not Placement.objects.filter(order=o).exists()
    f.refresh_from_db()
    assert f.occupied == 3
    body = c.get(f"/cases/facilities/{f.pk}/").content.decode()
    assert body.count("/discharge/") == 3
    r = c.post(f"/cases/placements/{cases['placement_a'].pk}/discharge/")
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.occupied == 2
    # An infection goes to a hospital, not to a quarantine site (the refusal names the kinds).
    r = c.post(f"/cases/facilities/{f.pk}/admit/", {"person": "C-P1"}, follow=True)
    assert "go to Designated hospital" in r.content.decode()
    assert not Placement.objects.filter(infection=cases["infection_a"]).exists()
    h = ca.do_create_facility(name="定点医院", kind="designated_hospital", area=city["community_a"], capacity=5)
    c.post(f"/cases/facilities/{h.pk}/admit/", {"person": "C-P1"})
    assert Placement.objects.filter(infection=cases["infection_a"], facility=h).exists()


def test_facilities_scoping_and_create(city, worker, outsider, commander, cases, as_user):
    f = cases["facility_a"]
    assert "五泉隔离点" not in as_user(outsider).get("/cases/facilities/").content.decode()
    assert as_user(outsider).get(f"/cases/facilities/{f.pk}/").status_code == 404
    assert as_user(outsider).post(f"/cases/facilities/{f.pk}/admit/", {"person": "C-K1"}).status_code == 404
    r = as_user(commander).post("/cases/facilities/new/", {"name": "方舱", "kind": "shelter_hospital",
                                                           "area": city["community_a"].path, "capacity": "500"})
    assert r.status_code == 302
    assert "方舱" in as_user(worker).get("/cases/facilities/").content.decode()


# ------------------------------------------------------------------------------------------ arrivals

def test_arrivals_page_register_and_tests(city, worker, commander, cases, as_user):
    c = en(as_user(worker))
    body = c.get("/cases/arrivals/").content.decode()
    assert "C-A1" in body and "2 tests within 3 days" in body and "某市某区" in body
    r = c.post("/cases/arrivals/new/", {"person": "AP1", "region": str(cases["region"].pk), "kind": "resident",
                                        "arrived_on": str(day(0)), "destination": city["unit_a"].path})
    assert r.status_code == 302
    o = PersonOrder.objects.get(label="AP1")
    assert o.category == "from_high_area" and o.centralized_until == day(7)
    r = c.post("/cases/arrivals/new/", {"person": "AP2", "from_level": "low", "kind": "student",
                                        "arrived_on": str(day(0)), "destination": city["unit_a"].path})
    assert not PersonOrder.objects.filter(label="AP2").exists()
    a = cases["arrival_a"]
    c.post(f"/cases/arrivals/{a.pk}/test/", {"result": "negative"})
    a.refresh_from_db()
    assert a.tests_done == [{"on": str(day(0)), "result": "negative"}]
    # Only commanders maintain the regions.
    assert c.post("/cases/regions/", {"name": "X", "level": "high"}).status_code == 403
    as_user(commander).post("/cases/regions/", {"name": "X", "level": "high"})
    assert "X" in c.get("/cases/arrivals/").content.decode()


def test_pages_in_chinese(city, worker, cases, as_user):
    c = zh(as_user(worker))
    assert "感染者" in c.get("/cases/").content.decode()
    assert "集中隔离" in c.get("/cases/contacts/").content.decode()
    assert "隔离场所" in c.get("/cases/facilities/").content.decode()
    assert "来兰返兰" in c.get("/cases/arrivals/").content.decode()


def test_nav_links(city, worker, as_user):
    body = as_user(worker).get("/").content.decode()
    for url in ("/cases/", "/cases/contacts/", "/cases/facilities/", "/cases/arrivals/"):
        assert f'href="{url}"' in body
    assert Infection.objects.count() == 0

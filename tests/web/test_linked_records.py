"""Records that know each other: the sections other apps give the area and resident pages (places.hooks), within
what each role may read; the order's own page; a contact who is a resident linked to the record; admitting an
infection to a hospital completes its transfer task; the global search's sections per role."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.cases import actions as ca
from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.places import hooks
from tests.conftest import _user, without_random_tokens


@pytest.fixture
def records(city, commander):
    inf = ca.do_record_infection(label="P1", home=city["unit_a"], found="community", confirmed_on=clock.today(),
                                 resident=city["resident_a"], actor=commander)
    contact = ca.do_register_contact(inf, label="P1-1", last_exposure=clock.today() - dt.timedelta(days=1),
                                     id_number=city["resident_a2"].id_number, actor=commander)
    stranger = ca.do_register_contact(inf, label="P1-2", last_exposure=clock.today() - dt.timedelta(days=1),
                                      home=city["unit_a"], actor=commander)
    from cordon.care.actions import do_create_request

    req = do_create_request(person="王*英", area=city["unit_a"], need="dialysis", resident=city["resident_a"],
                            actor=commander)
    return {"inf": inf, "contact": contact, "stranger": stranger, "request": req}


def _titles(user, resident):
    from django.utils import translation

    with translation.override("en"):
        return [s.title for s in hooks.sections(hooks.RESIDENT_SECTIONS, user, resident)]


def test_contact_with_a_residents_id_number_is_linked(records, city):
    assert records["contact"].resident == city["resident_a2"]
    assert records["contact"].home_id == city["resident_a2"].unit_id  # no home given: the resident's
    assert records["stranger"].resident is None                   # free text: not a resident


def test_contact_with_a_bad_id_number_is_refused(records, commander):
    from cordon.core.actions import ActionError

    with pytest.raises(ActionError) as e:
        ca.do_register_contact(records["inf"], label="P1-3", last_exposure=clock.today(), id_number="12345",
                               actor=commander)
    assert e.value.field == "id_number"


def test_contact_form_links_the_resident(records, city, commander, as_user):
    r = city["resident_b"]
    page = as_user(commander).post(f"/cases/infections/{records['inf'].pk}/contact/",
                                   {"person": "P1-9", "category": "close_contact",
                                    "last_exposure": (clock.today() - dt.timedelta(days=1)).isoformat(),
                                    "id_number": r.id_number})
    assert page.status_code in (200, 302)
    from cordon.cases.models import PersonOrder

    assert PersonOrder.objects.get(label="P1-9").resident == r


def test_resident_page_sections_per_role(records, city, commander, worker, outsider, as_user, monkeypatch):
    ra = city["resident_a"]
    html = as_user(worker).get(f"/residents/{ra.pk}/").content.decode()
    assert f"/cases/infections/{records['inf'].pk}/" in html
    assert f"/care/requests/{records['request'].pk}/" in html
    assert as_user(outsider).get(f"/residents/{ra.pk}/").status_code == 404
    # the contact's order on the contact's page
    html = as_user(worker).get(f"/residents/{city['resident_a2'].pk}/").content.decode()
    assert f"/cases/orders/{records['contact'].pk}/" in html
    # a role that reads personal data but not health data sees neither infections nor orders nor tests
    monkeypatch.setitem(access.ROLE_CAPS, "community_worker", access.ROLE_CAPS["community_worker"] - {access.READ_HEALTH})
    worker._cordon_grants = None
    html = as_user(worker).get(f"/residents/{ra.pk}/").content.decode()
    assert "/cases/infections/" not in html and "/cases/orders/" not in html
    assert f"/care/requests/{records['request'].pk}/" in html


def test_section_providers_answer_none_without_the_capability(records, city):
    hotline = _user("hotline", "hotline_operator", None)
    dispatcher = _user("dispatcher", "medical_dispatcher", None)
    auditor = _user("auditor2", "auditor", None)
    assert _titles(hotline, city["resident_a"]) == ["Care requests"]
    assert "Deliveries to the household" not in _titles(dispatcher, city["resident_a"])
    assert {"Infections", "Orders", "Care requests", "Screening tests", "Deliveries to the household"} \
        <= set(_titles(auditor, city["resident_a"]))


def test_area_page_shows_seal_status_and_history(city, commander, worker, outsider, as_user):
    from cordon.zones.actions import do_designate

    html = as_user(worker).get(f"/areas/{city['unit_a'].pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Not sealed" in html or "未封控" in html
    d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    for area in (city["unit_a"], city["community_a"]):
        html = as_user(worker).get(f"/areas/{area.pk}/").content.decode()
        assert f"/zones/{d.pk}/" in html
    from django.utils import translation

    with translation.override("en"):
        s = next(s for s in hooks.sections(hooks.AREA_SECTIONS, worker, city["unit_a"]))
        assert dict(s.facts)["Seal status"].startswith("Sealed")
        s = next(s for s in hooks.sections(hooks.AREA_SECTIONS, worker, city["community_a"]))
        assert dict(s.facts)["Seal status"] == "Not sealed" and dict(s.facts)["Designated areas inside"] == "1"
    # another community's worker does not see it on their own pages
    assert not any(s.rows for s in hooks.sections(hooks.AREA_SECTIONS, outsider, city["unit_b"]))


def test_order_page(records, city, commander, worker, outsider, as_user):
    o = records["contact"]
    ca.do_record_checkin(o, temperature="36.6", test_result="negative", actor=commander)
    f = ca.do_create_facility(name="site", kind="quarantine_site", area=city["community_a"], capacity=5)
    ca.do_place(f, order=o, actor=commander)
    page = as_user(worker).get(f"/cases/orders/{o.pk}/")
    html = without_random_tokens(page.content.decode())
    assert page.status_code == 200
    assert "P1-1" in html and "36.6" in html and f"/cases/facilities/{f.pk}/" in html
    assert "order.create" in html and "order.checkin" in html            # its history
    assert f"/residents/{city['resident_a2'].pk}/" in html                # the linked resident
    assert f"/cases/infections/{records['inf'].pk}/" in html
    assert as_user(outsider).get(f"/cases/orders/{o.pk}/").status_code == 404
    logistics = _user("logistics", "logistics_officer", None)
    assert as_user(logistics).get(f"/cases/orders/{o.pk}/").status_code == 403


def test_order_page_links_only_what_its_viewer_may_open(records, city, commander, worker, as_user):
    """An order's page links its facility and the order it came through only where they lie within the viewer's
    jurisdiction (a person of 五泉社区 placed in a site of 白银路社区 showed a link answering 404: found walking
    the demo as the district and street officers); outside it the name is shown without a link."""
    today = clock.today()
    away = ca.do_create_facility(name="白银路隔离点", kind="quarantine_site", area=city["community_b"], capacity=5)
    first = ca.do_register_contact(records["inf"], label="P1-B", last_exposure=today - dt.timedelta(days=1),
                                   home=city["unit_b"], actor=commander)
    second = ca.do_register_contact(records["inf"], label="P1-B-1", category="contact_of_contact", via=first,
                                    last_exposure=today - dt.timedelta(days=1), home=city["unit_a"], actor=commander)
    ca.do_place(away, order=second, actor=commander, note="家中无独立卫生间")
    w = as_user(worker)
    assert w.get(f"/cases/facilities/{away.pk}/").status_code == 404
    assert w.get(f"/cases/orders/{first.pk}/").status_code == 404
    html = w.get(f"/cases/orders/{second.pk}/").content.decode()
    assert "白银路隔离点" in html and f"/cases/facilities/{away.pk}/" not in html
    assert "P1-B<" in html and f"/cases/orders/{first.pk}/" not in html
    html = as_user(commander).get(f"/cases/orders/{second.pk}/").content.decode()
    assert f"/cases/facilities/{away.pk}/" in html and f"/cases/orders/{first.pk}/" in html


def test_contact_list_links_order_and_resident(records, city, worker, as_user):
    html = as_user(worker).get("/cases/contacts/").content.decode()
    assert f"/cases/orders/{records['contact'].pk}/" in html
    assert f"/residents/{city['resident_a2'].pk}/" in html
    assert f"/cases/orders/{records['stranger'].pk}/" in html


def test_hospital_admission_completes_the_transfer_task(records, city, commander):
    from cordon.cases.queries import kpis_for

    inf = records["inf"]
    site = ca.do_create_facility(name="site", kind="quarantine_site", area=city["community_a"], capacity=5)
    hospital = ca.do_create_facility(name="肺科医院", kind="designated_hospital", area=city["community_a"],
                                     capacity=5)
    assert kpis_for([inf])[inf.pk]["to_transfer_h"] is None
    with pytest.raises(ActionError):                               # not a hospital: refused (placement checks),
        ca.do_place(site, infection=inf, actor=commander)         # and the transfer stays open
    assert inf.tasks.get(step="transfer").status == "open"
    ca.do_place(hospital, infection=inf, actor=commander)
    t = inf.tasks.get(step="transfer")
    assert t.status == "done" and t.done_at is not None
    assert kpis_for([inf])[inf.pk]["to_transfer_h"] is not None


def test_global_search_per_role(records, city, commander, worker, outsider, as_user):
    hotline = _user("hotline", "hotline_operator", None)
    logistics = _user("logistics", "logistics_officer", None)
    html = as_user(worker).get("/search/", {"q": "P1"}).content.decode()
    assert f"/cases/infections/{records['inf'].pk}/" in html and f"/cases/orders/{records['contact'].pk}/" in html
    html = as_user(outsider).get("/search/", {"q": "P1"}).content.decode()
    assert "/cases/infections/" not in html and "/cases/orders/" not in html   # another community's records
    for user in (hotline, logistics):
        html = as_user(user).get("/search/", {"q": "P1"}).content.decode()
        assert "/cases/infections/" not in html and "/residents/" not in html
    html = as_user(worker).get("/search/", {"q": "五泉"}).content.decode()
    assert f"/areas/{city['community_a'].pk}/" in html


def test_global_search_finds_tickets(city, as_user):
    from cordon.hotline.models import Ticket

    hotline = _user("hotline", "hotline_operator", None)
    logistics = _user("logistics", "logistics_officer", None)
    from cordon.hotline.actions import do_create_ticket

    t = do_create_ticket(caller="王", phone="13900001111", category="supplies",
                         text="五泉小区缺少蔬菜", location="五泉小区", area=city["unit_a"], actor=hotline)
    assert isinstance(t, Ticket)
    html = as_user(hotline).get("/search/", {"q": "蔬菜"}).content.decode()
    assert f"/hotline/tickets/{t.pk}/" in html and "13900001111" not in html
    assert "/hotline/tickets/" not in as_user(logistics).get("/search/", {"q": "蔬菜"}).content.decode()

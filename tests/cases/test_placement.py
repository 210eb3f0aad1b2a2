"""Placement checks (one bed per person at a time; the facility's kind fits the person; the pack's home
quarantine): the same refusal, with its field, through the action, the API and the facility page."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.cases import actions as ca
from cordon.cases.models import Placement
from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from tests.cases._cfixtures import cases  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def sites(city):
    area = city["community_a"]
    return {"hospital": ca.do_create_facility(name="定点医院", kind="designated_hospital", area=area, capacity=5),
            "shelter": ca.do_create_facility(name="方舱医院", kind="shelter_hospital", area=area, capacity=5),
            "site2": ca.do_create_facility(name="第二隔离点", kind="quarantine_site", area=area, capacity=5)}


def test_one_bed_per_person(city, cases, sites):
    placed = cases["placed_order_a"]  # in the quarantine site already
    with pytest.raises(Conflict) as e:
        ca.do_place(sites["site2"], order=placed, actor="test")
    assert e.value.field == "order" and "五泉隔离点" in str(e.value) and "discharge or transfer" in str(e.value)
    inf = cases["infection_a"]
    ca.do_place(sites["hospital"], infection=inf, actor="test")
    with pytest.raises(Conflict) as e:
        ca.do_place(sites["shelter"], infection=inf, actor="test")
    assert e.value.field == "infection" and "定点医院" in str(e.value)
    # Transfer: discharge, then the other facility takes the person.
    ca.do_discharge(Placement.objects.get(infection=inf), actor="test", reason="transfer")
    assert ca.do_place(sites["shelter"], infection=inf, actor="test").facility == sites["shelter"]
    sites["hospital"].refresh_from_db()
    assert sites["hospital"].occupied == 0


def test_one_bed_per_resident_across_records(city, cases, sites):
    """An order and an infection of the same resident are one person: the second admission is refused."""
    from cordon.places.models import Resident

    resident = Resident.objects.filter(household__unit=city["unit_a"]).first()
    if resident is None:
        pytest.skip("the personas' city has no resident in unit A")
    order = cases["order_a"]
    order.resident = resident
    order.save(update_fields=["resident"])
    inf = ca.do_record_infection(label="R-P9", home=city["unit_a"], found="controlled_area",
                                 confirmed_on=clock.today(), resident=resident, actor="test")
    ca.do_place(cases["facility_a"], order=order, actor="test")
    with pytest.raises(Conflict) as e:
        ca.do_place(sites["hospital"], infection=inf, actor="test")
    assert e.value.field == "infection"


def test_facility_kind_fits_the_person(city, cases, sites):
    with pytest.raises(ActionError) as e:
        ca.do_place(cases["facility_a"], infection=cases["infection_a"], actor="test")
    assert e.value.field == "facility" and "定点医院" in str(e.value)
    for kind in ("hospital", "shelter"):
        with pytest.raises(ActionError) as e:
            ca.do_place(sites[kind], order=cases["order_a"], actor="test")
        assert e.value.field == "facility" and "集中隔离点" in str(e.value)
    assert not Placement.objects.filter(order=cases["order_a"]).exists()
    for f in sites.values():
        f.refresh_from_db()
        assert f.occupied == 0  # a refusal takes no bed


def test_home_quarantine_needs_the_reason_the_home_is_unsuitable(city, cases, sites):
    """A contact of a contact is kept at home by the ninth edition (7 days home quarantine): a quarantine site
    takes them only with the reason."""
    today = clock.today()
    via = cases["order_a"]
    o = ca.do_register_contact(cases["infection_a"], label="C-S1", category="contact_of_contact",
                               last_exposure=today - dt.timedelta(days=1), identified_on=today,
                               home=city["unit_a"], via=via, actor="test")
    assert o.centralized_until is None
    with pytest.raises(ActionError) as e:
        ca.do_place(sites["site2"], order=o, actor="test")
    assert e.value.field == "note" and "home quarantine" in str(e.value)
    p = ca.do_place(sites["site2"], order=o, actor="test", note="独居老人，家中无法隔离 / home unsuitable")
    assert p.note.startswith("独居")


def test_api_answers_the_checks_with_their_field(city, worker, cases, sites, as_user):
    c = as_user(worker)
    c.cookies["django_language"] = "en"
    r = post(c, f"/api/facilities/{cases['facility_a'].pk}/place", {"infection_id": cases["infection_a"].pk})
    assert r.status_code == 400 and r.json()["field"] == "facility"
    r = post(c, f"/api/facilities/{sites['hospital'].pk}/place", {"order_id": cases["order_a"].pk})
    assert r.status_code == 400 and r.json()["field"] == "facility"
    r = post(c, f"/api/facilities/{sites['site2'].pk}/place", {"order_id": cases["placed_order_a"].pk})
    assert r.status_code == 409 and r.json()["field"] == "order" and "one bed per person" in r.json()["detail"]
    assert post(c, f"/api/facilities/{sites['hospital'].pk}/place",
                {"infection_id": cases["infection_a"].pk}).status_code == 201


def test_page_shows_the_checks(city, worker, cases, sites, as_user):
    c = as_user(worker)
    c.cookies["django_language"] = "en"
    r = c.post(f"/cases/facilities/{sites['site2'].pk}/admit/", {"person": "C-K3"}, follow=True)
    assert r.status_code == 200 and "one bed per person" in r.content.decode()
    r = c.post(f"/cases/facilities/{sites['shelter'].pk}/admit/", {"person": "C-K1"}, follow=True)
    assert "people under orders go to" in r.content.decode()
    assert not Placement.objects.filter(facility=sites["shelter"]).exists()

"""Related records read outside the viewer's jurisdiction (issue 13, scope): an infection's contacts living
elsewhere, a person's reference that exists only out of scope (the answer must be the one for "absent"),
price reports, a hotline call's first ticket elsewhere, screening rows of people living elsewhere.

Personas (tests/conftest.py): worker = community A, outsider = community B, commander = whole city."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.cases import actions as ca
from cordon.cases.models import PersonOrder
from cordon.core import clock, ids

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def infection_with_contacts(city):
    """An infection in community A with one contact at home in A and one at home in B (and a contact of the
    B contact, also in B)."""
    today = clock.today()
    inf = ca.do_record_infection(label="L-P1", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    near = ca.do_register_contact(inf, label="L-NEAR", last_exposure=today - dt.timedelta(days=1),
                                  identified_on=today, home=city["unit_a"], actor="test")
    far = ca.do_register_contact(inf, label="L-FAR", last_exposure=today - dt.timedelta(days=1),
                                 identified_on=today, home=city["unit_b"], actor="test")
    farther = ca.do_register_contact(inf, label="L-FAR2", category="contact_of_contact",
                                     last_exposure=today - dt.timedelta(days=1), identified_on=today,
                                     home=city["unit_b"], via=far, actor="test")
    return {"inf": inf, "near": near, "far": far, "farther": farther}


def test_infection_page_shows_only_contacts_in_scope(infection_with_contacts, worker, commander, as_user):
    inf = infection_with_contacts["inf"]
    body = as_user(worker).get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "L-NEAR" in body
    assert "L-FAR" not in body  # neither the contact in B nor the contact of that contact
    # The commander (whole city) sees them all: the check above is about scope, not about the page.
    body = as_user(commander).get(f"/cases/infections/{inf.pk}/").content.decode()
    assert "L-NEAR" in body and "L-FAR" in body and "L-FAR2" in body


def test_infection_api_contacts_and_chain_in_scope(infection_with_contacts, worker, commander, as_user):
    inf = infection_with_contacts["inf"]

    def labels(node):
        out = {node["label"]}
        for c in node.get("children") or []:
            out |= labels(c)
        return out

    got = as_user(worker).get(f"/api/infections/{inf.pk}").json()
    assert [c["person"] for c in got["contacts"]] == ["L-NEAR"]
    assert labels(got["chain"]) == {"L-P1", "L-NEAR"}
    assert "L-FAR" not in json.dumps(got, ensure_ascii=False)
    got = as_user(commander).get(f"/api/infections/{inf.pk}").json()
    assert {c["person"] for c in got["contacts"]} == {"L-NEAR", "L-FAR", "L-FAR2"}
    assert labels(got["chain"]) == {"L-P1", "L-NEAR", "L-FAR", "L-FAR2"}


def _same_answer(a, b, refs=(), drop=("id", "person")):
    """Two API answers alike but for the record's own id and reference (``refs``: the two references, each
    replaced in its own answer's text)."""
    assert a.status_code == b.status_code, (a.status_code, a.content, b.status_code, b.content)
    ja, jb = a.json(), b.json()
    if refs:
        ja = json.loads(json.dumps(ja, ensure_ascii=False).replace(refs[0], "<ref>"))
        jb = json.loads(json.dumps(jb, ensure_ascii=False).replace(refs[1], "<ref>"))
    if isinstance(ja, dict) and isinstance(jb, dict):
        ja = {k: v for k, v in ja.items() if k not in drop}
        jb = {k: v for k, v in jb.items() if k not in drop}
    return ja, jb


def test_manual_order_lookup_is_no_existence_oracle(city, worker, as_user):
    """A person's reference known only outside the worker's jurisdiction answers as an unknown reference:
    the manual order is refused for lack of a recorded link (#4) in both cases, and the order elsewhere is
    neither released nor read."""
    today = clock.today()
    inf_b = ca.do_record_infection(label="M-PB", home=city["unit_b"], found="community", confirmed_on=today,
                                   actor="test")
    elsewhere = ca.do_register_contact(inf_b, label="M-X1", last_exposure=today - dt.timedelta(days=1),
                                       identified_on=today, home=city["unit_b"], actor="test")
    c = as_user(worker)
    body = {"category": "close_contact", "reason": "seen at the market", "home_id": city["unit_a"].pk}
    out_of_scope = _post(c, "/api/orders", {**body, "person": "M-X1"})
    absent = _post(c, "/api/orders", {**body, "person": "M-NOBODY"})
    ja, jb = _same_answer(out_of_scope, absent, ("M-X1", "M-NOBODY"))
    assert out_of_scope.status_code == 400 and ja == jb and ja["field"] == "category"
    # Without a home: the same answer too (give the home), never a 404 that tells the reference exists.
    body.pop("home_id")
    a, b = _post(c, "/api/orders", {**body, "person": "M-X1"}), _post(c, "/api/orders", {**body, "person": "M-NOBODY"})
    ja, jb = _same_answer(a, b, ("M-X1", "M-NOBODY"))
    assert a.status_code == 400 and ja == jb
    elsewhere.refresh_from_db()
    assert elsewhere.status == "active" and PersonOrder.objects.filter(label="M-X1").count() == 1


def test_contact_registration_ignores_orders_out_of_scope(city, worker, as_user):
    """Registering a contact whose reference is under an order in another jurisdiction answers as for a new
    reference: a new order at the worker's address, never the other jurisdiction's order."""
    today = clock.today()
    inf_b = ca.do_record_infection(label="R-PB", home=city["unit_b"], found="community", confirmed_on=today,
                                   actor="test")
    ca.do_register_contact(inf_b, label="R-X1", last_exposure=today - dt.timedelta(days=1), identified_on=today,
                           home=city["unit_b"], actor="test")
    inf_a = ca.do_record_infection(label="R-PA", home=city["unit_a"], found="community", confirmed_on=today,
                                   actor="test")
    c = as_user(worker)
    body = {"category": "close_contact", "last_exposure": (today - dt.timedelta(days=1)).isoformat(),
            "home_id": city["unit_a"].pk}
    known_elsewhere = _post(c, f"/api/infections/{inf_a.pk}/contacts", {**body, "person": "R-X1"})
    new = _post(c, f"/api/infections/{inf_a.pk}/contacts", {**body, "person": "R-NEW"})
    ja, jb = _same_answer(known_elsewhere, new)
    assert known_elsewhere.status_code == 201 and ja == jb
    assert ja["community_id"] == city["community_a"].pk and ja["infection"] == "R-PA"


def test_price_reports_are_scoped(city, worker, outsider, commander, as_user):
    from cordon.supplies import actions as sa

    veg = sa.do_create_item("蔬菜包", kind="vegetables", unit="份", per_person_per_day="0.5", baseline_price="25",
                            price_unit="元/份", actor="test")
    sa.do_report_price(veg, market="白银路市场", price="40", area=city["community_b"], actor="test")
    sa.do_report_price(veg, market="全市批发市场", price="41", actor="test")  # no area: the city's

    def seen(user):
        api = {p["market"] for p in as_user(user).get("/api/supplies/prices").json()}
        page = as_user(user).get("/supplies/").content.decode()
        return api, {m for m in ("白银路市场", "全市批发市场") if m in page}

    assert seen(outsider) == ({"白银路市场"}, {"白银路市场"})
    assert seen(worker) == (set(), set())
    assert seen(commander) == ({"白银路市场", "全市批发市场"}, {"白银路市场", "全市批发市场"})


def test_repeat_call_does_not_show_the_first_ticket_elsewhere(city, worker, commander, as_user):
    from cordon.hotline import actions as ha

    first = ha.do_create_ticket(phone="13909310009", category="supplies", text="no food", area=city["unit_b"],
                                actor="test")
    again = ha.do_create_ticket(phone="13909310009", category="supplies", text="still no food",
                                area=city["unit_a"], actor="test")
    assert again.duplicate_of_id == first.pk
    c = as_user(worker)
    for url in (f"/hotline/tickets/{again.pk}/", "/hotline/?tab=all", f"/api/hotline/tickets/{again.pk}",
                "/api/hotline/tickets?status=all"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert first.number not in r.content.decode(), url
    assert as_user(worker).get(f"/api/hotline/tickets/{again.pk}").json()["duplicate_of"] is None
    assert as_user(commander).get(f"/api/hotline/tickets/{again.pk}").json()["duplicate_of"] == first.number
    assert first.number in as_user(commander).get(f"/hotline/tickets/{again.pk}/").content.decode()


def test_screening_rows_out_of_scope_answer_as_absent(city, outsider, as_user):
    """A registration row for a person living outside the uploader's jurisdiction gets exactly the error of a
    row for an ID number nobody holds (field and reason), also when another field of the row is bad."""
    from cordon.screening import actions

    rnd = actions.do_create_round(name="白银路 round", on=clock.today(), areas=[city["community_b"]], actor="test")
    nobody = ids.make_id_number("620102", dt.date(1970, 1, 5), 77, "M")
    day = clock.today().isoformat()
    rows = [{"id_number": city["resident_a"].id_number, "barcode": "LZT0101", "site": "x",
             "sampled_at": f"{day} 09:00"},
            {"id_number": nobody, "barcode": "LZT0102", "site": "x", "sampled_at": f"{day} 09:00"},
            {"id_number": city["resident_a2"].id_number, "barcode": "LZT0103", "site": "x", "sampled_at": "later"},
            {"id_number": nobody, "barcode": "LZT0104", "site": "x", "sampled_at": "later"}]
    r = _post(as_user(outsider), "/api/screening/samples",
              {"round_id": rnd.pk, "batch_key": "leak-1", "rows": rows})
    assert r.status_code == 200, r.content
    errs = {e["line"]: (e["field"], e["reason"]) for e in r.json()["errors"]}
    assert len(errs) == 4 and errs[1] == errs[2] and errs[3] == errs[4], errs
    assert errs[1][0] == "id_number" and "jurisdiction" in errs[1][1]


def test_screening_batch_key_of_another_uploader_is_not_answered(city, worker, outsider, as_user):
    """The same batch key again gives the caller's own batch back (idempotent); another uploader's key is
    refused without answering that batch (its round, counts, row errors)."""
    from cordon.screening import actions

    rnd = actions.do_create_round(name="五泉 round", on=clock.today(), areas=[city["community_a"]], actor="test")
    rnd_b = actions.do_create_round(name="白银路 round", on=clock.today(), areas=[city["community_b"]], actor="test")
    day = clock.today().isoformat()
    rows = [{"id_number": city["resident_a"].id_number, "barcode": "LZT0201", "site": "x",
             "sampled_at": f"{day} 09:00"}]
    first = _post(as_user(worker), "/api/screening/samples", {"round_id": rnd.pk, "batch_key": "k-A", "rows": rows})
    again = _post(as_user(worker), "/api/screening/samples", {"round_id": rnd.pk, "batch_key": "k-A", "rows": rows})
    assert first.status_code == again.status_code == 200 and again.json()["already_imported"] is True
    other = _post(as_user(outsider), "/api/screening/samples", {"round_id": rnd_b.pk, "batch_key": "k-A", "rows": []})
    assert other.status_code == 400 and other.json()["field"] == "batch_key"
    assert str(rnd.pk) not in other.json()["detail"]


def test_arrival_list_shows_only_an_order_in_scope(city, worker, commander, as_user):
    """An arrival in community A whose order was made at an address in B (by a city-wide user): the worker's
    arrival list shows the arrival without that order."""
    arrival, order = ca.do_register_arrival(label="AR-1", from_level="high", kind="resident",
                                            arrived_on=clock.today(), destination=city["unit_a"], actor="test")
    assert order is not None
    # Re-homed by hand to B (a manual order replaces the first one, linked to the same arrival).
    moved = ca.do_manual_order(label="AR-1", category=order.category, reason="lives in B in fact",
                               home=city["unit_b"], actor="test")
    assert moved.arrival_id == arrival.pk and moved.community_id == city["community_b"].pk

    def order_of(user):
        items = as_user(user).get("/api/arrivals").json()["items"]
        return next(a["order"] for a in items if a["person"] == "AR-1")

    assert order_of(worker) is None or order_of(worker)["id"] != moved.pk
    assert order_of(commander)["id"] == moved.pk
    page = as_user(worker).get("/cases/arrivals/").content.decode()
    assert "AR-1" in page

"""Person rules of POLICY.md through the scenario runner (real actions), exact dates, both packs;
late identification, refusals; and the day-start release, facilities and escalation on the database."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from django.utils import translation

from cordon.scenario import runner
from cordon.scenario.spec import parse

U1 = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
B2 = "城关区/皋兰路街道/五泉社区/五泉小区/2号楼"
CITY = "城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 3}, 2号楼: {units: 2}}}}}"
BASE = f"""
- {{day: 0, type: infection, person: P1, home: {U1}, found: community, visited: [{B2}]}}
- {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
"""


def run(events: str, *, policy="ninth-edition", days=16) -> dict:
    text = f"policy: {policy}\nstart: 2022-11-08\ndays: {days}\ncity:\n  {CITY}\nevents:\n" + \
        textwrap.indent(BASE.strip() + "\n" + textwrap.dedent(events).strip(), "  ") + "\n"
    runner.load_plugins()
    return runner.run(parse(text))


def person(out, day, label):
    return next((p for p in out["days"][day]["people"] if p["person"] == label), None)


def listed_days(out, label):
    return [d["date"] for d in out["days"] if any(p["person"] == label for p in d["people"])]


# ------------------------------------------------------------------------------------ ninth-edition

@pytest.mark.django_db
def test_ninth_close_contact_7_plus_3():
    out = run("- {day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}")
    p = person(out, 1, "C1")
    assert p == {"person": "C1", "category": "close_contact", "status": "centralized",
                 "centralized_until": "2022-11-15", "home_until": "2022-11-18", "free_on": "2022-11-19",
                 "test_days": ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-15", "2022-11-18"]}
    assert person(out, 8, "C1")["status"] == "home"  # 11-16
    assert listed_days(out, "C1")[-1] == "2022-11-18"  # free from 11-19


@pytest.mark.django_db
def test_ninth_late_identification_never_restarts_the_clock():
    out = run("- {day: 3, type: contact, person: C2, of: P1, category: close_contact, last_exposure_day: 0}")
    p = person(out, 3, "C2")
    assert (p["centralized_until"], p["free_on"]) == ("2022-11-15", "2022-11-19")  # 4 centralized days left
    assert p["test_days"] == ["2022-11-11", "2022-11-13", "2022-11-15", "2022-11-18"]


@pytest.mark.django_db
def test_ninth_identified_after_the_order_ended_is_free():
    out = run("- {day: 12, type: contact, person: C9, of: P1, category: close_contact, last_exposure_day: 0}")
    assert listed_days(out, "C9") == []


@pytest.mark.django_db
def test_ninth_contact_of_contact_7_home():
    out = run("""
        - {day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}
        - {day: 2, type: contact, person: D1, of: C1, category: contact_of_contact, last_exposure_day: 1}
    """)
    p = person(out, 2, "D1")
    assert (p["status"], p["centralized_until"], p["home_until"], p["free_on"]) == \
        ("home", None, "2022-11-16", "2022-11-17")
    assert p["test_days"] == ["2022-11-10", "2022-11-13", "2022-11-16"]  # days 1, 4, 7


@pytest.mark.django_db
def test_ninth_inbound_and_arrivals():
    out = run("""
        - {day: 1, type: arrival, person: A1, from_level: high, kind: resident, arrival_day: 1}
        - {day: 1, type: arrival, person: A2, from_level: medium, kind: driver, arrival_day: 0}
        - {day: 1, type: arrival, person: A3, from_level: low, kind: resident, arrival_day: 1}
        - {day: 1, type: order, person: A3, category: close_contact, reason: to be safe}
        - {day: 1, type: arrival, person: S1, from_level: low, kind: student, arrival_day: 1}
        - {day: 1, type: order, person: S1, category: from_medium_area, reason: campus rumour}
    """)
    a1 = person(out, 1, "A1")
    assert (a1["category"], a1["status"], a1["centralized_until"], a1["free_on"]) == \
        ("from_high_area", "centralized", "2022-11-16", "2022-11-17")
    assert a1["test_days"] == ["2022-11-10", "2022-11-11", "2022-11-12", "2022-11-14", "2022-11-16"]
    a2 = person(out, 1, "A2")
    assert (a2["category"], a2["status"], a2["home_until"], a2["free_on"]) == \
        ("from_medium_area", "home", "2022-11-15", "2022-11-16")
    assert person(out, 1, "A3") is None and person(out, 1, "S1") is None  # low-risk arrivals: no quarantine
    refused = {r["event"]: r["rule"] for r in out["days"][1]["refused"]}
    assert refused == {5: "nine-prohibitions-2", 7: "nine-prohibitions-7"}


@pytest.mark.django_db
def test_ninth_spillover_from_high_area():
    out = run(f"- {{day: 2, type: spillover, person: S1, from_area: {U1}, left_day: 1}}")
    p = person(out, 2, "S1")
    assert (p["category"], p["status"], p["centralized_until"], p["free_on"]) == \
        ("from_high_area", "centralized", "2022-11-16", "2022-11-17")


@pytest.mark.django_db
def test_ninth_spillover_from_an_undesignated_area_is_refused():
    out = run(f"- {{day: 2, type: spillover, person: S2, from_area: {B2}, left_day: 1}}")
    assert out["days"][2]["refused"][0]["rule"] == "nine-prohibitions-4"


@pytest.mark.django_db
def test_ninth_manual_orders_need_a_link_and_a_known_category():
    out = run("""
        - {day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}
        - {day: 2, type: order, person: X1, category: close_contact, reason: neighbour said so}
        - {day: 2, type: order, person: C1, category: no_such_category, reason: x}
        - {day: 2, type: order, person: C1, category: contact_of_contact, reason: reclassified}
    """)
    assert {r["event"]: r["rule"] for r in out["days"][2]["refused"]} == \
        {3: "nine-prohibitions-4", 4: "nine-prohibitions-4"}
    p = person(out, 2, "C1")
    assert (p["category"], p["home_until"], p["free_on"]) == ("contact_of_contact", "2022-11-15", "2022-11-16")


@pytest.mark.django_db
def test_ninth_extension_only_with_a_positive_result():
    out = run("""
        - {day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}
        - {day: 3, type: extend, person: C1, days: 2, reason: just in case}
        - {day: 4, type: test, person: C1, result: positive}
        - {day: 4, type: extend, person: C1, days: 2, reason: positive on day 4}
    """)
    assert out["days"][3]["refused"] == [{"event": 3, "rule": "nine-prohibitions-5",
                                          "message": out["days"][3]["refused"][0]["message"]}]
    assert person(out, 3, "C1")["free_on"] == "2022-11-19"
    p = person(out, 4, "C1")
    assert (p["centralized_until"], p["home_until"], p["free_on"]) == ("2022-11-17", "2022-11-20", "2022-11-21")


# ------------------------------------------------------------------------------------ twenty-measures

@pytest.mark.django_db
def test_twenty_close_contact_5_plus_3():
    out = run("- {day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}",
              policy="twenty-measures", days=12)
    p = person(out, 1, "C1")
    assert (p["centralized_until"], p["home_until"], p["free_on"]) == ("2022-11-13", "2022-11-16", "2022-11-17")
    assert p["test_days"] == ["2022-11-09", "2022-11-10", "2022-11-11", "2022-11-13", "2022-11-14", "2022-11-16"]


@pytest.mark.django_db
def test_twenty_no_contacts_of_contacts_and_high_area_is_home():
    out = run(f"""
        - {{day: 1, type: contact, person: C1, of: P1, category: close_contact, last_exposure_day: 0}}
        - {{day: 2, type: contact, person: D1, of: C1, category: contact_of_contact, last_exposure_day: 1}}
        - {{day: 2, type: spillover, person: S1, from_area: {U1}, left_day: 1}}
        - {{day: 2, type: arrival, person: I1, from_level: high, kind: resident, arrival_day: 2}}
    """, policy="twenty-measures", days=12)
    assert out["days"][2]["refused"][0] == {"event": 3, "rule": "nine-prohibitions-4",
                                            "message": out["days"][2]["refused"][0]["message"]}
    s = person(out, 2, "S1")
    assert (s["status"], s["centralized_until"], s["home_until"], s["free_on"]) == \
        ("home", None, "2022-11-16", "2022-11-17")
    assert s["test_days"] == ["2022-11-10", "2022-11-12", "2022-11-14", "2022-11-16"]  # days 1, 3, 5, 7
    assert person(out, 2, "I1")["free_on"] == "2022-11-18"


# ------------------------------------------------------------------------------------ database side

@pytest.fixture
def p1(city, commander):
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    with clock.frozen(dt.datetime(2022, 11, 8, 9, 0, tzinfo=clock.tz())):
        return do_record_infection(label="P1", home=city["unit_a"], found="community",
                                   confirmed_on=dt.date(2022, 11, 8), actor=commander)


@pytest.mark.django_db
def test_release_due_releases_discharges_and_audits(city, commander, p1):
    from cordon.cases import actions as ca
    from cordon.cases.models import PersonOrder
    from cordon.core.models import AuditEntry

    site = ca.do_create_facility(name="皋兰路隔离点", kind="quarantine_site", area=city["street"], capacity=1,
                                 actor=commander)
    c1 = ca.do_register_contact(p1, label="C1", last_exposure=dt.date(2022, 11, 8),
                                identified_on=dt.date(2022, 11, 9), home=city["unit_a"], actor=commander)
    ca.do_place(site, order=c1, on=dt.date(2022, 11, 9), actor=commander)
    c2 = ca.do_register_contact(p1, label="C2", last_exposure=dt.date(2022, 11, 8),
                                identified_on=dt.date(2022, 11, 9), home=city["unit_a"], actor=commander)
    with pytest.raises(ca.ActionError, match="full"), translation.override("en"):
        ca.do_place(site, order=c2, on=dt.date(2022, 11, 9), actor=commander)
    assert ca.do_release_due(dt.date(2022, 11, 18)) == 0
    assert ca.do_release_due(dt.date(2022, 11, 19)) == 2
    c1.refresh_from_db()
    site.refresh_from_db()
    assert c1.status == "released" and c1.released_on == dt.date(2022, 11, 19)
    # the bed was given back when the centralized days ended (11-15), not on the free day
    assert site.occupied == 0 and c1.placements.get().discharged_on == dt.date(2022, 11, 16)
    assert AuditEntry.objects.filter(action="order.release").count() == 2
    assert not PersonOrder.objects.filter(status="active").exists()


@pytest.mark.django_db
def test_bed_given_back_the_day_after_the_centralized_days(city, commander, p1):
    """Ninth edition, close contact: 7 centralized days (to 11-15), 3 home days (to 11-18), free on 11-19. The
    quarantine site's bed is freed on 11-16, audited; a person the pack keeps at home, placed because the home
    is unsuitable, keeps the bed until the free day."""
    from cordon.cases import actions as ca
    from cordon.core.models import AuditEntry

    site = ca.do_create_facility(name="皋兰路隔离点", kind="quarantine_site", area=city["street"], capacity=3,
                                 actor=commander)
    c1 = ca.do_register_contact(p1, label="C1", last_exposure=dt.date(2022, 11, 8),
                                identified_on=dt.date(2022, 11, 9), home=city["unit_a"], actor=commander)
    d1 = ca.do_register_contact(p1, label="D1", category="contact_of_contact", via=c1,
                                last_exposure=dt.date(2022, 11, 8), identified_on=dt.date(2022, 11, 9),
                                home=city["unit_a"], actor=commander)
    assert (c1.centralized_until, c1.home_until, c1.free_on) == \
        (dt.date(2022, 11, 15), dt.date(2022, 11, 18), dt.date(2022, 11, 19))
    assert (d1.centralized_until, d1.free_on) == (None, dt.date(2022, 11, 16))
    ca.do_place(site, order=c1, on=dt.date(2022, 11, 9), actor=commander)
    ca.do_place(site, order=d1, on=dt.date(2022, 11, 9), actor=commander, note="home shared with C1")
    discharges = AuditEntry.objects.filter(action="facility.discharge")
    assert ca.do_release_due(dt.date(2022, 11, 15)) == 0
    site.refresh_from_db()
    assert site.occupied == 2 and not discharges.exists()
    assert ca.do_release_due(dt.date(2022, 11, 16)) == 1  # D1's free day
    c1.refresh_from_db()
    site.refresh_from_db()
    assert c1.status == "active" and c1.placements.get().discharged_on == dt.date(2022, 11, 16)
    assert d1.placements.get().discharged_on == dt.date(2022, 11, 16)  # released, not stepped down
    assert site.occupied == 0
    e = discharges.get()
    assert (e.object_id, e.after, e.reason, e.actor_name) == \
        (str(site.pk), {"placement": c1.placements.get().pk, "person": "C1", "on": "2022-11-16"},
         ca.STEP_DOWN_REASON, "system")
    assert e.street_id == city["street"].pk
    assert ca.do_release_due(dt.date(2022, 11, 17)) == 0 and discharges.count() == 1
    assert ca.do_release_due(dt.date(2022, 11, 19)) == 1
    c1.refresh_from_db()
    assert c1.status == "released" and c1.placements.get().discharged_on == dt.date(2022, 11, 16)
    site.refresh_from_db()
    assert site.occupied == 0 and discharges.count() == 1


@pytest.mark.django_db
def test_response_tasks_deadlines_and_escalation(city, commander, p1):
    from cordon.cases import actions as ca
    from cordon.cases import queries as cq
    from cordon.core import clock

    tasks = {t.step: t for t in p1.tasks.all()}
    assert {"transfer", "investigation", "contact_tracing", "designation", "disinfection"} <= set(tasks)
    assert tasks["transfer"].deadline == dt.datetime(2022, 11, 8, 11, 0, tzinfo=clock.tz())  # 2 h
    assert tasks["transfer"].checklist and tasks["transfer"].rule.startswith("ninth-edition")
    with clock.frozen(dt.datetime(2022, 11, 8, 10, 30, tzinfo=clock.tz())):
        ca.do_complete_task(tasks["transfer"], actor=commander, note="to 兰州市肺科医院")
    assert ca.do_escalate_overdue(dt.datetime(2022, 11, 8, 12, 0, tzinfo=clock.tz())) == 0
    open_steps = p1.tasks.filter(status="open").count()
    assert ca.do_escalate_overdue(dt.datetime(2022, 11, 9, 9, 30, tzinfo=clock.tz())) == open_steps  # 24 h tasks
    t = p1.tasks.get(step="investigation")
    assert t.escalation == 1 and t.notes.last().text.startswith("overdue")
    assert ca.do_escalate_overdue(dt.datetime(2022, 11, 10, 9, 30, tzinfo=clock.tz())) == open_steps
    assert p1.tasks.get(step="investigation").escalation == 2
    k = cq.infection_kpis(p1)
    assert k["to_transfer_h"] == 1.5


@pytest.mark.django_db
def test_reclassification_is_not_a_new_infection(city, commander, p1):
    from cordon.cases import actions as ca
    from cordon.cases.models import Infection

    ca.do_reclassify_infection(p1, "asymptomatic", actor=commander, reason="CT normal")
    ca.do_reclassify_infection(p1, "confirmed", actor=commander, reason="symptoms")
    assert Infection.objects.count() == 1
    with pytest.raises(ca.ActionError):
        ca.do_record_infection(label="P1", home=city["unit_a"], found="community",
                               confirmed_on=dt.date(2022, 11, 9), actor=commander)


@pytest.mark.django_db
def test_residents_not_yet_infections(city, commander, p1):
    """Whom the demos may name as a new infection or contact: residents of the unit not yet an infection (nor,
    when asked, under an order)."""
    from cordon.cases import actions as ca
    from cordon.cases.queries import residents_not_yet_infections

    ra, ra2 = city["resident_a"], city["resident_a2"]
    unit = city["unit_a"].pk
    assert list(residents_not_yet_infections(unit).order_by("id")) == [ra, ra2]
    with clock_at(dt.date(2022, 11, 9)):
        ca.do_record_infection(label="P2", home=city["unit_a"], found="community", confirmed_on=dt.date(2022, 11, 9),
                               resident=ra, actor=commander)
        ca.do_register_contact(p1, label="C9", last_exposure=dt.date(2022, 11, 8), home=city["unit_a"],
                               id_number=ra2.id_number, actor=commander)
    assert list(residents_not_yet_infections(unit).order_by("id")) == [ra2]
    assert list(residents_not_yet_infections(unit, nor_under_orders=True)) == []
    assert list(residents_not_yet_infections(city["unit_b"].pk)) == [city["resident_b"]]


def clock_at(day):
    from cordon.core import clock

    return clock.frozen(dt.datetime.combine(day, dt.time(9, 0), tzinfo=clock.tz()))

"""Emergency medical care: triage order and deadlines (frozen clock), dispatch (sealed never blocks,
designated hospital by status, closed-loop vehicles), close rules (#6 refusal, cancel needs confirmation),
KPIs, proactive tasks for special groups inside seals, the scenario events, pages and query budgets."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from cordon.care import actions as ca
from cordon.care import queries as cq
from cordon.care import triage
from cordon.care.models import CareRequest, ProactiveTask
from cordon.core import clock
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2022, 11, 8, 8, 0)


def at(h, m=0, day=0):
    return clock.frozen(dt.datetime(2022, 11, 8 + day, h, m, tzinfo=clock.tz()))


@pytest.fixture
def res(city):
    return {"hospital": ca.do_add_hospital("市一院", actor="test"), "vehicle": ca.do_add_vehicle("甘A1", actor="test"),
            "vehicle2": ca.do_add_vehicle("甘A2", actor="test"),
            "open_van": ca.do_add_vehicle("甘A3", closed_loop=False, actor="test")}


def req(city, need, *, h=8, m=0, urgency="", **kw):
    with at(h, m):
        return ca.do_create_request(person=kw.pop("person", "某人"), area=kw.pop("area", city["unit_a"]), need=need,
                                    urgency=urgency, actor="test", **kw)


def test_classify_maps_needs_and_urgency():
    assert [p.key for p in triage.ordered()] == ["critical", "labour", "infant", "treatment", "elderly", "other"]
    assert triage.classify("dialysis").key == "treatment"
    assert triage.classify("透析").key == "treatment"
    assert triage.classify("labor").key == "labour"
    assert triage.classify("baby with fever").key == "infant"
    assert triage.classify("toothache").key == "other"
    assert triage.classify("elderly", "critical").key == "critical"


def test_board_order_priority_then_deadline(city):
    other = req(city, "toothache", h=7)
    elderly = req(city, "elderly", h=8)
    labour_late = req(city, "labour", h=9)
    labour_early = req(city, "labour", h=8, m=30)
    infant = req(city, "infant", h=9)
    crit = req(city, "chest pain", h=9, m=30, urgency="critical")
    dialysis = req(city, "dialysis", h=6)
    order = [r.ref for r in cq.board(CareRequest.objects.all())]
    assert order == [crit.ref, labour_early.ref, labour_late.ref, infant.ref, dialysis.ref, elderly.ref, other.ref]


def test_deadline_from_table_and_overdue(city, commander, as_user):
    r = req(city, "critical", h=8)
    assert r.status == "triaged" and r.triaged_at == r.received_at
    assert r.deadline == dt.datetime(2022, 11, 8, 8, 15, tzinfo=clock.tz())
    e = req(city, "elderly", h=8)
    assert e.deadline - e.received_at == dt.timedelta(minutes=60)
    with at(8, 10):
        items = {x["ref"]: x for x in as_user(commander).get("/api/care/requests").json()["items"]}
        assert not items[r.ref]["overdue"]
    with at(8, 16):
        items = {x["ref"]: x for x in as_user(commander).get("/api/care/requests").json()["items"]}
        assert items[r.ref]["overdue"] and not items[e.ref]["overdue"]


def test_sealed_area_never_blocks_dispatch(city, res):
    from cordon.zones.actions import do_designate

    with at(7):
        do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    r = req(city, "elderly")
    assert r.sealed
    with at(8, 5):
        ca.do_dispatch_request(r, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")
    r.refresh_from_db()
    assert r.status == "dispatched" and r.dispatched_at == dt.datetime(2022, 11, 8, 8, 5, tzinfo=clock.tz())
    row = AuditEntry.objects.get(action="care_request.dispatch")
    assert row.rule.startswith("nine-prohibitions-6")


def test_designated_hospital_for_infected_and_quarantined(city, res):
    from cordon.cases.actions import do_create_facility, do_record_infection

    with at(7):
        inf = do_record_infection(label="P1", home=city["unit_a"], found="community",
                                  confirmed_on=dt.date(2022, 11, 8), resident=city["resident_a2"], actor="test")
    fac = do_create_facility(name="定点医院", kind="designated_hospital", area=city["district"], capacity=5,
                             actor="test")
    r = req(city, "critical", resident=city["resident_a2"])
    assert r.needs_designated
    with pytest.raises(ActionError) as e:
        ca.do_dispatch_request(r, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")
    assert e.value.rule == "care-designated-hospital"
    ca.do_dispatch_request(r, vehicle=res["vehicle"], facility=fac, actor="test")
    assert r.hospital_name == "定点医院"
    free = req(city, "elderly", resident=city["resident_a"])
    assert not free.needs_designated
    assert inf.pk


def test_vehicle_must_be_closed_loop_and_free(city, res):
    a, b = req(city, "critical"), req(city, "elderly")
    with pytest.raises(ActionError):
        ca.do_dispatch_request(a, vehicle=res["open_van"], hospital=res["hospital"], actor="test")
    ca.do_dispatch_request(a, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")
    with pytest.raises(ActionError, match="on request"), translation.override("en"):
        ca.do_dispatch_request(b, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")


def test_full_path_with_timestamps_and_kpis(city, res):
    r = req(city, "labour", h=8)
    with at(8, 12):
        ca.do_dispatch_request(r, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")
    with at(8, 30):
        ca.do_advance_request(r, to="arrived", actor="test")
    with pytest.raises(ActionError):
        ca.do_advance_request(r, to="arrived", actor="test")
    with at(9, 0):
        ca.do_advance_request(r, to="at_hospital", actor="test")
    with at(10, 0):
        ca.do_close_request(r, outcome="done", actor="test")
    assert [e.status for e in r.events.all()] == ["received", "triaged", "dispatched", "arrived", "at_hospital",
                                                  "closed"]
    late = req(city, "labour", h=9)
    with at(9, 45):
        ca.do_dispatch_request(late, vehicle=res["vehicle2"], hospital=res["hospital"], actor="test")
    with at(11):
        k = {x["priority"]: x for x in cq.kpis(CareRequest.objects.all())}
    assert k["labour"]["to_dispatch"] == {"mean": 28.5, "max": 45.0, "count": 2}
    assert k["labour"]["to_arrival"] == {"mean": 30.0, "max": 30.0, "count": 1}
    assert k["labour"]["dispatched_late"] == 1


def test_refused_close_is_blocked_nine_prohibitions_6(city, commander, as_user):
    r = req(city, "elderly")
    with pytest.raises(ActionError) as e:
        ca.do_close_request(r, outcome="refused", reason="sealed", actor="test")
    assert e.value.rule == "nine-prohibitions-6"
    r.refresh_from_db()
    assert r.status == "triaged"
    resp = as_user(commander).post(f"/api/care/requests/{r.pk}/close", data=json.dumps({"outcome": "refused"}),
                                   content_type="application/json")
    assert resp.status_code == 400 and resp.json()["rule"] == "nine-prohibitions-6"


def test_cancel_needs_requester_confirmation(city):
    r = req(city, "elderly")
    with pytest.raises(ActionError) as e:
        ca.do_close_request(r, outcome="cancelled", reason="no longer needed", actor="test")
    assert e.value.rule == "care-cancel-needs-confirmation"
    ca.do_close_request(r, outcome="cancelled", reason="family drove", confirmed_by="女儿",
                        confirmation="回访电话 14:05", actor="test")
    r.refresh_from_db()
    assert (r.status, r.outcome, r.cancel_confirmed_by, r.cancel_confirmation) == (
        "closed", "cancelled", "女儿", "回访电话 14:05")
    assert AuditEntry.objects.get(action="care_request.close").after["confirmed_by"] == "女儿"


def test_closing_notes_read_in_the_page_language(city, commander, as_user):
    """The request's timeline: the notes Cordon writes on closing (the outcome, who confirmed a cancellation) in
    the reader's language; the reason and the name as written."""
    r = req(city, "elderly")
    ca.do_close_request(r, outcome="cancelled", reason="家属自行驾车送医", confirmed_by="患者女儿", actor="test")
    c = as_user(commander)
    c.cookies["django_language"] = "zh-hans"
    body = c.get(f"/care/requests/{r.pk}/").content.decode()
    assert "求助人取消: 家属自行驾车送医（确认人：患者女儿）" in body and "confirmed by" not in body
    assert "cancelled:" not in body
    c.cookies["django_language"] = "en"
    body = c.get(f"/care/requests/{r.pk}/").content.decode()
    assert "Cancelled by the requester: 家属自行驾车送医 (confirmed by 患者女儿)" in body


def test_done_before_arrival_needs_reason(city):
    r = req(city, "other")
    with pytest.raises(ActionError):
        ca.do_close_request(r, outcome="done", actor="test")
    ca.do_close_request(r, outcome="done", reason="doctor advised by phone", actor="test")


# ------------------------------------------------------------------------------------ proactive tasks

def test_proactive_tasks_dialysis_days_and_due_date_inside_seal(city):
    from cordon.core.jobs import day_start
    from cordon.zones.actions import do_designate

    # 8 Nov 2022 is a Tuesday; the high-risk unit's expected change is 7 clean days + round later.
    ca.do_record_needs(city["resident_a"], dialysis_weekdays=[0, 2, 4], actor="test")
    ca.do_record_needs(city["resident_a2"], due_date=dt.date(2022, 11, 11), actor="test")
    with at(7):
        d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
        start, end = cq.seal_window(d, dt.date(2022, 11, 8))
        out = ca.do_sync_proactive_tasks(dt.date(2022, 11, 8), actor="test")
    tasks = ProactiveTask.objects.order_by("due_on", "kind")
    dialysis = [t.due_on for t in tasks if t.kind == "dialysis"]
    expected = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)
                if (start + dt.timedelta(days=i)).weekday() in (0, 2, 4)]
    assert dialysis == expected and dialysis[0] == dt.date(2022, 11, 9)
    assert [t.due_on for t in tasks if t.kind == "due"] == [dt.date(2022, 11, 11)]
    assert any(t.kind == "check" and t.resident_id == city["resident_a"].pk for t in tasks)  # aged 80+, alone
    assert not ProactiveTask.objects.filter(resident=city["resident_b"]).exists()  # not sealed
    n = ProactiveTask.objects.count()
    assert out["created"] == n
    with at(0, 1, day=1):
        day_start(dt.date(2022, 11, 9))
        day_start(dt.date(2022, 11, 9))
    assert ProactiveTask.objects.filter(due_on__lt=dt.date(2022, 11, 9)).count() + \
        ProactiveTask.objects.filter(due_on__gte=dt.date(2022, 11, 9)).count() == ProactiveTask.objects.count()
    assert ProactiveTask.objects.values("designation", "resident", "kind", "due_on").distinct().count() == \
        ProactiveTask.objects.count()


def test_special_page_lists_tasks_for_worker_only(city, worker, outsider, as_user):
    from cordon.zones.actions import do_designate

    ca.do_record_needs(city["resident_a"], oxygen=True, actor="test")
    d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    ca.do_sync_designation_tasks(d, actor="test")
    body = as_user(worker).get("/care/special/").content.decode()
    assert city["unit_a"].path in body and "王**" in body
    body = as_user(outsider).get("/care/special/").content.decode()
    assert city["unit_a"].path not in body


# ------------------------------------------------------------------------------------ scenario, pages

SCENARIO = """
policy: ninth-edition
start: 2022-11-08
days: 3
city:
  城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 2}}}}}
events:
  - {day: 0, type: infection, person: P1, home: 城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元, found: community}
  - {day: 0, type: care_request, id: R1, person: P1, need: elderly}
  - {day: 0, type: care_request, id: R2, person: 王奶奶, need: dialysis}
  - {day: 1, type: care_request, id: R3, person: 小宝, need: critical}
  - {day: 1, type: care_close, id: R1, outcome: refused, reason: sealed}
  - {day: 2, type: care_close, id: R2, outcome: done, reason: treated}
  - {day: 2, type: care_close, id: R3, outcome: cancelled, reason: family drove}
"""


def test_scenario_care_events(db):
    from cordon.scenario import runner
    from cordon.scenario.spec import parse

    runner.load_plugins()
    out = runner.run(parse(SCENARIO))
    d0, d1, d2 = out["days"]
    assert d0["care"] == [{"id": "R2", "priority": "treatment", "status": "triaged"},
                          {"id": "R1", "priority": "elderly", "status": "triaged"}]
    assert [c["id"] for c in d1["care"]] == ["R3", "R2", "R1"]
    assert d1["refused"] == [{"event": 4, "rule": "nine-prohibitions-6", "message": d1["refused"][0]["message"]}]
    assert d2["care"] == [{"id": "R1", "priority": "elderly", "status": "triaged"}]
    assert CareRequest.objects.get(ref="R1").needs_designated


def test_board_page_and_query_budget(city, commander, worker, outsider, as_user, res,
                                     django_assert_max_num_queries):
    for need in ("elderly", "critical", "infant", "labour"):
        req(city, need)
    b = req(city, "other", area=city["unit_b"])
    ca.do_dispatch_request(b, vehicle=res["vehicle"], hospital=res["hospital"], actor="test")
    c = as_user(commander)
    with django_assert_max_num_queries(12):
        body = c.get("/care/").content.decode()
    assert body.index("pr-critical") < body.index("pr-labour") < body.index("pr-infant") < body.index("pr-elderly")
    assert "style=" not in body
    body = as_user(outsider).get("/care/").content.decode()
    assert b.ref in body and CareRequest.objects.filter(need="critical").first().ref not in body
    with django_assert_max_num_queries(8):
        c.get("/api/care/requests")


def test_request_page_actions(city, worker, as_user, res):
    r = req(city, "elderly")
    c = as_user(worker)
    assert c.get(f"/care/requests/{r.pk}/").status_code == 200
    resp = c.post(f"/care/requests/{r.pk}/dispatch/", {"dispatch-vehicle": res["vehicle"].pk,
                                                       "dispatch-destination": f"h{res['hospital'].pk}"})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == "dispatched"
    resp = c.post(f"/care/requests/{r.pk}/close/", {"close-outcome": "cancelled", "close-reason": "x"})
    assert resp.status_code == 400 and "confirmation" in resp.content.decode()


def test_new_request_page(city, worker, outsider, as_user):
    data = {"person": "赵敏", "area": city["unit_a"].path, "need": "infant", "source": "community"}
    resp = as_user(worker).post("/care/new/", data)
    assert resp.status_code == 302
    assert CareRequest.objects.get().priority_key == "infant"
    resp = as_user(outsider).post("/care/new/", data)
    assert resp.status_code == 400 and CareRequest.objects.count() == 1


def test_new_request_page_keeps_and_audits_the_need_text(city, worker, as_user):
    from cordon.core.models import AuditEntry

    data = {"person": "赵敏", "area": city["unit_a"].path, "need": "infant", "source": "community",
            "need_text": "高烧不退"}
    assert as_user(worker).post("/care/new/", data).status_code == 302
    r = CareRequest.objects.get()
    assert r.need_text == "高烧不退"
    row = AuditEntry.objects.get(action="care_request.create")
    assert row.after["need_text"] == "高烧不退"


def test_dispatcher_role_can_dispatch_but_not_edit_residents(city, res, as_user):
    from cordon.core.actions import do_create_user

    disp, _ = do_create_user("disp", "test-pass-2022", role="medical_dispatcher", area=None)
    r = req(city, "elderly")
    resp = as_user(disp).post(f"/api/care/requests/{r.pk}/dispatch", data=json.dumps(
        {"vehicle_id": res["vehicle"].pk, "hospital_id": res["hospital"].pk}), content_type="application/json")
    assert resp.status_code == 200
    resp = as_user(disp).put(f"/api/care/needs/{city['resident_a'].pk}", data=json.dumps({"oxygen": True}),
                             content_type="application/json")
    assert resp.status_code == 403

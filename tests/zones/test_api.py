"""Risk-area API: designate, detail (events, members, people inside), actions, proposals confirmed with
one call, flags; scoping (404 out of scope, 403 read-only), errors with their field, query budgets, KPIs."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.core import clock
from cordon.core.models import AuditEntry
from cordon.core import actions as core_actions
from cordon.zones import actions as za
from cordon.zones import kpi
from cordon.zones.models import Designation, Proposal, ProposalStatus, Status
from tests.zones._zfixtures import designate, designation_a, designation_b, infection_a, units  # noqa: F401

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_designate_through_api(city, worker, infection_a, as_user):
    c = as_user(worker)
    r = post(c, "/api/designations", {"area_id": city["unit_a"].pk, "level": "high", "reason": "P1 lives here",
                                       "infections": ["P1"]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["area"] == city["unit_a"].path and body["level"] == "high" and body["status"] == "active"
    assert body["infections"] == ["P1"] and body["next"]["level"] == "medium"
    assert body["kpi"]["hours_to_designate"] is not None and body["kpi"]["lift_delay_days"] is None
    assert AuditEntry.objects.filter(action="designation.create", actor_name="worker_a").count() == 1
    # The open proposal for the same area was answered by the designation.
    assert Proposal.objects.get().status == ProposalStatus.CONFIRMED


def test_designate_errors_carry_the_field(city, worker, infection_a, as_user):
    c = as_user(worker)
    r = post(c, "/api/designations", {"area_id": city["unit_a"].pk, "level": "high", "reason": " "})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = post(c, "/api/designations", {"area_id": city["unit_a"].pk, "level": "low", "reason": "x"})
    assert r.status_code == 400 and r.json()["field"] == "level"
    r = post(c, "/api/designations", {"area_id": city["unit_a"].pk, "level": "high", "reason": "x",
                                       "infections": ["NOPE"]})
    assert r.status_code == 400 and r.json()["field"] == "infections"
    assert not Designation.objects.exists()


def test_designate_out_of_scope_is_404_and_read_only_403(city, outsider, auditor, as_user):
    body = {"area_id": city["unit_a"].pk, "level": "high", "reason": "x"}
    assert post(as_user(outsider), "/api/designations", body).status_code == 404
    assert post(as_user(auditor), "/api/designations", body).status_code == 403
    assert not Designation.objects.exists()


def test_detail_has_history_members_and_people_inside(city, worker, designation_a, as_user):
    r = as_user(worker).get(f"/api/designations/{designation_a.pk}")
    assert r.status_code == 200
    body = r.json()
    assert [e["kind"] for e in body["events"]] == ["designate"]
    assert [m["area"] for m in body["members"]] == [city["unit_a"].path]
    # 王秀英 (born 1938, lives alone) is in a special group; 李建国 is not.
    assert (body["residents_inside"], body["special_residents_inside"]) == (2, 1)
    assert body["infections"] == ["P1"]
    assert body["flags"] == []


def test_people_inside_counts_each_resident_once(city, worker, designation_a, units, as_user):
    from cordon.places.models import Area

    building = Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区/1号楼")
    za.do_adjust_extent(designation_a, add=[building], reason="whole building", actor="test")
    body = as_user(worker).get(f"/api/designations/{designation_a.pk}").json()
    assert len(body["members"]) == 2 and body["residents_inside"] == 2


def test_list_filters_and_scope(city, worker, outsider, commander, designation_a, designation_b, as_user):
    items = as_user(worker).get("/api/designations").json()["items"]
    assert [d["id"] for d in items] == [designation_a.pk]
    items = as_user(outsider).get("/api/designations").json()["items"]
    assert [d["id"] for d in items] == [designation_b.pk]
    c = as_user(commander)
    assert len(c.get("/api/designations").json()["items"]) == 2
    assert [d["id"] for d in c.get("/api/designations", {"q": "白银"}).json()["items"]] == [designation_b.pk]
    assert [d["id"] for d in c.get("/api/designations", {"area": city["community_a"].pk}).json()["items"]] == [
        designation_a.pk]
    assert c.get("/api/designations", {"status": "closed"}).json()["items"] == []
    assert len(c.get("/api/designations", {"level": "high"}).json()["items"]) == 2
    assert as_user(outsider).get("/api/designations", {"area": city["community_a"].pk}).status_code == 404
    assert as_user(outsider).get(f"/api/designations/{designation_a.pk}").status_code == 404


def test_confirm_proposal_with_one_call(city, worker, infection_a, as_user):
    c = as_user(worker)
    props = c.get("/api/proposals").json()["items"]
    assert [(p["area"], p["level"], p["because"]) for p in props] == [(city["unit_a"].path, "high", ["P1"])]
    r = post(c, f"/api/proposals/{props[0]['id']}/confirm", {})
    assert r.status_code == 200, r.content
    d = Designation.objects.get()
    assert r.json()["id"] == d.pk and d.level == "high" and d.area_id == city["unit_a"].pk
    assert c.get("/api/proposals").json()["items"] == []
    assert c.get("/api/proposals", {"status": "confirmed"}).json()["items"][0]["designation_id"] == d.pk
    # Confirming again is refused with a reason.
    r = post(c, f"/api/proposals/{props[0]['id']}/confirm", {})
    assert r.status_code == 409 and r.json()["field"] == "proposal"


def test_dismiss_needs_reason(city, worker, infection_a, as_user):
    c = as_user(worker)
    p = Proposal.objects.get()
    r = post(c, f"/api/proposals/{p.pk}/dismiss", {"reason": ""})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = post(c, f"/api/proposals/{p.pk}/dismiss", {"reason": "lives elsewhere since May"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"


def test_keep_lift_reseal_round_resume(city, worker, designation_a, as_user):
    c = as_user(worker)
    base = f"/api/designations/{designation_a.pk}"
    r = post(c, base + "/keep", {"reason": ""})
    assert r.status_code == 400 and r.json() == {"detail": r.json()["detail"], "field": "reason",
                                                  "rule": "nine-prohibitions-3"}
    assert post(c, base + "/round", {"result": "maybe"}).status_code == 400
    assert post(c, base + "/round", {"result": "negative"}).status_code == 200
    r = post(c, base + "/keep", {"reason": "second round pending review"})
    assert r.status_code == 200 and r.json()["kept"] is True
    r = post(c, base + "/resume", {})
    assert r.status_code == 200 and r.json()["kept"] is False
    r = post(c, base + "/lift", {"reason": "assessment: no spread"})
    assert r.status_code == 200 and r.json()["status"] == "observation" and r.json()["level"] == "low"
    assert r.json()["kpi"]["lift_delay_days"] == 0
    assert post(c, base + "/lift", {"reason": "again"}).status_code == 409  # already lifted: a conflict with its state
    r = post(c, base + "/reseal", {"reason": "new case", "level": "high"})
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["level"] == "high"
    kinds = [e["kind"] for e in c.get(base).json()["events"]]
    assert kinds[:2] == ["designate", "round"] and "lift" in kinds and kinds[-1] in ("reseal", "change")


def test_adjust_extent(city, worker, designation_a, units, as_user):
    c = as_user(worker)
    base = f"/api/designations/{designation_a.pk}/adjust"
    r = post(c, base, {"add": [units["a2"].pk], "reason": "same stairwell"})
    assert r.status_code == 200
    members = c.get(f"/api/designations/{designation_a.pk}").json()["members"]
    assert {m["area"] for m in members} == {city["unit_a"].path, units["a2"].path}
    # A unit of another community is out of scope for this worker.
    assert post(c, base, {"add": [city["unit_b"].pk], "reason": "x"}).status_code == 404
    r = post(c, base, {"remove": [units["a2"].pk], "reason": "separate entrance"})
    assert r.status_code == 200
    assert post(c, base, {"reason": "nothing"}).json()["field"] == "add"
    r = post(c, base, {"remove": [city["unit_a"].pk], "reason": "x"})
    assert r.status_code == 400 and r.json()["field"] == "remove"


def test_auditor_reads_but_cannot_write(city, auditor, designation_a, as_user):
    c = as_user(auditor)
    assert c.get(f"/api/designations/{designation_a.pk}").status_code == 200
    for action, body in (("lift", {"reason": "x"}), ("keep", {"reason": "x"}), ("round", {}),
                         ("resume", {}), ("adjust", {"add": [city["unit_a"].pk], "reason": "x"})):
        assert post(c, f"/api/designations/{designation_a.pk}/{action}", body).status_code == 403, action
    assert Designation.objects.get().status == Status.ACTIVE


def test_flags_listed_and_scoped(city, worker, outsider, as_user):
    d = designate(city["unit_a"], reason="no linked case")  # nine prohibitions #1: flagged
    items = as_user(worker).get("/api/flags").json()["items"]
    assert [(f["rule"], f["designation_id"]) for f in items] == [("nine-prohibitions-1", d.pk)]
    assert as_user(outsider).get("/api/flags").json()["items"] == []
    assert as_user(worker).get("/api/flags", {"rule": "nine-prohibitions-3"}).json()["items"] == []


def test_list_query_budget(city, commander, units, as_user, django_assert_max_num_queries):
    from cordon.cases.actions import do_record_infection

    for i, unit in enumerate([city["unit_a"], units["a2"], units["a3"], city["unit_b"]]):
        inf = do_record_infection(label=f"Q{i}", home=unit, found="community", confirmed_on=clock.today(),
                                  actor="test")
        designate(unit, reason=f"Q{i} lives here", infections=[inf])
    c = as_user(commander)
    with django_assert_max_num_queries(6):
        assert len(c.get("/api/designations").json()["items"]) == 4
    d = Designation.objects.first()
    with django_assert_max_num_queries(12):
        assert c.get(f"/api/designations/{d.pk}").status_code == 200
    with django_assert_max_num_queries(5):
        c.get("/api/proposals")
    with django_assert_max_num_queries(5):
        c.get("/api/flags")


# ------------------------------------------------------------------------------------------ KPIs

TZ = None


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=clock.tz())


def test_kpi_arithmetic_pure():
    d0 = dt.date(2022, 11, 8)
    assert kpi.hours_to_designate(at(d0, 6), at(d0, 16)) == 10.0
    assert kpi.hours_to_designate(at(d0, 6), at(d0 + dt.timedelta(days=1), 7)) == 25.0
    assert kpi.hours_to_designate(None, at(d0, 6)) is None
    assert kpi.lift_delay_days(None, d0) == 0          # automatic (or early) lift: on time
    assert kpi.lift_delay_days(d0, d0 + dt.timedelta(days=3)) == 3
    assert kpi.lift_delay_days(d0, None) is None       # not lifted
    assert kpi.overdue_days(d0, None, d0 + dt.timedelta(days=2)) == 2
    rows = [(at(d0, 0), at(d0, 10), None, None, "active"),
            (at(d0, 0), at(d0, 30 - 24) + dt.timedelta(days=1), None, d0, "observation"),
            (None, at(d0, 9), d0, d0 + dt.timedelta(days=2), "closed"),
            (at(d0, 0), at(d0, 2), None, d0, "observation")]
    s = kpi.summarize(rows)
    assert s["designate_hours"] == {"count": 3, "median": 10.0, "max": 30.0, "over_goal": 1, "goal": 24}
    assert s["lift_delay_days"] == {"count": 3, "median": 0, "max": 2, "over_goal": 1, "goal": 0}


def test_kpi_from_reported_at_and_confirmation_day(city, commander, units):
    from cordon.cases.actions import do_record_infection

    d0 = dt.date(2022, 11, 8)
    with clock.frozen(at(d0, 20)):
        reported = do_record_infection(label="R1", home=city["unit_a"], found="community", confirmed_on=d0,
                                       reported_at=at(d0, 9), actor=commander)
        day_only = do_record_infection(label="R2", home=units["a2"], found="community", confirmed_on=d0,
                                       actor=commander)
        type(day_only).objects.filter(pk=day_only.pk).update(reported_at=None)  # only the day is known
        day_only.reported_at = None
        d1 = designate(city["unit_a"], infections=[reported], actor=commander, on=d0)
        d2 = designate(units["a2"], infections=[day_only], actor=commander, on=d0)
    assert kpi.of(d1, d0).hours_to_designate == 11.0   # reported 09:00, designated 20:00
    assert kpi.of(d2, d0).hours_to_designate == 20.0   # confirmed that day: from 00:00 city time
    s = kpi.summary(Designation.objects.all())
    assert s["designate_hours"]["median"] == 15.5 and s["designate_hours"]["over_goal"] == 0


def test_kpi_lift_delay_after_a_keep(city, commander):
    """Ninth edition high, designated D0, negative round on day 7, medium due D0+8; kept from day 7, so
    D0+8 is the eligibility date; lifted by hand on D0+12: four days late."""
    d0 = dt.date(2022, 11, 8)
    with clock.frozen(at(d0, 10)):
        d = designate(city["unit_a"], reason="exposure", actor=commander, on=d0)
    day = lambda n: d0 + dt.timedelta(days=n)  # noqa: E731
    with clock.frozen(at(day(7), 10)):
        za.do_record_round(d, on=day(7), result="negative", actor=commander)
        za.do_keep(d, on=day(7), reason="waiting for the district's review", actor=commander)
    with clock.frozen(at(day(10), 1)):
        za.do_refresh(d, day(10))
    d.refresh_from_db()
    assert d.eligible_on == day(8) and d.kept
    assert kpi.of(d, day(10)).overdue_days == 2
    with clock.frozen(at(day(12), 9)):
        za.do_lift(d, on=day(12), reason="review done", actor=commander)
    d.refresh_from_db()
    assert d.lifted_on == day(12)
    k = kpi.of(d, day(12))
    assert k.lift_delay_days == 4 and k.lift_over_goal and k.overdue_days is None
    assert kpi.summary(Designation.objects.all())["lift_delay_days"]["max"] == 4


def test_kpi_automatic_lift_is_on_time(city, commander):
    """Twenty measures: high -> lifted after 5 clean days and a negative round on day 5: on the due date."""
    from cordon.core.models import PackSetting  # noqa: F401

    d0 = dt.date(2022, 11, 21)
    core_actions.do_set_pack("twenty-measures", effective_from=d0, actor=commander)
    with clock.frozen(at(d0, 10)):
        d = designate(city["unit_a"], reason="exposure", actor=commander, on=d0)
    with clock.frozen(at(d0 + dt.timedelta(days=5), 10)):
        za.do_record_round(d, on=d0 + dt.timedelta(days=5), result="negative", actor=commander)
    with clock.frozen(at(d0 + dt.timedelta(days=6), 0)):
        za.do_tick(d0 + dt.timedelta(days=6))
    d.refresh_from_db()
    assert d.status == Status.OBSERVATION and d.lifted_on == d0 + dt.timedelta(days=6)
    assert kpi.of(d).lift_delay_days == 0

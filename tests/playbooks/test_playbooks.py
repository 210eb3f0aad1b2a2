"""Playbooks (工作指引): the guidance pages as every kind of account in both languages, and a playbook run on a
response task: checking a step is audited with who and when, refused twice or for an unknown step, scoped."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.cases import actions as ca
from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.playbooks import queries
from cordon.playbooks.models import PlaybookRun, StepCheck
from tests.cases._cfixtures import cases  # noqa: F401
from tests.conftest import _user

pytestmark = pytest.mark.django_db


def lang(client, code):
    client.cookies["django_language"] = code
    return client


@pytest.mark.parametrize("role", ["commander", "community_worker", "hotline_operator", "logistics_officer",
                                  "checkpoint_officer", "employer_contact", "auditor", "keyplace_manager"])
def test_library_and_page_for_every_signed_in_role(city, as_user, role):
    user = _user(f"u_{role}", role, None if role in ("commander", "auditor") else city["community_a"])
    body = lang(as_user(user), "zh-hans").get("/playbooks/").content.decode()
    assert "楼栋单元封控" in body and 'href="/playbooks/seal_unit/"' in body and "转运" in body
    page = lang(as_user(user), "en").get("/playbooks/seal_unit/").content.decode()
    assert "sealing a building unit" in page and 'id="step-post_notice"' in page
    assert "post the sealing notice at the unit door" in page and "在单元门口张贴封控告示" in page  # both texts
    assert page.count('type="checkbox"') == 6 and "unverified" in page
    zh = lang(as_user(user), "zh-hans").get("/playbooks/seal_unit/").content.decode()
    assert "逐户告知足不出户要求及上门服务安排" in zh and "未核实" in zh


def test_audience_filter_and_unknown_playbook(city, worker, as_user):
    c = lang(as_user(worker), "en")
    body = c.get("/playbooks/?audience=hotline").content.decode()
    assert "a call for medical help" in body and "sealing a building unit" not in body
    assert "sealing a building unit" in c.get("/playbooks/?audience=nobody").content.decode()
    assert c.get("/playbooks/no_such/").status_code == 404
    assert as_user(None).get("/playbooks/").status_code == 302  # sign in first


def test_tasks_open_with_their_default_playbook(city, cases):
    inf = cases["infection_a"]
    assert sorted(inf.tasks.values_list("step", "playbook")) == [
        ("area_round", "task_area_round"), ("contact_tracing", "task_contact_tracing"),
        ("designation", "task_designation"), ("disinfection", "task_disinfection"),
        ("investigation", "task_investigation"), ("transfer", "task_transfer")]


def test_checking_a_step_is_audited_with_who_and_when(city, worker, cases, as_user):
    t = cases["task_a"]
    at = dt.datetime(2022, 11, 8, 9, 30, tzinfo=clock.tz())
    with clock.frozen(at):
        r = as_user(worker).post(f"/cases/tasks/{t.pk}/check/", {"step": "s2", "text": "120 车号 A-01"})
    assert r.status_code == 302
    check = StepCheck.objects.get()
    assert (check.step, check.checked_by, check.actor, check.checked_at, check.note) == (
        "s2", worker, "worker_a", at, "120 车号 A-01")
    run = PlaybookRun.objects.get()
    assert (run.subject, run.subject_id, run.playbook, run.pack) == ("task", t.pk, "task_transfer", "ninth-edition")
    assert run.digest == queries.get("task_transfer").digest and run.community_id == city["community_a"].pk
    e = AuditEntry.objects.get(action="playbook.check")
    assert (e.actor, e.at, e.object_type, e.after["step"], e.after["subject_id"]) == (worker, at, "playbook_run",
                                                                                       "s2", t.pk)
    assert e.community_id == city["community_a"].pk
    t.refresh_from_db()
    assert [c["done"] for c in t.checklist] == [False, True, False]  # the task's own list follows
    page = lang(as_user(worker), "en").get(f"/cases/infections/{t.infection_id}/").content.decode()
    assert "worker_a 11-08 09:30" in page  # who and when, beside the step
    assert page.count('name="step" value="s1"') == 6 and page.count('name="step" value="s2"') == 5
    with pytest.raises(Conflict):
        ca.do_check_task_step(t, "s2", actor=worker)
    with pytest.raises(ActionError) as exc:
        ca.do_check_task_step(t, "s9", actor=worker)
    assert exc.value.field == "step"
    assert StepCheck.objects.count() == 1 and AuditEntry.objects.filter(action="playbook.check").count() == 1


def test_ticking_the_list_checks_the_step_too(city, worker, cases):
    t = cases["task_a"]
    ca.do_note_task(t, "ok", actor=worker, check=0)
    assert list(StepCheck.objects.values_list("step", "actor")) == [("s1", "worker_a")]


def test_any_task_can_carry_another_playbook(city, worker, cases, as_user):
    t = cases["infection_a"].tasks.get(step="designation")
    c = as_user(worker)
    assert c.post(f"/cases/tasks/{t.pk}/playbook/", {"playbook": "seal_unit"}).status_code == 302
    t.refresh_from_db()
    assert t.playbook == "seal_unit"
    e = AuditEntry.objects.get(action="task.playbook")
    assert (e.before, e.after) == ({"playbook": "task_designation"}, {"playbook": "seal_unit"})
    c.post(f"/cases/tasks/{t.pk}/check/", {"step": "post_notice"})
    assert StepCheck.objects.get().run.playbook == "seal_unit"
    t.refresh_from_db()
    assert not any(x["done"] for x in t.checklist)  # another playbook: the task's own list is not ticked
    page = lang(c, "zh-hans").get(f"/cases/infections/{t.infection_id}/").content.decode()
    assert "在单元门口张贴封控告示" in page and 'href="/playbooks/seal_unit/"' in page
    with pytest.raises(ActionError):
        ca.do_set_task_playbook(t, "no_such", actor=worker)
    r = c.post(f"/cases/tasks/{t.pk}/check/", {"step": "no_such_step"})
    assert r.status_code in (302, 400) and StepCheck.objects.count() == 1


def test_step_check_scoped_and_refused_to_readers(city, outsider, auditor, cases, as_user):
    t = cases["task_a"]
    assert as_user(outsider).post(f"/cases/tasks/{t.pk}/check/", {"step": "s1"}).status_code == 404
    assert as_user(auditor).post(f"/cases/tasks/{t.pk}/check/", {"step": "s1"}).status_code == 403
    assert StepCheck.objects.count() == 0


def test_api_library_and_step_check(city, worker, auditor, cases, as_user):
    import json

    c = as_user(worker)
    keys = [p["key"] for p in c.get("/api/playbooks?audience=hotline").json()]
    assert keys == ["hotline_medical", "hotline_supplies", "hotline_release"]
    p = c.get("/api/playbooks/door_sampling").json()
    assert p["steps"][3] == {"key": "pool", "text": {"zh": "按10合1混采，满管即封，记录管号与住户对应",
                                                     "en": "pool 10-in-1, close each full tube, record which households each tube holds"},
                             "source": "", "unverified": False}
    assert c.get("/api/playbooks/nope").status_code == 404
    assert c.get("/api/playbooks?audience=nobody").status_code in (400, 422)
    t = cases["task_a"]
    r = c.post(f"/api/tasks/{t.pk}/note", json.dumps({"step": "s3", "text": "记录完毕"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["playbook"] == "task_transfer"
    assert [x["done"] for x in r.json()["checklist"]] == [False, False, True]
    r = c.post(f"/api/tasks/{t.pk}/note", json.dumps({"step": "zz"}), content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "step"
    r = as_user(auditor).post(f"/api/tasks/{t.pk}/note", json.dumps({"step": "s1"}), content_type="application/json")
    assert r.status_code == 403
    assert list(StepCheck.objects.values_list("step", flat=True)) == ["s3"]

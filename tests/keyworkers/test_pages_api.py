"""Key workers through the API, the pages, the exports, the screening feed, the passes hook and bulk files, with
exact dates (POLICY.md: current T..T+N, overdue from T+N+1; no sample: overdue from registration)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.core import clock
from cordon.core.actions import do_create_user
from cordon.core.models import AuditEntry
from cordon.keyworkers.actions import do_create_employer, do_record_sample, do_register_key_worker
from cordon.keyworkers.models import KeyWorker
from tests.conftest import PASSWORD

D = dt.date
TODAY = D(2022, 11, 20)


@pytest.fixture
def frozen():
    with clock.frozen(dt.datetime(2022, 11, 20, 10, 0, tzinfo=clock.tz())):
        yield


@pytest.fixture
def kw(city, frozen):
    """Two platforms; rider A (community A, 美团) sampled negative on 11-18; rider B (community B, 饿了么) never."""
    m = do_create_employer("美团", kind="delivery_platform", actor="test")
    e = do_create_employer("饿了么", kind="delivery_platform", actor="test")
    a = do_register_key_worker(city["resident_a"], group="delivery", employer=m, registered_on=D(2022, 11, 10),
                               actor="test")
    do_record_sample(a, result="negative", on=D(2022, 11, 18), actor="test")
    b = do_register_key_worker(city["resident_b"], group="delivery", employer=e, registered_on=D(2022, 11, 19),
                               actor="test")
    contact, _ = do_create_user("employer", PASSWORD, role="employer_contact", area=None, actor="test")
    return {"m": m, "e": e, "a": KeyWorker.objects.get(pk=a.pk), "b": b, "contact": contact}


def get(c, url):
    r = c.get(url)
    assert r.status_code == 200, (url, r.status_code, r.content[:300])
    return r.json()


def test_status_due_and_overdue_lists(kw, commander, as_user):
    c = as_user(commander)
    a = get(c, f"/api/keyworkers/workers/{kw['a'].pk}")
    assert (a["status"], a["due"], a["overdue_from"], a["last_negative"]) == \
        ("current", "2022-11-21", "2022-11-22", "2022-11-18")
    assert "*" in a["name"]
    # on 11-21 still current, on 11-22 overdue and on the list of those overdue from that day
    assert [w["id"] for w in get(c, "/api/keyworkers/workers?status=current&on=2022-11-21")["items"]] == [kw["a"].pk]
    rows = get(c, "/api/keyworkers/workers?status=overdue&on=2022-11-22")["items"]
    assert [(w["id"], w["status"]) for w in rows] == [(kw["b"].pk, "overdue"), (kw["a"].pk, "overdue")]
    assert [w["id"] for w in get(c, "/api/keyworkers/workers?status=overdue&on=2022-11-22&became=1")["items"]] == \
        [kw["a"].pk]
    # rider B, never sampled, is overdue from the registration day (11-19), not before
    assert [w["id"] for w in get(c, "/api/keyworkers/workers?status=overdue&on=2022-11-19&became=1")["items"]] == \
        [kw["b"].pk]
    assert get(c, "/api/keyworkers/workers?on=2022-11-18")["items"][0]["id"] == kw["a"].pk
    s = get(c, "/api/keyworkers/overdue?on=2022-11-22")
    assert (s["total"], s["new"]) == (2, 1)
    assert sorted((r["employer__name"], r["n"], r["new"]) for r in s["employers"]) == [("美团", 1, 1), ("饿了么", 1, 0)]
    assert sorted((r["community"], r["n"]) for r in s["communities"]) == [
        ("城关区/皋兰路街道/五泉社区", 1), ("城关区/皋兰路街道/白银路社区", 1)]


def test_sample_through_the_api_and_positive_is_an_infection(kw, worker, as_user):
    from cordon.cases.models import Infection

    c = as_user(worker)
    r = c.post(f"/api/keyworkers/workers/{kw['a'].pk}/samples", data=json.dumps({"result": "negative"}),
               content_type="application/json")
    assert r.status_code == 200 and (r.json()["due"], r.json()["overdue_from"]) == ("2022-11-23", "2022-11-24")
    r = c.post(f"/api/keyworkers/workers/{kw['a'].pk}/samples",
               data=json.dumps({"result": "positive", "on": "2022-11-20"}), content_type="application/json")
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["positive_on"], r.json()["overdue_from"]) == \
        ("overdue", "2022-11-20", "2022-11-20")
    inf = Infection.objects.get(resident=kw["a"].person_id)
    assert inf.confirmed_on == TODAY
    bad = c.post(f"/api/keyworkers/workers/{kw['a'].pk}/samples", data=json.dumps({"result": "maybe"}),
                 content_type="application/json")
    assert bad.status_code in (400, 422)
    future = c.post(f"/api/keyworkers/workers/{kw['a'].pk}/samples",
                    data=json.dumps({"result": "negative", "on": "2022-11-21"}), content_type="application/json")
    assert future.status_code == 400 and future.json()["field"] == "on"
    # the outsider (community B) does not see rider A
    assert as_user(worker).get(f"/api/keyworkers/workers/{kw['b'].pk}").status_code == 404


def test_register_refuses_unknown_group_and_twice(kw, city, worker, as_user):
    c = as_user(worker)
    body = {"id_number": city["resident_a2"].id_number, "group": "astronaut", "employer_id": kw["m"].pk}
    r = c.post("/api/keyworkers/workers", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "group"
    body["group"] = "fever_clinic"
    r = c.post("/api/keyworkers/workers", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and (r.json()["status"], r.json()["due"], r.json()["overdue_from"]) == \
        ("overdue", None, "2022-11-20")
    r = c.post("/api/keyworkers/workers", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 409 and r.json()["field"] == "person"
    # a resident outside the caller's jurisdiction is "no such resident"
    body = {"id_number": city["resident_b"].id_number, "group": "delivery", "employer_id": kw["m"].pk}
    r = c.post("/api/keyworkers/workers", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "id_number"


def test_employer_contact_sees_only_their_staff(kw, commander, as_user):
    c = as_user(kw["contact"])
    # not linked yet: nothing
    assert get(c, "/api/keyworkers/workers")["items"] == []
    assert get(c, "/api/keyworkers/employers") == []
    assert c.get(f"/api/keyworkers/workers/{kw['a'].pk}").status_code == 404
    assert "美团" not in c.get("/keyworkers/").content.decode()
    # an employer contact cannot link themselves or create employers
    r = c.post(f"/api/keyworkers/employers/{kw['m'].pk}/contacts", data=json.dumps({"username": "employer"}),
               content_type="application/json")
    assert r.status_code in (403, 404)
    r = as_user(commander).post(f"/api/keyworkers/employers/{kw['m'].pk}/contacts",
                                data=json.dumps({"username": "employer", "reason": "platform contact"}),
                                content_type="application/json")
    assert r.status_code == 200
    assert AuditEntry.objects.filter(action="employer.link_contact").count() == 1
    assert [w["id"] for w in get(c, "/api/keyworkers/workers")["items"]] == [kw["a"].pk]
    assert [e["name"] for e in get(c, "/api/keyworkers/employers")] == ["美团"]
    assert c.get(f"/api/keyworkers/workers/{kw['b'].pk}").status_code == 404
    s = get(c, "/api/keyworkers/overdue?on=2022-11-22")
    assert s["total"] == 1 and [r["employer__name"] for r in s["employers"]] == ["美团"]
    # pages: their staff only
    page = c.get("/keyworkers/").content.decode()
    assert "Staff of 美团" in page or "美团" in page
    assert f"/keyworkers/{kw['a'].pk}/" in page and f"/keyworkers/{kw['b'].pk}/" not in page
    assert c.get(f"/keyworkers/{kw['b'].pk}/").status_code == 404
    assert c.get(f"/keyworkers/{kw['a'].pk}/").status_code == 200
    # exports: the role holds no export capability
    assert c.get("/keyworkers/export/?format=csv").status_code == 403
    # they record their own rider's sample, not another platform's
    r = c.post(f"/api/keyworkers/workers/{kw['a'].pk}/samples", data=json.dumps({"result": "negative"}),
               content_type="application/json")
    assert r.status_code == 200
    r = c.post(f"/api/keyworkers/workers/{kw['b'].pk}/samples", data=json.dumps({"result": "negative"}),
               content_type="application/json")
    assert r.status_code == 404
    # and register staff only for their own employer
    assert c.post(f"/keyworkers/{kw['b'].pk}/", {"result": "negative"}).status_code in (403, 404)


def test_export_is_scoped_and_masked(kw, worker, commander, as_user):
    body = b"".join(as_user(commander).get("/keyworkers/export/?format=csv").streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 3 and "王秀英" not in body and "王**" in body
    body = b"".join(as_user(worker).get("/keyworkers/export/?format=csv&status=current").streaming_content)
    lines = body.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "2022-11-18" in lines[1] and "2022-11-22" in lines[1]


def test_pages_open_and_forms(kw, city, commander, worker, as_user):
    c = as_user(commander)
    for url in ("/keyworkers/", "/keyworkers/?status=overdue&on=2022-11-22", "/keyworkers/overdue/",
                "/keyworkers/employers/", f"/keyworkers/{kw['a'].pk}/", "/keyworkers/new/",
                "/keyworkers/employers/new/", f"/keyworkers/employers/{kw['m'].pk}/contact/"):
        assert c.get(url).status_code == 200, url
    ov = c.get("/keyworkers/overdue/?on=2022-11-22").content.decode()
    assert "美团" in ov and "饿了么" in ov
    r = as_user(worker).post(f"/keyworkers/{kw['a'].pk}/", {"result": "negative", "on": "2022-11-19"})
    assert r.status_code == 302
    assert KeyWorker.objects.get(pk=kw["a"].pk).last_negative == D(2022, 11, 19)
    r = as_user(worker).post("/keyworkers/new/", {"id_number": city["resident_a2"].id_number, "group": "delivery",
                                                 "employer": kw["e"].pk})
    assert r.status_code == 302 and KeyWorker.objects.filter(person=city["resident_a2"]).exists()
    r = as_user(worker).post("/keyworkers/new/", {"id_number": "620102199001010000", "group": "delivery",
                                                 "employer": kw["e"].pk})
    assert r.status_code == 400
    # employers are set up by city, district or street staff, not a community worker
    r = as_user(worker).post("/keyworkers/employers/new/", {"name": "顺丰", "kind": "courier"})
    assert r.status_code == 404
    r = c.post("/keyworkers/employers/new/", {"name": "顺丰", "kind": "courier"})
    assert r.status_code == 302


def test_screening_feed_counts_negative_tubes(kw, city):
    from cordon.screening.actions import do_create_round
    from cordon.screening.ingest import import_rows

    r = do_create_round(name="全员", on=D(2022, 11, 20), areas=[city["community_a"], city["community_b"]],
                        actor="test")
    # results first (rider B's tube), registrations later: either order counts
    import_rows("results", "r1", [{"barcode": "LZT0001", "result": "negative", "reported_at": "2022-11-20 09:00"},
                                  {"barcode": "LZT0002", "result": "positive", "reported_at": "2022-11-20 09:00"}],
                round=None, actor="test")
    import_rows("samples", "s1", [{"id_number": city["resident_b"].id_number, "barcode": "LZT0001",
                                   "sampled_at": "2022-11-19 23:30"},
                                  {"id_number": city["resident_a"].id_number, "barcode": "LZT0002",
                                   "sampled_at": "2022-11-20 08:00"}], round=r, actor="test")
    b = KeyWorker.objects.get(pk=kw["b"].pk)
    assert (b.last_negative, b.overdue_from) == (D(2022, 11, 19), D(2022, 11, 23))  # the sampling day counts
    a = KeyWorker.objects.get(pk=kw["a"].pk)
    assert (a.last_negative, a.overdue_from) == (D(2022, 11, 18), D(2022, 11, 22))  # a positive pool: not current
    assert AuditEntry.objects.filter(action="keyworker.screening_samples").count() == 1
    # an older tube never moves the latest sample back
    import_rows("samples", "s2", [{"id_number": city["resident_b"].id_number, "barcode": "LZT0003",
                                   "sampled_at": "2022-11-17 08:00"}], round=r, actor="test")
    import_rows("results", "r2", [{"barcode": "LZT0003", "result": "negative", "reported_at": "2022-11-20 09:00"}],
                round=None, actor="test")
    assert KeyWorker.objects.get(pk=kw["b"].pk).last_negative == D(2022, 11, 19)


def test_screening_retest_is_a_key_workers_sample(kw, city):
    """A recalled key worker's single-tube retest counts without any extra step: positive, overdue from its day
    (and the infection screening records); a key worker retested negative is current from the retest's day."""
    from cordon.screening.actions import do_create_round, do_record_retest, do_refresh_round
    from cordon.screening.ingest import import_rows
    from cordon.screening.models import RecallMember

    r = do_create_round(name="全员", on=D(2022, 11, 20), areas=[city["community_a"], city["community_b"]],
                        actor="test")
    import_rows("samples", "s1", [{"id_number": city["resident_a"].id_number, "barcode": "LZT0010",
                                   "sampled_at": "2022-11-20 07:00"},
                                  {"id_number": city["resident_b"].id_number, "barcode": "LZT0011",
                                   "sampled_at": "2022-11-20 07:10"}], round=r, actor="test")
    import_rows("results", "r1", [{"barcode": "LZT0010", "result": "positive", "reported_at": "2022-11-20 09:00"},
                                  {"barcode": "LZT0011", "result": "positive", "reported_at": "2022-11-20 09:00"}],
                round=None, actor="test")
    do_refresh_round(r, actor="test")
    members = {m.resident_id: m for m in RecallMember.objects.filter(task__round=r)}
    a, b = kw["a"], kw["b"]
    assert (a.last_negative, a.overdue_from) == (D(2022, 11, 18), D(2022, 11, 22))  # current before the retest
    do_record_retest(members[city["resident_a"].pk], result="positive", actor="test")
    a = KeyWorker.objects.get(pk=a.pk)
    assert (a.positive_on, a.overdue_from, a.last_negative) == (TODAY, TODAY, D(2022, 11, 18))
    do_record_retest(members[city["resident_b"].pk], result="negative", actor="test")
    b = KeyWorker.objects.get(pk=b.pk)
    assert (b.last_negative, b.overdue_from) == (TODAY, D(2022, 11, 24))  # delivery: every 3 days
    rows = {e.object_id: e for e in AuditEntry.objects.filter(action="keyworker.retest")}
    assert set(rows) == {str(a.pk), str(b.pk)} and rows[str(a.pk)].after["infection"]


def test_passes_hook_overdue(kw, city):
    from cordon.passes import hooks

    fn = dict(hooks.OVERDUE)["keyworkers.overdue"]
    ids = [city["resident_a"].pk, city["resident_b"].pk, city["resident_a2"].pk]
    assert fn(ids, D(2022, 11, 21)) == {city["resident_b"].pk}
    assert fn(ids, D(2022, 11, 22)) == {city["resident_a"].pk, city["resident_b"].pk}
    assert fn(ids, D(2022, 11, 18)) == set()
    assert fn([], D(2022, 11, 22)) == set()


def test_pass_check_reads_the_overdue_status_with_the_pass(kw, city):
    """``passes.hooks.OVERDUE_EXISTS``: a check reads the holder's key-worker status in the pass's statement and
    answers as the set-based hook does (B never sampled: overdue from registration; A from 11-22)."""
    from cordon.passes import actions as passes, hooks, queries

    assert "keyworkers.overdue" in dict(hooks.OVERDUE_EXISTS)
    passes_of = {who: passes.do_issue_pass(kind="delivery", areas=[city["street"]], valid_from=D(2022, 11, 18),
                                           valid_to=D(2022, 11, 25), holder=city[who], actor="test")
                 for who in ("resident_a", "resident_b", "resident_a2")}
    for day in (D(2022, 11, 21), D(2022, 11, 22)):
        late = dict(hooks.OVERDUE)["keyworkers.overdue"]([city[w].pk for w in passes_of], day)
        for who, p in passes_of.items():
            read = queries.pass_for_check(day, pk=p.pk)
            assert read == queries.pass_for_check(day, code=p.code)
            assert read.holder_late_0 == (city[who].pk in late), (who, day)
            assert queries.answer(read, city["unit_a"].path, day).reason == \
                ("test_overdue" if city[who].pk in late else None), (who, day)


def test_daily_close_section(kw, city):
    from cordon.situation.registry import SituationScope, collect

    s = collect(SituationScope.city(), D(2022, 11, 22), names={"keyworkers"}, detail=True)["keyworkers"]
    assert (s["registered"], s["overdue"], s["new"]) == (2, 2, 1)
    assert sorted((e["employer"], e["overdue"], e["new"]) for e in s["employers"]) == [("美团", 1, 1), ("饿了么", 1, 0)]
    assert sorted(s["ids"]["overdue"]) == sorted([kw["a"].pk, kw["b"].pk])

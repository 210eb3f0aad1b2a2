"""Risk-area pages: the command view (tree, proposals confirmed with one click, KPIs, notices), a
designation's page and its action forms, designating by hand, and the public list (HTML and JSON) with no
personal data; scoping, read-only refusals, query budgets."""
from __future__ import annotations

import json

import pytest

from cordon.core import clock
from cordon.core.models import AuditEntry
from cordon.zones import actions as za
from cordon.zones.models import Designation, Notice, Proposal, ProposalStatus, Status
from tests.conftest import without_random_tokens
from tests.zones._zfixtures import designate, designation_a, designation_b, infection_a, units  # noqa: F401

pytestmark = pytest.mark.django_db


def zh(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def en(client):
    client.cookies["django_language"] = "en"
    return client


# ------------------------------------------------------------------------------------------ command view


def test_command_view_lists_designations_in_a_tree(city, worker, designation_a, designation_b, as_user):
    r = en(as_user(worker)).get("/zones/")
    assert r.status_code == 200
    body = r.content.decode()
    assert f'href="/zones/{designation_a.pk}/"' in body
    assert f'href="/zones/{designation_b.pk}/"' not in body  # another community
    for name in ("城关区", "皋兰路街道", "五泉社区"):
        assert name in body
    assert "P1" in body                      # linked infection label
    assert "2 residents, 1 in special groups" in body
    assert "<details" in body and "Next change" in body
    assert "style=" not in body


def test_command_view_tabs_and_filters(city, commander, designation_a, designation_b, as_user):
    c = en(as_user(commander))
    za.do_lift(designation_b, reason="assessed", actor=commander)
    body = c.get("/zones/").content.decode()
    assert f"/zones/{designation_a.pk}/" in body and f"/zones/{designation_b.pk}/" not in body
    body = c.get("/zones/", {"tab": "observation"}).content.decode()
    assert f"/zones/{designation_b.pk}/" in body and f"/zones/{designation_a.pk}/" not in body
    body = c.get("/zones/", {"q": "白银"}).content.decode()
    assert f"/zones/{designation_a.pk}/" not in body
    body = c.get("/zones/", {"level": "medium"}).content.decode()
    assert f"/zones/{designation_a.pk}/" not in body


def test_flags_are_highlighted(city, worker, as_user):
    d = designate(city["unit_a"], reason="no linked case")
    body = zh(as_user(worker)).get("/zones/").content.decode()
    assert "zone-card lv-high flagged" in body and "nine-prohibitions-1" in body
    body = as_user(worker).get(f"/zones/{d.pk}/").content.decode()
    assert "nine-prohibitions-1" in body


def test_one_click_confirm(city, worker, infection_a, as_user):
    c = zh(as_user(worker))
    p = Proposal.objects.get()
    body = c.get("/zones/").content.decode()
    assert f'action="/zones/proposals/{p.pk}/confirm/"' in body and "P1" in body
    r = c.post(f"/zones/proposals/{p.pk}/confirm/")
    assert r.status_code == 302 and r["Location"] == "/zones/"
    d = Designation.objects.get()
    assert d.area_id == city["unit_a"].pk and d.level == "high" and d.status == Status.ACTIVE
    assert list(d.infections.values_list("label", flat=True)) == ["P1"]
    p.refresh_from_db()
    assert p.status == ProposalStatus.CONFIRMED
    body = c.get("/zones/").content.decode()
    assert f'action="/zones/proposals/{p.pk}/confirm/"' not in body
    assert f'href="/zones/{d.pk}/"' in body


def test_dismiss_with_reason(city, worker, infection_a, as_user):
    c = en(as_user(worker))
    p = Proposal.objects.get()
    r = c.post(f"/zones/proposals/{p.pk}/dismiss/", {"reason": ""}, follow=True)
    assert "needs a reason" in r.content.decode()
    p.refresh_from_db()
    assert p.status == ProposalStatus.OPEN
    c.post(f"/zones/proposals/{p.pk}/dismiss/", {"reason": "moved away in May"})
    p.refresh_from_db()
    assert p.status == ProposalStatus.DISMISSED


def test_proposals_scoped_and_read_only(city, outsider, auditor, infection_a, as_user):
    p = Proposal.objects.get()
    assert f"/zones/proposals/{p.pk}/" not in as_user(outsider).get("/zones/").content.decode()
    assert as_user(outsider).post(f"/zones/proposals/{p.pk}/confirm/").status_code == 404
    body = as_user(auditor).get("/zones/").content.decode()
    assert city["unit_a"].path in body and f"/zones/proposals/{p.pk}/confirm/" not in body
    assert as_user(auditor).post(f"/zones/proposals/{p.pk}/confirm/").status_code == 403
    assert not Designation.objects.exists()


def test_publish_notice(city, commander, worker, designation_a, as_user):
    assert as_user(worker).post("/zones/notices/publish/").status_code == 403
    c = en(as_user(commander))
    assert "Publish notice" in c.get("/zones/").content.decode()
    assert "Publish notice" not in en(as_user(worker)).get("/zones/").content.decode()
    r = c.post("/zones/notices/publish/", follow=True)
    n = Notice.objects.get()
    assert n.number == 1 and n.items[0]["area"] == city["unit_a"].path
    assert "Notice No. 1 published" in r.content.decode()
    r = c.post("/zones/notices/publish/", follow=True)
    assert "Nothing new to publish" in r.content.decode() and Notice.objects.count() == 1


def test_kpis_on_command_view(city, commander, designation_a, as_user):
    body = en(as_user(commander)).get("/zones/").content.decode()
    assert "Confirmation to designation" in body and "Lift delay after eligibility" in body


# ------------------------------------------------------------------------------------------ detail


def test_detail_page(city, worker, designation_a, as_user):
    r = en(as_user(worker)).get(f"/zones/{designation_a.pk}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert city["unit_a"].path in body and "History" in body and "Extent" in body
    for action in ("round", "keep", "lift", "adjust"):
        assert f'action="/zones/{designation_a.pk}/{action}/"' in body
    assert "P1" in body and "2 residents, 1 in special groups" in body


def test_detail_scoping(city, outsider, auditor, designation_a, as_user):
    assert as_user(outsider).get(f"/zones/{designation_a.pk}/").status_code == 404
    assert as_user(outsider).post(f"/zones/{designation_a.pk}/lift/", {"lift-reason": "x"}).status_code == 404
    body = as_user(auditor).get(f"/zones/{designation_a.pk}/").content.decode()
    assert f'action="/zones/{designation_a.pk}/lift/"' not in body
    assert as_user(auditor).post(f"/zones/{designation_a.pk}/lift/", {"lift-reason": "x"}).status_code == 403
    assert as_user(auditor).get("/zones/new/").status_code == 403
    assert Designation.objects.get().status == Status.ACTIVE
    assert as_user(auditor).get("/zones/99999/").status_code == 404


def test_action_errors_are_shown(city, worker, designation_a, as_user):
    c = en(as_user(worker))
    r = c.post(f"/zones/{designation_a.pk}/keep/", {"keep-reason": ""})
    assert r.status_code == 400
    body = r.content.decode()
    assert 'class="msg error" role="alert"' in body and "needs a written reason" in body
    assert not AuditEntry.objects.filter(action="designation.keep").exists()


def test_actions_through_forms(city, worker, designation_a, units, as_user):
    c = en(as_user(worker))
    base = f"/zones/{designation_a.pk}"
    r = c.post(base + "/round/", {"round-result": "negative"})
    assert r.status_code == 302 and r["Location"] == base + "/"
    assert c.post(base + "/keep/", {"keep-reason": "waiting for review"}).status_code == 302
    designation_a.refresh_from_db()
    assert designation_a.kept
    assert f'action="{base}/resume/"' in c.get(base + "/").content.decode()
    assert c.post(base + "/resume/", {"resume-reason": ""}).status_code == 302
    # Add a neighbouring unit by its path, then remove it.
    assert c.post(base + "/adjust/", {"adjust-add": units["a2"].path, "adjust-reason": "same stairwell"}).status_code == 302
    assert designation_a.members.filter(removed_on__isnull=True).count() == 2
    r = c.post(base + "/adjust/", {"adjust-add": "城关区/nowhere", "adjust-reason": "x"})
    assert r.status_code == 400 and "No such area in your jurisdiction" in r.content.decode()
    r = c.post(base + "/adjust/", {"adjust-add": city["unit_b"].path, "adjust-reason": "x"})
    assert r.status_code == 400  # out of scope: the same answer as absent
    assert c.post(base + "/adjust/", {"adjust-remove": units["a2"].pk, "adjust-reason": "separate"}).status_code == 302
    assert designation_a.members.filter(removed_on__isnull=True).count() == 1
    # Lift, then re-seal.
    assert c.post(base + "/lift/", {"lift-reason": "assessed"}).status_code == 302
    designation_a.refresh_from_db()
    assert designation_a.status == Status.OBSERVATION
    assert f'action="{base}/reseal/"' in c.get(base + "/").content.decode()
    assert c.post(base + "/reseal/", {"reseal-level": "high", "reseal-reason": "new case"}).status_code == 302
    designation_a.refresh_from_db()
    assert designation_a.status == Status.ACTIVE
    assert c.post(base + "/explode/", {}).status_code == 404


def test_designate_through_page(city, worker, infection_a, as_user):
    c = en(as_user(worker))
    r = c.get(f"/zones/new/?area={city['unit_a'].pk}")
    assert r.status_code == 200 and city["unit_a"].path in r.content.decode()
    r = c.post("/zones/new/", {"area": city["unit_a"].path, "level": "high", "reason": "",
                               "infections": "P1"})
    assert r.status_code == 400 and not Designation.objects.exists()
    r = c.post("/zones/new/", {"area": city["unit_a"].path, "level": "high", "reason": "P1 lives here",
                               "infections": "P9"})
    assert r.status_code == 400 and "No infection P9" in r.content.decode()
    r = c.post("/zones/new/", {"area": city["unit_b"].path, "level": "high", "reason": "x"})
    assert r.status_code == 400 and "No such area in your jurisdiction" in r.content.decode()
    r = c.post("/zones/new/", {"area": city["unit_a"].path, "level": "high", "reason": "P1 lives here",
                               "infections": "P1"})
    d = Designation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/zones/{d.pk}/"
    assert list(d.infections.values_list("label", flat=True)) == ["P1"]


def test_anonymous_redirected(designation_a, client):
    for path in ("/zones/", f"/zones/{designation_a.pk}/", "/zones/new/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/login/")


# ------------------------------------------------------------------------------------------ public


def test_public_page_has_no_personal_data(city, designation_a, commander, client):
    za.do_publish_notice(actor=commander)
    r = zh(client).get("/public/risk-areas")
    assert r.status_code == 200
    assert "public" in r["Cache-Control"] and "max-age=60" in r["Cache-Control"]
    body = without_random_tokens(r.content.decode())
    assert city["unit_a"].path in body and "高风险区" in body
    assert "第1号通告" in body
    for secret in ("P1", "王秀英", "李建国", "P1 lives here", city["resident_a"].id_number, "13909310001"):
        assert secret not in body, secret
    assert "style=" not in body


def test_public_json(city, designation_a, designation_b, commander, client):
    za.do_lift(designation_b, reason="P2 recovered", actor=commander)
    za.do_publish_notice(actor=commander)
    r = client.get("/public/risk-areas.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert "max-age=60" in r["Cache-Control"] and "public" in r["Cache-Control"]
    data = r.json()
    assert set(data) == {"updated", "areas", "lifted", "notices"}
    assert [a["area"] for a in data["areas"]] == [city["unit_a"].path]
    a = data["areas"][0]
    assert a["level"] == "high" and a["since"] == clock.today().isoformat()
    assert a["expected_change"]["level"] == "medium" and a["reason"]
    assert [x["area"] for x in data["lifted"]] == [city["unit_b"].path]
    assert data["notices"][0]["number"] == 1 and data["notices"][0]["items"]
    # The lift by hand and the level change it causes are announced once.
    assert [it["level"] for it in data["notices"][0]["items"] if it["area"] == city["unit_b"].path] == ["high", "low"]
    raw = r.content.decode()
    for secret in ("P1", "P2", "王秀英", "李建国", "张伟", "lives here", "recovered", city["resident_a"].id_number):
        assert secret not in raw, secret


def test_public_search(city, designation_a, designation_b, client):
    data = client.get("/public/risk-areas.json", {"q": "白银"}).json()
    assert [a["area"] for a in data["areas"]] == [city["unit_b"].path]
    body = client.get("/public/risk-areas", {"q": "五泉"}).content.decode()
    assert city["unit_a"].path in body and city["unit_b"].path not in body
    body = client.get("/public/risk-areas", {"q": "nowhere"}).content.decode()
    assert city["unit_a"].path not in body


def test_public_links_on_landing_and_nav(client):
    body = client.get("/").content.decode()
    assert 'href="/public/risk-areas"' in body and 'href="/public/risk-areas.json"' in body


# ------------------------------------------------------------------------------------------ budgets


@pytest.fixture
def many(city, units, commander):
    """Designations on many units of community A, each with an infection, flags and a proposal open."""
    from cordon.cases.actions import do_record_infection
    from cordon.places.actions import do_ensure_area

    ds = []
    for b in range(1, 4):
        for u in range(1, 5):
            unit = do_ensure_area(f"城关区/皋兰路街道/五泉社区/五泉小区/{b}号楼/{u}单元", actor="test")
            inf = do_record_infection(label=f"B{b}U{u}", home=unit, found="community", confirmed_on=clock.today(),
                                      actor="test")
            if u < 4:
                ds.append(designate(unit, reason=f"B{b}U{u}", infections=[inf]))
    ds.append(designate(city["unit_b"], reason="no case"))  # flagged
    za.do_publish_notice(actor=commander)
    return ds


def test_command_view_query_budget(city, commander, worker, many, as_user, django_assert_max_num_queries):
    for user in (commander, worker):
        c = as_user(user)
        c.get("/")
        with django_assert_max_num_queries(18):
            r = c.get("/zones/")
        assert r.status_code == 200
        assert r.content.decode().count('class="zone-card') >= 9
    c = as_user(commander)
    with django_assert_max_num_queries(16):
        assert c.get(f"/zones/{many[0].pk}/").status_code == 200


def test_public_page_query_budget(city, many, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        r = client.get("/public/risk-areas")
    assert r.content.decode().count('class="public-area lv-') == len(many)
    with django_assert_max_num_queries(5):
        data = client.get("/public/risk-areas.json").json()
    assert len(data["areas"]) == len(many)
    assert json.dumps(data, ensure_ascii=False).count("B1U1") == 0

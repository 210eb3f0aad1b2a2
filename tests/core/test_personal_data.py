"""Personal data, minimum necessary (issue 13): no route gives back a masked value (the full birth date
next to a masked ID number rebuilds it), audit rows name people by id only, full names only where the job
needs them (and audited), reasons and notes bounded.

Personas (tests/conftest.py): worker = community A (may unmask there), auditor = whole city, read-only."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.core import audit, clock
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry
from tests.conftest import without_random_tokens

pytestmark = pytest.mark.django_db


def _post(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def _secrets(r) -> dict:
    """The full values that must not come back unless unmasked, in the forms a page or JSON may spell them."""
    b = r.birth_date
    return {"id_number": [r.id_number], "phone": [r.phone],
            "birth_date": [b.isoformat(), f"{b:%Y%m%d}", f"{b:%Y/%m/%d}", f"{b.year}年{b.month}月{b.day}日"]}


def _routes(city) -> list[str]:
    """Every route that shows resident A, a list holding it, the contacts list, and the export-like ones."""
    r = city["resident_a"]
    today = clock.today().isoformat()
    return [f"/residents/{r.pk}/", f"/areas/{city['unit_a'].pk}/", "/care/special/", "/cases/contacts/",
            f"/api/residents/{r.pk}", "/api/residents", f"/api/residents?area={city['unit_a'].pk}",
            f"/api/residents?q={r.id_number}", f"/api/areas/{city['unit_a'].pk}/households", "/api/orders",
            f"/situation/daily/{today}/", f"/situation/daily/{today}/?format=json", "/audit/", "/api/audit"]


@pytest.fixture
def contact_a(city):
    """A close contact in community A who is resident A (the contacts list and orders API show them)."""
    from cordon.cases import actions as ca

    today = clock.today()
    inf = ca.do_record_infection(label="PD-P1", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    return ca.do_register_contact(inf, label="PD-K1", last_exposure=today - dt.timedelta(days=1),
                                  identified_on=today, home=city["unit_a"], resident=city["resident_a"],
                                  actor="test")


def _collect(client, city) -> dict[str, str]:
    out = {}
    for url in _routes(city):
        resp = client.get(url)
        if resp.status_code in (403, 404):
            continue  # not open to this role: nothing shown
        assert resp.status_code == 200, (url, resp.status_code)
        out[url] = without_random_tokens(resp.content.decode())
    return out


@pytest.mark.parametrize("who", ["worker", "auditor"])
def test_masked_values_never_come_back(who, personas, city, contact_a, as_user):
    user = personas[who]
    c = as_user(user)
    secrets = _secrets(city["resident_a"])
    pages = _collect(c, city)
    assert f"/residents/{city['resident_a'].pk}/" in pages and f"/api/residents/{city['resident_a'].pk}" in pages
    for url, body in pages.items():
        for field, forms in secrets.items():
            for s in forms:
                assert s not in body, (who, url, field)
    # The birth year and the age are what the resident's page and record show instead.
    assert "1938" in pages[f"/residents/{city['resident_a'].pk}/"]
    assert json.loads(pages[f"/api/residents/{city['resident_a'].pk}"])["birth_year"] == 1938
    if who != "worker":
        return
    # Unmasking (the worker may, in community A) reveals the value once and writes one audit row, holding no
    # value; every other route stays masked afterwards.
    n = AuditEntry.objects.filter(action="resident.unmask").count()
    r = _post(c, f"/api/residents/{city['resident_a'].pk}/unmask", {"field": "phone", "reason": "callback"})
    assert r.json()["value"] == city["resident_a"].phone
    e = AuditEntry.objects.filter(action="resident.unmask").order_by("-id")[0]
    assert AuditEntry.objects.filter(action="resident.unmask").count() == n + 1
    assert city["resident_a"].phone not in json.dumps([e.object_repr, e.before, e.after, e.reason])
    page = c.post(f"/residents/{city['resident_a'].pk}/", {"field": "id_number", "reason": "ambulance"})
    body = page.content.decode()
    assert city["resident_a"].id_number in body and city["resident_a"].birth_date.isoformat() in body
    assert AuditEntry.objects.filter(action="resident.unmask").count() == n + 2
    for url, body in _collect(c, city).items():
        for forms in secrets.values():
            for s in forms:
                assert s not in body, (url, s)


def test_full_name_only_on_the_residents_own_record_and_audited(personas, city, as_user):
    r = city["resident_a"]
    worker, auditor = as_user(personas["worker"]), as_user(personas["auditor"])
    # Lists mask the name for everyone.
    assert "王秀英" not in worker.get(f"/areas/{city['unit_a'].pk}/").content.decode()
    assert all("*" in x["name"] for x in worker.get("/api/residents").json()["items"])
    # The resident's own page and record: in full for the worker (who may unmask here), each read audited.
    assert "王秀英" in worker.get(f"/residents/{r.pk}/").content.decode()
    assert worker.get(f"/api/residents/{r.pk}").json()["name"] == "王秀英"
    reads = AuditEntry.objects.filter(action="resident.read", object_id=str(r.pk))
    assert reads.count() == 2 and all(e.actor_name == "worker_a" for e in reads)
    assert not any("王秀英" in json.dumps([e.object_repr, e.after, e.reason], ensure_ascii=False) for e in reads)
    # The read-only auditor gets the masked name, and no read is recorded for it.
    assert "王秀英" not in auditor.get(f"/residents/{r.pk}/").content.decode()
    assert auditor.get(f"/api/residents/{r.pk}").json()["name"] == "王**"
    assert AuditEntry.objects.filter(action="resident.read").count() == 2


def test_audit_rows_name_people_by_id_only(personas, city, as_user):
    r = city["resident_a"]
    rows = list(AuditEntry.objects.filter(object_type="resident"))
    assert rows
    resp = _post(as_user(personas["worker"]), f"/api/residents/{r.pk}",
                 {"name": "王秀兰", "phone": "13909319999", "reason": "corrected at the door"}, method="patch")
    assert resp.status_code == 200, resp.content
    rows = list(AuditEntry.objects.filter(object_type="resident"))
    e = AuditEntry.objects.get(action="resident.update")
    assert e.object_repr == f"resident {r.pk}" and e.object_id == str(r.pk)
    assert e.before == {"name": "***", "phone": "***"} and e.after == {"name": "***", "phone": "***"}
    for row in rows:
        text = json.dumps([row.object_repr, row.before, row.after, row.reason, row.rule], ensure_ascii=False)
        for secret in ("王秀英", "王秀兰", "李建国", "张伟", "13909310001", "13909319999", "139****",
                       r.id_number, r.id_number[-4:], r.birth_date.isoformat()):
            assert secret not in text, (row.action, secret)


def test_long_reasons_are_refused_at_the_action_layer(personas, city, as_user):
    from cordon.cases import actions as ca

    c = as_user(personas["worker"])
    r = city["resident_a"]
    before = AuditEntry.objects.count()
    huge = "x" * 350_000
    resp = _post(c, f"/api/residents/{r.pk}/unmask", {"field": "phone", "reason": huge})
    assert resp.status_code == 400 and resp.json()["field"] == "reason"
    resp = _post(c, f"/api/residents/{r.pk}", {"lives_alone": False, "reason": "y" * (audit.MAX_REASON + 1)},
                 method="patch")
    assert resp.status_code == 400 and resp.json()["field"] == "reason"
    r.refresh_from_db()
    assert r.lives_alone is True  # refused before any change
    resp = _post(c, "/api/orders", {"person": "X", "category": "close_contact", "reason": huge,
                                    "home_id": city["unit_a"].pk})
    assert resp.status_code == 400 and resp.json()["field"] == "reason"
    assert AuditEntry.objects.count() == before
    # At the limit it is accepted and stored whole.
    resp = _post(c, f"/api/residents/{r.pk}/unmask", {"field": "phone", "reason": "z" * audit.MAX_REASON})
    assert resp.status_code == 200
    assert AuditEntry.objects.filter(action="resident.unmask").get().reason == "z" * audit.MAX_REASON
    # Notes are bounded the same way, on their own field.
    inf = ca.do_record_infection(label="LR-P1", home=city["unit_a"], found="community",
                                 confirmed_on=clock.today(), actor="test")
    with pytest.raises(ActionError) as exc:
        ca.do_note_task(inf.tasks.first(), "n" * 2001, actor=personas["worker"])
    assert exc.value.field == "text"


def test_audit_writing_caps_what_it_stores(city):
    """Bulk paths build rows with ``audit.entry`` (no refusal there): what they store is clipped."""
    e = audit.entry("test.bulk", actor="system", object_type="x", object_id="1", reason="r" * 10_000,
                    after={"note": "n" * 10_000, "items": ["i" * 10_000]})
    assert len(e.reason) == audit.MAX_REASON and e.reason.endswith("…")
    assert len(e.after["note"]) == audit.MAX_VALUE and len(e.after["items"][0]) == audit.MAX_VALUE
    with pytest.raises(ActionError) as exc:
        audit.record("test.one", actor="system", object_type="x", object_id="1", reason="r" * 10_000)
    assert exc.value.field == "reason"

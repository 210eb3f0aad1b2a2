"""The pages of writes that had only the API: a user's API tokens (create, shown once; revoke), the policy pack
(commanders), and residents' records (register in a unit, edit; identifying fields never shown back)."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.models import ApiToken, AuditEntry, PackSetting

pytestmark = pytest.mark.django_db


def en(client):
    client.cookies["django_language"] = "en"
    return client


def test_tokens_page_creates_shows_once_and_revokes(city, worker, outsider, as_user):
    c = en(as_user(worker))
    assert 'href="/account/tokens/"' in c.get("/").content.decode()
    r = c.post("/account/tokens/", {"name": "lab upload"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=worker)
    body = r.content.decode()
    assert "shown only this once" in body and token.prefix in body
    secret = body.split('token-secret">')[1].split("<")[0]
    assert ApiToken.hash(secret) == token.digest
    # The secret works as a bearer token, and is never shown again.
    assert as_user(None).get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert secret not in c.get("/account/tokens/").content.decode()
    assert c.post("/account/tokens/", {"name": ""}).status_code == 400
    # Another user's token: 404, nothing revoked.
    assert as_user(outsider).post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    r = c.post(f"/account/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked and AuditEntry.objects.filter(action="token.revoke").count() == 1
    assert as_user(None).get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert as_user(None).get("/account/tokens/").status_code == 302  # to the sign-in page


def test_pack_page_for_commanders(city, commander, worker, as_user):
    assert as_user(worker).get("/settings/pack/").status_code == 403
    c = en(as_user(commander))
    assert 'href="/settings/pack/"' in c.get("/").content.decode()
    page = c.get("/settings/pack/").content.decode()
    assert "twenty-measures" in page and "In force today" in page
    start = clock.today() + dt.timedelta(days=1)
    r = c.post("/settings/pack/", {"pack": "twenty-measures", "effective_from": str(start), "reason": ""})
    assert r.status_code == 400 and not PackSetting.objects.filter(pack="twenty-measures").exists()
    r = c.post("/settings/pack/", {"pack": "no-such-pack", "effective_from": str(start), "reason": "x"})
    assert r.status_code == 400
    r = c.post("/settings/pack/", {"pack": "twenty-measures", "effective_from": str(start), "reason": "二十条"})
    assert r.status_code == 302
    assert PackSetting.objects.filter(pack="twenty-measures", effective_from=start).exists()
    assert AuditEntry.objects.filter(action="policy.set_pack", reason="二十条").exists()


ID = "620102199001011233"


def test_register_and_edit_a_resident(city, worker, outsider, auditor, as_user):
    from cordon.places.models import Resident

    unit = city["unit_a"]
    c = en(as_user(worker))
    assert f'href="/areas/{unit.pk}/residents/new/"' in c.get(f"/areas/{unit.pk}/").content.decode()
    assert f'/areas/{unit.pk}/residents/new/' not in en(as_user(auditor)).get(f"/areas/{unit.pk}/").content.decode()
    assert as_user(outsider).get(f"/areas/{unit.pk}/residents/new/").status_code == 404
    assert c.get(f"/areas/{city['community_a'].pk}/residents/new/").status_code == 404  # not a unit
    r = c.post(f"/areas/{unit.pk}/residents/new/", {"household": "302", "name": "张三", "id_number": "123"})
    assert r.status_code == 400 and "field-error" in r.content.decode()
    r = c.post(f"/areas/{unit.pk}/residents/new/", {"household": "302", "name": "张三", "id_number": ID,
                                                    "phone": "13800000000", "lives_alone": "on"})
    assert r.status_code == 302, r.content.decode()
    res = Resident.objects.get(id_number=ID)
    assert res.household.number == "302" and res.lives_alone and res.unit_id == unit.pk
    # A second record with the same ID number: refused on the field.
    r = c.post(f"/areas/{unit.pk}/residents/new/", {"household": "303", "name": "李四", "id_number": ID})
    assert r.status_code == 400 and "already exists" in r.content.decode()
    # Edit: identifying fields are not shown back; empty leaves them; the flat moves the resident.
    page = c.get(f"/residents/{res.pk}/edit/").content.decode()
    assert ID not in page and "13800000000" not in page and "张三" not in page
    r = c.post(f"/residents/{res.pk}/edit/", {"household": "401", "treatment": "dialysis", "reason": "moved"})
    assert r.status_code == 302
    res.refresh_from_db()
    assert res.id_number == ID and res.name == "张三" and res.treatment == "dialysis" and not res.lives_alone
    assert res.household.number == "401"
    assert AuditEntry.objects.filter(action="resident.update", object_id=str(res.pk)).exists()
    assert as_user(outsider).get(f"/residents/{res.pk}/edit/").status_code == 404
    assert as_user(auditor).get(f"/residents/{res.pk}/edit/").status_code == 403

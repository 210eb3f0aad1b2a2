"""The pass check's cost over HTTP (issue 17: p99 under 20 ms under 50 checkpoint clients): one
``POST /api/passes/check`` with a bearer token is five statements (the token with its user and grants, the area,
the pass with its holder's status, the log row, its audit row) whatever the answer, and nothing about a pass is
kept between checks: a revocation is refused by the very next check."""
import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cordon.core import clock
from cordon.core.actions import do_create_token, do_create_user, do_revoke_token
from cordon.core.models import AuditEntry, Grant
from cordon.passes import actions, signing
from cordon.passes.models import CheckLog


@pytest.fixture
def officer(city):
    user, _g = do_create_user("checkpoint_cost", "pw-2022-x", role="checkpoint_officer", area=city["district"],
                              actor="test", check_password=False)
    return user


@pytest.fixture
def rider_pass(city):
    today = clock.today()
    return actions.do_issue_pass(kind="delivery", areas=[city["street"]], valid_from=today,
                                 valid_to=today + dt.timedelta(days=3), holder=city["resident_a2"], actor="test",
                                 reason="rider")


def _post(token, body):
    return Client().post("/api/passes/check", json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def _statements(token, body):
    with CaptureQueriesContext(connection) as q:
        r = _post(token, body)
    assert r.status_code == 200, r.content
    return r.json(), [x["sql"] for x in q.captured_queries if x["sql"].split()[0] not in ("SAVEPOINT", "RELEASE")]


def test_a_check_over_http_is_five_statements_and_sees_a_revocation_at_once(city, officer, rider_pass):
    token = do_create_token(officer, "scanner", actor="test")[1]
    # the first use stamps the token's last use; the first signed token read makes the process keep the key
    _post(token, {"token": signing.token_for(rider_pass), "area_id": city["unit_a"].pk})
    for body in ({"code": rider_pass.code, "area_id": city["unit_a"].pk},
                 {"token": signing.token_for(rider_pass), "area_id": city["unit_a"].pk}):
        answer, sql = _statements(token, body)
        assert answer["result"] == "allowed"
        assert len(sql) == 5, sql
        assert [s.split()[0] for s in sql] == ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT"]
    actions.do_revoke_pass(rider_pass, reason="rider left the platform", actor="test")
    answer, sql = _statements(token, {"code": rider_pass.code, "area_id": city["unit_a"].pk})
    assert (answer["result"], answer["reason"], len(sql)) == ("refused", "revoked", 5)
    forged = signing.token_for(rider_pass)
    forged = forged[:-3] + ("A" if forged[-3] != "A" else "B") + forged[-2:]
    answer, _sql = _statements(token, {"token": forged, "area_id": city["unit_a"].pk})
    assert (answer["result"], answer["reason"], answer["pass_id"]) == ("refused", "invalid", None)
    # every check logged, each with its audit row
    assert CheckLog.objects.count() == 5 == AuditEntry.objects.filter(action="pass.check").count()


def test_bearer_token_read_with_its_grants(city, officer, rider_pass):
    """The token, its user and their grants in one read: a revoked token or an inactive user is refused (401), a
    user with no grant is still known (403, not 401), and a grant given is in force on the next request."""
    token = do_create_token(officer, "scanner", actor="test")[1]
    body = {"code": rider_pass.code, "area_id": city["unit_a"].pk}
    assert _post(token, body).status_code == 200
    bare, grant = do_create_user("no_grants", "pw-2022-x", role="checkpoint_officer", area=city["street"],
                                 actor="test", check_password=False)
    grant.delete()  # an account whose grants were all withdrawn (set up directly: no action withdraws one)
    bare_token = do_create_token(bare, "scanner", actor="test")[1]
    assert _post(bare_token, body).status_code == 403
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {bare_token}").json()["grants"] == []
    Grant.objects.create(user=bare, role="checkpoint_officer", area=city["street"])
    assert _post(bare_token, body).status_code == 200
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert _post(token, body).status_code == 401
    do_revoke_token(bare.api_tokens.get(), actor="test")
    assert _post(bare_token, body).status_code == 401

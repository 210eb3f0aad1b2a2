"""The pass check's cost over HTTP (issue 17: p99 under 20 ms under 50 checkpoint clients): one
``POST /api/passes/check`` with a bearer token is four statements on PostgreSQL (the token with its user and
grants, the area, the pass with its holder's status, then the log row and its audit row in one statement, which
outside a transaction is its own: no BEGIN and COMMIT) and five elsewhere (the log row and its audit row apart, in
a transaction), whatever the answer, and nothing about a pass is kept between checks: a revocation is refused by
the very next check."""
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


def _expected():
    if connection.vendor == "postgresql":
        return ["SELECT", "SELECT", "SELECT", "WITH"]
    return ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT"]


def test_a_check_over_http_is_four_statements_and_sees_a_revocation_at_once(city, officer, rider_pass):
    token = do_create_token(officer, "scanner", actor="test")[1]
    # the first use stamps the token's last use; the first signed token read makes the process keep the key
    _post(token, {"token": signing.token_for(rider_pass), "area_id": city["unit_a"].pk})
    for body in ({"code": rider_pass.code, "area_id": city["unit_a"].pk},
                 {"token": signing.token_for(rider_pass), "area_id": city["unit_a"].pk}):
        answer, sql = _statements(token, body)
        assert answer["result"] == "allowed"
        assert [s.split()[0] for s in sql] == _expected(), sql
    actions.do_revoke_pass(rider_pass, reason="rider left the platform", actor="test")
    answer, sql = _statements(token, {"code": rider_pass.code, "area_id": city["unit_a"].pk})
    assert (answer["result"], answer["reason"], len(sql)) == ("refused", "revoked", len(_expected()))
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


def _audit_of(log_id):
    return AuditEntry.objects.get(action="pass.check", object_id=str(log_id))


def test_the_log_row_and_its_audit_row_hold_what_they_held(city, officer, rider_pass):
    """The log row and its audit row written together (one statement on PostgreSQL) hold what ``log.save()`` and
    ``audit.record`` wrote: the audit row names the log row by its new id, the officer, the area's scope."""
    token = do_create_token(officer, "scanner", actor="test")[1]
    for body, result in (({"code": rider_pass.code, "area_id": city["unit_a"].pk}, ("allowed", None)),
                         ({"code": "NOSUCHCODE", "area_id": city["unit_b"].pk}, ("refused", "invalid"))):
        answer, _sql = _statements(token, body)
        assert (answer["result"], answer["reason"]) == result
        log = CheckLog.objects.get(pk=answer["id"])
        area = city["unit_a"] if body["area_id"] == city["unit_a"].pk else city["unit_b"]
        assert (log.area_id, log.result, log.reason or None, log.officer) == (area.pk, *result, officer.username)
        assert log.scope_dict() == {f"{lv}_id": getattr(area, f"{lv}_id") for lv in access_levels()}
        e = _audit_of(log.pk)
        pass_id = rider_pass.pk if result[0] == "allowed" else None
        assert (e.actor_id, e.actor_name, e.object_type, e.object_repr) == (
            officer.pk, officer.username, "pass_check", f"check {pass_id or 'invalid'} at {area.path}")
        assert e.after == {"pass": pass_id, "area": area.path, "result": result[0], "reason": result[1],
                           "flagged": False}
        assert e.scope_dict() == log.scope_dict() and e.at >= log.at and e.occurred_at is None


def access_levels():
    from cordon.core.access import LEVELS

    return LEVELS


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_check_writes_both_rows_or_neither(city, officer, rider_pass, monkeypatch):
    """With no transaction around it (as under the web server) a check's writes are one statement on PostgreSQL,
    which is its own transaction; when the audit row cannot be written the log row is not kept either."""
    from cordon.core import audit

    assert not connection.in_atomic_block
    log, answer = actions.do_check_pass(code=rider_pass.code, area=city["unit_a"], actor=officer)
    assert answer.allowed and CheckLog.objects.filter(pk=log.pk).exists() and _audit_of(log.pk).actor_id == officer.pk
    before = CheckLog.objects.count()
    long_reason = "x" * (audit.MAX_REASON + 1)  # refused before anything is written
    with pytest.raises(actions.ActionError):
        actions.do_check_pass(code=rider_pass.code, area=city["unit_a"], actor=officer, reason=long_reason)
    # a write that fails half-way: PostgreSQL refuses the log row's too long officer name (so the one statement
    # writes nothing); elsewhere the audit row's save fails after the log row's (and the transaction undoes it)

    def refuse(*args, **kwargs):
        raise RuntimeError("audit row refused")

    monkeypatch.setattr("cordon.core.models.AuditEntry.save", refuse)
    too_long = "o" * (CheckLog._meta.get_field("officer").max_length + 1)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's error or the save's
        actions.do_check_pass(code=rider_pass.code, area=city["unit_a"], actor=too_long)
    assert CheckLog.objects.count() == before

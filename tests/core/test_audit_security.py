from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import DatabaseError, connection, transaction

from cordon.core import access, audit
from cordon.core.models import AuditEntry


@pytest.mark.django_db
def test_audit_rows_are_append_only(city):
    e = audit.record("test.thing", actor="test", object_type="x", object_id=1, after={"a": 1})
    with pytest.raises(RuntimeError):
        e.reason = "changed"
        e.save()
    with pytest.raises(RuntimeError):
        e.delete()
    with pytest.raises(RuntimeError):
        AuditEntry.objects.filter(pk=e.pk).update(reason="x")
    with pytest.raises(RuntimeError):
        AuditEntry.objects.filter(pk=e.pk).delete()
    # The database itself refuses an UPDATE that goes around the ORM.
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE core_auditentry SET reason = 'x' WHERE id = %s", [e.pk])
    assert AuditEntry.objects.get(pk=e.pk).reason == ""


@pytest.mark.django_db
def test_every_fixture_action_was_audited(city):
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("resident.create") == 3
    assert actions.count("household.create") == 2
    assert actions.count("area.create") == 10  # district, street, and 2 each of community..unit


@pytest.mark.django_db
def test_audit_scoped_to_jurisdiction(city, personas):
    from cordon.core.actions import do_create_user

    district_auditor, _ = do_create_user("da", "test-pass-2022", role="auditor", area=city["district"])
    rows = AuditEntry.objects.for_user(district_auditor, access.AUDIT)
    assert rows.exists()
    assert not rows.filter(district_id__isnull=True).exists()
    assert not AuditEntry.objects.for_user(personas["worker"], access.AUDIT).exists()


@pytest.mark.django_db
def test_login_is_audited_and_locks_out(city, worker, client):
    r = client.post("/login/", {"username": "worker_a", "password": "test-pass-2022"})
    assert r.status_code == 302
    assert AuditEntry.objects.filter(action="auth.login", actor_name="worker_a").count() == 1
    client.logout()
    from django.test import Client

    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "worker_a", "password": "wrong-password"})
    r = c.post("/login/", {"username": "worker_a", "password": "test-pass-2022"})
    assert r.status_code == 429
    assert AuditEntry.objects.filter(action="auth.login_failed").count() >= 5


def test_password_hasher_is_argon2(settings):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_secure_headers(client):
    r = client.get("/")
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in r["Content-Security-Policy"]


def test_check_deploy_is_clean(tmp_path):
    env = dict(os.environ, CORDON_PRODUCTION="1", CORDON_SECRET_KEY="x" * 20 + "-production-secret-" + "y" * 30,
               CORDON_ALLOWED_HOSTS="cordon.example.org", CORDON_HOME=str(tmp_path),
               DJANGO_SETTINGS_MODULE="cordon.config.settings")
    env.pop("CORDON_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' process, never in deployment
    out = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_needs_secret(tmp_path):
    env = dict(os.environ, CORDON_PRODUCTION="1", CORDON_HOME=str(tmp_path),
               DJANGO_SETTINGS_MODULE="cordon.config.settings")
    env.pop("CORDON_SECRET_KEY", None)
    out = subprocess.run([sys.executable, "-m", "django", "check"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "CORDON_SECRET_KEY" in out.stderr


@pytest.mark.django_db
def test_long_texts_are_clipped_not_lost(city):
    e = audit.record("x" * 200, actor="test", object_type="thing", object_id="1", rule="r" * 1000)
    e = AuditEntry.objects.get(pk=e.pk)
    assert len(e.rule) == 400 and e.rule.endswith("…") and len(e.action) == 80

"""The PostgreSQL backend's health check (``cordon.config.postgresql``): a quiet idle connection is kept without
a statement; one the server has ended (a restart terminates every backend) is found out before the request's
first statement, which then runs on a new connection."""
from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_pg

pytestmark = pytest.mark.django_db(transaction=True)


def _pg():
    if connection.vendor != "postgresql":
        pytest.skip("the backend's health check is PostgreSQL's (SQLite has no server to lose)")


def _backend_pid() -> int:
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        return c.fetchone()[0]


def _terminate(pid: int) -> None:
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"],
                         dbname=s["NAME"], autocommit=True) as c:
        assert c.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        for _ in range(100):  # the backend is gone once the server no longer lists it
            if not c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)
    raise AssertionError("the backend outlived its termination")


def _next_request():
    """A web worker's next request on its kept connection: the request-start cleanup marks the health check
    due (``close_old_connections``; called directly here, the test settings may not keep connections), then the
    request's first statement makes it."""
    connection.health_check_done = False
    return _backend_pid()


def test_a_quiet_connection_is_kept_without_asking_the_server():
    _pg()
    pid = _backend_pid()
    with mock.patch.object(django_pg.DatabaseWrapper, "is_usable", side_effect=AssertionError("SELECT 1 sent")):
        assert connection.is_usable()
        assert _next_request() == pid  # kept: same backend, and no SELECT 1 sent


def test_a_connection_the_server_ended_is_replaced_before_the_first_statement():
    _pg()
    assert connection.health_check_enabled
    pid = _backend_pid()
    _terminate(pid)
    asked = mock.patch.object(django_pg.DatabaseWrapper, "is_usable", autospec=True,
                              side_effect=django_pg.DatabaseWrapper.is_usable)
    with asked as select_1:
        new = _next_request()  # no error: the request runs on a new connection
    assert new != pid
    assert select_1.call_count == 1  # the server's goodbye was waiting: asked, found dead, reconnected
    assert _next_request() == new


def test_a_connection_in_a_transaction_is_asked():
    _pg()
    from django.db import transaction

    with transaction.atomic():
        _backend_pid()
        with mock.patch.object(django_pg.DatabaseWrapper, "is_usable", return_value=True) as select_1:
            assert connection.is_usable()
        assert select_1.call_count == 1

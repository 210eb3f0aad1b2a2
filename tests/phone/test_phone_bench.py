"""``cordon bench phone`` reports what a sync request costs the server's worker (its access log's last field),
apart from the time it waited in the queue; and ``core.actions.serialize_all`` takes one lock per key."""
from __future__ import annotations

import pytest
from django.db import connection, transaction

from cordon.bench.phone import _server_ms


def test_server_time_per_sync_request_is_read_from_the_access_log(tmp_path):
    log = tmp_path / "access.log"
    lines = [f'127.0.0.1 - - [06/Dec/2026:20:00:00 +0800] "POST /api/phone/sync HTTP/1.1" 200 300 "-" "-" {us}'
             for us in (4000, 6000, 8000)]
    lines.append('127.0.0.1 - - [06/Dec/2026:20:00:00 +0800] "GET /api/openapi.json HTTP/1.1" 200 9 "-" "-" 90000')
    log.write_text("\n".join(lines) + "\n")
    assert _server_ms(log) == {"server_p50_ms": 6.0, "server_p99_ms": 8.0}
    assert _server_ms(tmp_path / "absent.log") == {"server_p50_ms": None, "server_p99_ms": None}


@pytest.mark.django_db
def test_serialize_all_holds_one_lock_per_key_until_the_transaction_ends():
    from cordon.core.actions import serialize_all

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's (SQLite serialises writers already)")

    def held():
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            return c.fetchone()[0]

    with transaction.atomic():
        serialize_all([("screening.tube", 1, "A-1"), ("screening.tube", 1, "A-2"), ("screening.tube", 1, "A-1")])
        assert held() == 2
        serialize_all([("screening.tube", 1, "A-3")])
        assert held() == 3

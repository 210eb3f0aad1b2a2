"""Django's PostgreSQL backend (``ENGINE = "cordon.config.postgresql"``), the same in every way but one: the
health check a request makes before its first statement (``CONN_HEALTH_CHECKS``; the web workers keep their
connection ``CONN_MAX_AGE`` seconds) asks the server nothing when the connection is idle and nothing has
arrived on its socket.

Django's check is a ``SELECT 1``, a round trip before every request's first statement. An idle connection the server has ended (a restart, a
terminated backend, an idle timeout) has the server's goodbye or the end of the stream waiting on its socket:
then, and whenever something else is waiting or a transaction is open, the ``SELECT 1`` runs as before and
decides. A connection that is cut without the server's word (a dead link) is not caught by either check before
the statement that times out on it."""
from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


def _quiet(conn) -> bool:
    """``conn`` is open and idle (no transaction) and nothing waits to be read on its socket."""
    if conn.closed or conn.info.transaction_status != pq.TransactionStatus.IDLE or not hasattr(select, "poll"):
        return False
    try:
        poll = select.poll()
        poll.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return not poll.poll(0)
    except (OSError, ValueError):
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        return self.connection is not None and (_quiet(self.connection) or super().is_usable())

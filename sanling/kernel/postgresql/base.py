"""Django's PostgreSQL backend, with a health check that skips the round trip on a
connection the server answered a moment ago.

CONN_HEALTH_CHECKS tests a kept connection before a request's first query. Django's test is
`SELECT 1`: a round trip to the server on every request — of a plain `attainment/` answer,
one of its two (docs/benchmarks.md). Here a connection is taken as it is when

- the server answered on it within the last TRUST_SECONDS (a statement run through Django's
  cursors, a `SELECT 1`, the connection being opened);
- it is idle (no transaction open or failed);
- its socket has nothing to read: a server that closed the connection — restarted,
  terminated it, timed it out, a PgBouncer gone — has left its FATAL message or an end of
  file there.

Anything else gets Django's `SELECT 1` as before: something to read, an open transaction, a
socket that cannot be polled, and above all a connection that has been quiet for longer —
a database host that crashed or failed over, or a NAT that dropped an idle connection, says
nothing on the socket until the next write is answered by a reset, which `SELECT 1` meets
and a poll would not. Within the trust window such a death costs the request that meets it
(as it costs the requests in flight when it happens), and the next one reconnects.
"""

from __future__ import annotations

import select
import time

from django.db.backends import utils
from django.db.backends.postgresql import base

IDLE = 0  # libpq's PQTRANS_IDLE (psycopg2's TRANSACTION_STATUS_IDLE, psycopg's TransactionStatus.IDLE)
TRUST_SECONDS = 5.0


class _Answered:
    """Notes the time of each statement the server answered."""

    def _execute(self, *args):
        result = super()._execute(*args)
        self.db.answered_at = time.monotonic()
        return result

    def _executemany(self, *args):
        result = super()._executemany(*args)
        self.db.answered_at = time.monotonic()
        return result


class CursorWrapper(_Answered, utils.CursorWrapper):
    pass


class CursorDebugWrapper(_Answered, base.CursorDebugWrapper):
    pass


class DatabaseWrapper(base.DatabaseWrapper):
    answered_at: float | None = None  # time.monotonic() of the server's last proof of life

    def make_cursor(self, cursor):
        return CursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return CursorDebugWrapper(cursor, self)

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        self.answered_at = time.monotonic()
        return conn

    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        try:
            recent = self.answered_at is not None and time.monotonic() - self.answered_at < TRUST_SECONDS
            if recent and conn.info.transaction_status == IDLE:
                poll = select.poll()
                poll.register(conn.fileno(), select.POLLIN | select.POLLPRI)
                if not poll.poll(0):  # no FATAL message, no end of file, no error
                    return True
        except (OSError, ValueError, AttributeError):
            pass  # a socket that cannot be polled (or no poll here): ask the server
        usable = super().is_usable()
        if usable:
            self.answered_at = time.monotonic()
        return usable

"""Django's PostgreSQL backend, with a health check that costs no round trip when the
connection is idle and nothing has arrived on it.

CONN_HEALTH_CHECKS tests a kept connection before a request's first query. Django's test is
`SELECT 1`: a round trip to the server on every request — of a plain `attainment/` answer,
one of its two (docs/benchmarks.md). A connection the server has closed (restarted,
terminated, timed out, a PgBouncer gone) has said so on its socket: PostgreSQL sends a
FATAL message before it closes, the kernel an end of file or a reset. So a connection that
is idle (no transaction open) and has nothing to read is taken as usable, as it is; anything
else — something to read, a transaction open or failed, a socket that cannot be polled —
gets Django's `SELECT 1` as before. A socket that says nothing although its server is gone
(a network cut without a reset) would have kept `SELECT 1` waiting just the same.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

IDLE = 0  # libpq's PQTRANS_IDLE (psycopg2's TRANSACTION_STATUS_IDLE, psycopg's TransactionStatus.IDLE)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        try:
            if conn.info.transaction_status == IDLE:
                poll = select.poll()
                poll.register(conn.fileno(), select.POLLIN | select.POLLPRI)
                if not poll.poll(0):  # no FATAL message, no end of file, no error
                    return True
        except (OSError, ValueError):
            pass  # a socket that cannot be polled: ask the server
        return super().is_usable()

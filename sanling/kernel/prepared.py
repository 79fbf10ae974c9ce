"""Prepared statements on PostgreSQL for the hottest hand-written reads.

A page of the attainment list is planned in about 1 ms and executed in 0.2 ms: planning
was most of what PostgreSQL did for it. `fetchall` prepares a statement once per
connection (PREPARE; Django keeps connections for CONN_MAX_AGE) and then only executes
it, so PostgreSQL may keep a generic plan. The statement is named after its text, so
each shape of a query (which filters it has) is its own prepared statement.

Statements are prepared per server session, which a pooler in transaction mode does not
keep: behind PgBouncer's transaction pooling set DATABASE_PREPARED_STATEMENTS=false
(docs/deployment.md) and the statements are sent as they are. Other databases (SQLite)
run them as they are. A connection that is replaced (closed, reconnected after a
restart) starts with none prepared; a statement lost or made stale behind our back fails
one request and is prepared again under a new name.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.signals import connection_created
from django.dispatch import receiver

_PLACEHOLDER = re.compile(r"%%|%s")


@receiver(connection_created)
def _forget(sender, connection, **kwargs):
    connection.sanling_prepared = set()
    connection.sanling_generation = 0


def _numbered(sql: str) -> tuple[str, int]:
    """The statement with its %s placeholders as $1, $2 …, and their number."""
    n = 0

    def number(m: re.Match) -> str:
        nonlocal n
        if m.group(0) == "%%":
            return "%"
        n += 1
        return f"${n}"

    return _PLACEHOLDER.sub(number, sql), n


def fetchall(connection, sql: str, params: list) -> list[tuple]:
    """The rows of the statement `sql` (%s placeholders) with `params`, on `connection`."""
    with connection.cursor() as cur:
        if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
            cur.execute(sql, params)
            return cur.fetchall()
        if getattr(connection, "sanling_prepared", None) is None:
            _forget(None, connection)
        digest = hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]
        name = f"sl_{digest}_{connection.sanling_generation}"
        if name not in connection.sanling_prepared:
            text, n = _numbered(sql)
            if n != len(params):
                raise ValueError(f"{n} placeholders, {len(params)} parameters")
            cur.execute(f"PREPARE {name} AS {text}")  # no parameters: sent as it is
            connection.sanling_prepared.add(name)
        try:
            cur.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params)
        except DatabaseError:
            # gone (DEALLOCATE or DISCARD ALL behind our back) or stale (a migration changed
            # a column it returns): this request fails; the next prepares every statement
            # afresh under new names (the old ones may still exist in the session)
            connection.sanling_prepared = set()
            connection.sanling_generation += 1
            raise
        return cur.fetchall()

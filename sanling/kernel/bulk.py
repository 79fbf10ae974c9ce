"""Fast inserts of plain rows: COPY on PostgreSQL, bulk_create elsewhere (same result)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import connection
from django.db.models import Max


def bulk_insert(model, rows: Iterable[dict], fields: list[str]) -> int:
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**r) for r in rows], batch_size=2000)
        return len(rows)
    opts = model._meta
    # COPY takes no model defaults (PostgreSQL has no column defaults for them): a column
    # the rows leave out gets its field's default ("" for text), as bulk_create gives it
    given = {opts.get_field(f).attname for f in fields}
    defaults = {}
    for f in opts.concrete_fields:
        if f.attname in given or f.primary_key:
            continue
        value = f.get_default()
        if value is not None or f.null:
            defaults[f.attname] = value
    fields = [*fields, *defaults]
    cols = [opts.get_field(f).column for f in fields]
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows:
        r = {**defaults, **r}
        w.writerow(
            ["\\N" if (v := r[f]) is None else (json.dumps(v) if isinstance(v, (dict, list)) else v) for f in fields]
        )
    # Table and column names come from model metadata, never from input.
    sql = (
        f"COPY {connection.ops.quote_name(opts.db_table)} ({', '.join(map(connection.ops.quote_name, cols))}) "
        f"FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    )
    with connection.cursor() as cur:
        raw = cur.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            buf.seek(0)
            raw.copy_expert(sql, buf)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(buf.getvalue())
    return len(rows)


def next_id(model) -> int:
    """The first free id, for rows inserted with explicit ids (fast demo data)."""
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def reset_sequence(model) -> None:
    """After inserting explicit ids: move PostgreSQL's id sequence past them."""
    if connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cur.execute(sql)


@contextmanager
def indexes_rebuilt_after(*models):
    """For a bulk load on PostgreSQL: drop the tables' foreign keys, unique constraints
    and secondary indexes, load, then add them back — each built or checked in one pass
    over the table instead of kept up row by row (at 90 million item scores, the
    difference between minutes and most of an hour). The definitions are read back from
    the catalogue, so what comes back is exactly what was there; inside the caller's
    transaction, a failure rolls the drops back too. Elsewhere it does nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    qn = connection.ops.quote_name
    saved = []
    with connection.cursor() as cur:
        for model in models:
            table = model._meta.db_table
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [qn(table)],
            )
            constraints = cur.fetchall()
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [qn(table)],
            )
            indexes = cur.fetchall()
            # names and definitions come from the catalogue, never from input
            for name, _ in constraints:
                cur.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
            saved.append((table, constraints, indexes))
    yield
    with connection.cursor() as cur:
        for table, constraints, indexes in saved:
            for _, ddl in indexes:
                cur.execute(ddl)
            for name, definition in constraints:
                cur.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")

"""Roll attainment up from units to township, county, city and province.

One SQL statement (ROLLUP_SQL) writes a campaign-year's snapshot, on PostgreSQL and on
SQLite alike, for the full run and for the incremental update after one unit changed:

- full: every unit of the scope is counted per (township, kind) by the one grouped query
  of reports.attainment — first, into a temporary table, by a statement PostgreSQL may
  run on parallel workers (_count_all) — and the counts are summed up the tree by code
  prefix;
- incremental, for township T: T's units are counted afresh, and each ancestor of T gets
  its figures as they stood plus T's difference (T now − T as it stood in the snapshot).
  Only T and its ancestors are written; no other township is read.

Both upsert the snapshot rows in place (ids are stable across runs) inside one
transaction that holds the campaign-year's RollupState row locked, so readers see the
old figures or the new ones, two roll-ups never interleave, and a worker killed mid-way
leaves the previous snapshot intact. The statement's parts that differ between the two
databases are a few fragments (JSON, session settings), chosen in DIALECT.

The Python computation of the same figures lives in tests/reports/oracle.py, written
independently, and the tests compare every field of every row with it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, FilteredRelation, Max, Min, Q, QuerySet
from django.utils import timezone

from standards.models import Campaign
from standards.selectors import targets_for
from units import history
from units.history import AS_OF
from units.models import PREFIX_LENGTH, Level, Region, category_case

from . import attainment
from .models import AttainmentHistory, AttainmentSnapshot, RollupState, ZeroBreak

Progress = Callable[[str, int, int], None]


class Cancelled(Exception):
    """Raised by a progress callback to stop a full roll-up: its transaction rolls back,
    the previous snapshot stays as it was."""


SNAPSHOT_FIELDS = [
    "campaign_id",
    "year",
    "region_id",
    "level",
    "category",
    "total_units",
    "attained_units",
    "rate",
    "target_rate",
    "met",
    "gap_units",
    "by_kind",
    "computed_at",
]
KEY_FIELDS = {"campaign_id", "year", "region_id", "category"}


def _tune_session() -> None:
    """Session settings for this transaction only (SET LOCAL). JIT off: PostgreSQL
    compiles these statements on every run (their cost estimates are high) and spends
    more on compiling than it saves (at 1 M units the snapshot statement took 2.06 s with
    JIT, 1.62 s without). work_mem from settings.ROLLUP_WORK_MEM: the full run's parallel
    hash of a year's assessments (≈ 70 MB at 1 M units) spills to disk in batches at the
    server's default of 4 MB; one roll-up runs at a time, so the memory is bounded.
    settings.ROLLUP_PARALLEL_WORKERS, when set, bounds the parallel workers of its count
    (a database host that also answers the pages keeps cores for them)."""
    if connection.vendor == "postgresql":
        config = {"jit": "off", "work_mem": settings.ROLLUP_WORK_MEM}
        if settings.ROLLUP_PARALLEL_WORKERS is not None:
            config["max_parallel_workers_per_gather"] = str(settings.ROLLUP_PARALLEL_WORKERS)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in config),
                [v for item in config.items() for v in item],
            )


def _lock_state(campaign: Campaign, year: int) -> RollupState:
    state = RollupState.objects.select_for_update().filter(campaign=campaign, year=year).first()
    if state is None:
        RollupState.objects.get_or_create(campaign=campaign, year=year)
        state = RollupState.objects.select_for_update().get(campaign=campaign, year=year)
    return state


def _close_day(campaign: Campaign, year: int, state: RollupState, now) -> None:
    """History keeps one row per region, category and day: the figures as they stood at
    the end of that day. The snapshot holds the current day's. Before the first write of
    a new day, the snapshot as last written — the closing figures of its day — is copied
    to history in the database (one INSERT … SELECT, once a day per campaign-year), so the
    roll-ups during the day rewrite only the snapshot. The caller holds the lock. Days are
    the portal's local days by the writing process's clock (the hosts keep time by NTP)."""
    if state.computed_at is None:
        return
    day = timezone.localdate(state.computed_at)
    if day >= timezone.localdate(now):
        return
    AttainmentHistory.objects.filter(campaign=campaign, year=year, day=day).delete()
    src = AttainmentSnapshot.objects.filter(campaign=campaign, year=year)
    select_sql, params = src.values_list(*SNAPSHOT_FIELDS).query.sql_with_params()
    qn = connection.ops.quote_name
    h = AttainmentHistory._meta
    cols = ", ".join(qn(h.get_field(f).column) for f in [*SNAPSHOT_FIELDS, "day"])
    # Identifiers come from model metadata; values are bound parameters.
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {qn(h.db_table)} ({cols}) SELECT q.*, %s FROM ({select_sql}) q",  # noqa: S608
            [connection.ops.adapt_datefield_value(day), *params],
        )


# --- the statement ---------------------------------------------------------------
#
# WITH tk      the one grouped query over units (built by the ORM from reports.attainment,
#              so the rule is not restated here): total and attained per (township, kind);
#      k       the same with the kind's category (the SQL CASE generated from
#              units.models.KIND_CATEGORY) and counts as int;
#      lk      figures per (region prefix, category, kind) — the part that differs:
#              full: the township rows summed to county, city and province prefixes, each
#              level from the one below (a few thousand rows at most);
#              incremental: T's fresh counts added to T's prefix and every ancestor's,
#              T's stored figures subtracted from the ancestors', the ancestors' stored
#              figures added — O(depth × kinds);
#      fig     per (prefix, category), with the split by kind as JSON (kinds with units);
#      rg      the regions to write (full: every region of the scope; incremental: T and
#              its ancestors inside the scope) and tg the campaign-year's targets;
#      reg     each region × category with its target: its own or its nearest ancestor's,
#              the target whose region prefix is the longest its code starts with;
#      res/gap rate, met and gap computed in integers, exactly: rate rounded half-up to
#              6 places, gap = max(0, ceil(target × total) − attained);
# INSERT … ON CONFLICT DO UPDATE: rows are updated in place (HOT updates on PostgreSQL's
# half-filled snapshot pages, reports migration 0001) and new regions inserted.

ROLLUP_SQL = """
WITH tk AS ({counts}),
k AS (
    SELECT {township_col} AS township_id, {kind_col} AS kind, {category} AS category,
           CAST(total AS INTEGER) AS t, CAST(attained AS INTEGER) AS a
    FROM tk),
{levels},
fig AS (
    SELECT p, category, CAST(sum(t) AS INTEGER) AS t, CAST(sum(a) AS INTEGER) AS a, {kind_json} AS by_kind
    FROM lk WHERE t <> 0 GROUP BY p, category),
rg AS ({regions}),
tg AS MATERIALIZED (SELECT substr(region_id, 1, {target_len}) AS prefix, category, rate FROM ({targets}) x),
cats AS ({categories}),
reg AS MATERIALIZED (
    SELECT rg.code, rg.level, cats.category, substr(rg.code, 1, {region_len}) AS match,
           (SELECT tg.rate FROM tg WHERE tg.category = cats.category AND substr(rg.code, 1, length(tg.prefix)) = tg.prefix
            ORDER BY length(tg.prefix) DESC LIMIT 1) AS target
    FROM rg CROSS JOIN cats),
res AS (
    SELECT reg.code, reg.level, reg.category, reg.target, COALESCE(fig.t, 0) AS t, COALESCE(fig.a, 0) AS a,
           COALESCE(fig.by_kind, '{{}}') AS by_kind
    FROM reg LEFT JOIN fig ON fig.p = reg.match AND fig.category = reg.category),
need AS (
    SELECT res.*,
           CASE WHEN target IS NULL THEN 0
                ELSE (CAST(round(target * 10000) AS BIGINT) * t + 9999) / 10000 - a END AS short
    FROM res)
INSERT INTO {table} ({columns})
SELECT %(campaign)s, %(year)s, code, level, category, t, a,
       CASE WHEN t = 0 THEN 0 ELSE ((2000000 * CAST(a AS BIGINT) + t) / (2 * t)) / 1000000.0 END,
       target, CASE WHEN target IS NULL THEN NULL ELSE short <= 0 END,
       CASE WHEN short > 0 THEN short ELSE 0 END, by_kind, %(now)s
FROM need WHERE true
ON CONFLICT ({key}) DO UPDATE SET {updates}
"""

FULL_LEVELS = """
t9 AS (SELECT substr(township_id, 1, 9) AS p, category, kind, t, a FROM k),
t6 AS (SELECT substr(p, 1, 6) AS p, category, kind, CAST(sum(t) AS INTEGER) AS t, CAST(sum(a) AS INTEGER) AS a
       FROM t9 GROUP BY substr(p, 1, 6), category, kind),
t4 AS (SELECT substr(p, 1, 4) AS p, category, kind, CAST(sum(t) AS INTEGER) AS t, CAST(sum(a) AS INTEGER) AS a
       FROM t6 GROUP BY substr(p, 1, 4), category, kind),
t2 AS (SELECT substr(p, 1, 2) AS p, category, kind, CAST(sum(t) AS INTEGER) AS t, CAST(sum(a) AS INTEGER) AS a
       FROM t4 GROUP BY substr(p, 1, 2), category, kind),
lk AS (SELECT * FROM t9 UNION ALL SELECT * FROM t6 UNION ALL SELECT * FROM t4 UNION ALL SELECT * FROM t2)"""

INCREMENTAL_LEVELS = """
paths AS ({paths}),
stored AS ({stored}),
lk AS (
    SELECT p, category, kind, CAST(sum(t) AS INTEGER) AS t, CAST(sum(a) AS INTEGER) AS a FROM (
        SELECT paths.p, k.category, k.kind, k.t, k.a FROM k CROSS JOIN paths
        UNION ALL
        SELECT paths.p, stored.category, stored.kind, -stored.t, -stored.a
        FROM stored CROSS JOIN paths WHERE stored.p = %(township)s AND paths.p <> %(township)s
        UNION ALL
        SELECT p, category, kind, t, a FROM stored WHERE p <> %(township)s) x
    GROUP BY p, category, kind)"""


@dataclass(frozen=True)
class Dialect:
    """The fragments that differ between the databases."""

    kind_json: str  # the split by kind, aggregated from lk's kind, t, a
    kind_join: str  # expands a snapshot row `s` into one row per kind, as `j`
    kind: str  # … and the kind, total and attained of that row
    total: str
    attained: str


DIALECT = {
    # Built as text, then cast: the same jsonb as jsonb_object_agg, measurably cheaper. A
    # kind is one of UnitKind's identifiers (a check constraint on units), so no escaping.
    "postgresql": Dialect(
        kind_json="""('{' || string_agg('"' || kind || '":[' || t || ',' || a || ']', ',') || '}')::jsonb""",
        kind_join="CROSS JOIN LATERAL jsonb_each(s.by_kind) AS j(kind, v)",
        kind="j.kind",
        total="(j.v->>0)::int",
        attained="(j.v->>1)::int",
    ),
    "sqlite": Dialect(
        kind_json="json_group_object(kind, json_array(t, a))",
        kind_join="CROSS JOIN json_each(s.by_kind) AS j",
        kind="j.key",
        total="CAST(json_extract(j.value, '$[0]') AS INTEGER)",
        attained="CAST(json_extract(j.value, '$[1]') AS INTEGER)",
    ),
}


def _prefix_len(column: str) -> str:
    """The code prefix length of a region of level `column`, from units.models.PREFIX_LENGTH."""
    whens = " ".join(f"WHEN '{level}' THEN {n}" for level, n in PREFIX_LENGTH.items())
    return f"CASE {column} {whens} END"


def _named(qs_or_sql, prefix: str, params: dict) -> str:
    """The SQL of a queryset (or a (sql, params) pair) with its positional parameters
    renamed %(prefix0)s, %(prefix1)s … and added to `params`, so the whole statement
    binds named parameters."""
    sql, pos = qs_or_sql.query.sql_with_params() if isinstance(qs_or_sql, QuerySet) else qs_or_sql
    pos = list(pos)
    counter = iter(range(len(pos)))

    def rename(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%%"
        i = next(counter)
        params[f"{prefix}{i}"] = pos[i]
        return f"%({prefix}{i})s"

    return re.sub(r"%%|%s", rename, sql)


def _counts(
    campaign: Campaign, year: int, prefix: str | None, params: dict, *, ids: tuple[int, int] | None = None
) -> str:
    """Total and attained units per (township, kind) as they stood at the year's end: one
    grouped query, or — when a later change reaches back to the year — one per part of
    units.history.units_as_of_parts, added up. The full run (no prefix) reads the broken
    units from the ZeroBreak rows _mark_breaks wrote, by a join; the incremental update
    of one township asks the incidents per unit (attainment.attained_q). With `ids`
    (lo, hi), only the units lo ≤ id < hi, their assessments and broken units: the
    range in each join's condition too, so PostgreSQL reads all three by index ranges
    and merges them in id order."""
    parts = []
    for part in attainment.scope_units_parts(campaign, year, prefix=prefix):
        joined = {}
        if ids is not None:
            part = part.filter(pk__gte=ids[0], pk__lt=ids[1])
            joined = {"unit_ids": ids}
        if prefix is None:
            breaks = Q(zero_breaks__campaign=campaign, zero_breaks__year=year)
            if ids is not None:
                breaks &= Q(zero_breaks__unit_id__gte=ids[0], zero_breaks__unit_id__lt=ids[1])
            part = part.annotate(zb=FilteredRelation("zero_breaks", condition=breaks))
            attained = attainment.passed_q(campaign, year) & Q(zb__id__isnull=True)
        else:
            attained = attainment.attained_q(campaign, year)
        parts.append(
            attainment.with_assessment(part, campaign, year, **joined)
            .values_list(AS_OF["township"], AS_OF["kind"])
            .annotate(total=Count("id"), attained=Count("id", filter=attained))
            .order_by()
        )
    if len(parts) == 1:
        return _named(parts[0], "u", params)
    township, kind = (connection.ops.quote_name(AS_OF[f]) for f in ("township", "kind"))
    union = " UNION ALL ".join(_named(p, f"u{i}_", params) for i, p in enumerate(parts))
    return (
        f"SELECT {township}, {kind}, SUM(total) AS total, SUM(attained) AS attained "  # noqa: S608
        f"FROM ({union}) parts GROUP BY {township}, {kind}"
    )


def _mark_breaks(campaign: Campaign, year: int) -> None:
    """Bring the campaign-year's ZeroBreak rows up to date: the distinct units of its
    breaking incidents (reports.attainment). Kept rather than rewritten — rows of units no
    longer broken deleted, new ones inserted — as from one run to the next few change.
    The caller holds the lock. On PostgreSQL one statement finds the units once (a
    data-modifying WITH: the delete and the insert see the same snapshot and touch
    disjoint rows); SQLite has no such WITH and is given the two statements."""
    units = attainment.breaking_incidents(campaign, year).values("unit_id").distinct().order_by()
    sql, params = units.query.sql_with_params()
    qn = connection.ops.quote_name
    meta = ZeroBreak._meta
    # identifiers from model metadata; values are bound parameters
    table, c = qn(meta.db_table), {f: qn(meta.get_field(f).column) for f in ("campaign", "year", "unit")}
    cols = ", ".join(c.values())
    mine = f"z.{c['campaign']} = %s AND z.{c['year']} = %s"
    insert = (
        f"INSERT INTO {table} ({cols}) SELECT %s, %s, q.unit_id FROM q "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} z WHERE {mine} AND z.{c['unit']} = q.unit_id)"
    )
    key = [campaign.pk, year]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"WITH q AS MATERIALIZED ({sql}), gone AS (DELETE FROM {table} z WHERE {mine} "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM q WHERE q.unit_id = z.{c['unit']})) {insert}",
                [*params, *key, *key, *key],
            )
            return
        ZeroBreak.objects.filter(campaign=campaign, year=year).exclude(unit_id__in=units).delete()
        cur.execute(f"WITH q AS ({sql}) {insert}", [*params, *key, *key])  # noqa: S608


def _stored_rows(campaign: Campaign, year: int, codes: list[str], params: dict) -> str:
    """The snapshot's split by kind of the regions `codes`, as (p, category, kind, t, a)."""
    meta = AttainmentSnapshot._meta
    qn = connection.ops.quote_name
    d = DIALECT[connection.vendor]
    params.update({f"sc{i}": c for i, c in enumerate(codes)})
    wanted = ", ".join(f"%(sc{i})s" for i in range(len(codes)))
    col = {
        f: qn(meta.get_field(f).column) for f in ("campaign_id", "year", "region_id", "level", "category", "by_kind")
    }
    return (
        f"SELECT substr(s.{col['region_id']}, 1, {_prefix_len('s.' + col['level'])}) AS p, "  # noqa: S608
        f"s.{col['category']} AS category, {d.kind} AS kind, {d.total} AS t, {d.attained} AS a "
        f"FROM {qn(meta.db_table)} s {d.kind_join} "
        f"WHERE s.{col['campaign_id']} = %(campaign)s AND s.{col['year']} = %(year)s "
        f"AND s.{col['region_id']} IN ({wanted})"
    )


def _tree(campaign: Campaign, year: int):
    """The regions of the campaign-year: the scope's subtree as it stood at the year's end
    (units.history), so a region merged or split later keeps its row for this year."""
    return history.regions_as_of(history.year_end(year), Region.objects.filter(code__startswith=campaign.scope.prefix))


def _path(campaign: Campaign, year: int, township: Region) -> list[Region]:
    """The township and its ancestors inside the campaign-year's tree."""
    return list(_tree(campaign, year).filter(code__in=township.ancestor_codes()).only("code", "level"))


def _statement(campaign: Campaign, year: int, now, *, township: Region | None = None) -> tuple[str, dict]:
    """The snapshot statement and its named parameters: the full run, or (with a
    township) the incremental update of that township and its ancestors."""
    params: dict = {
        "campaign": campaign.pk,
        "year": year,
        "now": connection.ops.adapt_datetimefield_value(now),
    }
    if township is None:
        counts = _counts_read()
        regions = _tree(campaign, year)
        levels = FULL_LEVELS
    else:
        path_regions = _path(campaign, year, township)
        path = [r.code for r in path_regions]
        counts = _counts(campaign, year, township.prefix, params)
        regions = Region.objects.filter(code__in=path)
        params["township"] = township.prefix
        params.update({f"pp{i}": r.prefix for i, r in enumerate(path_regions)})
        paths = " UNION ALL ".join(f"SELECT %(pp{i})s AS p" for i in range(len(path_regions)))
        levels = INCREMENTAL_LEVELS.format(paths=paths, stored=_stored_rows(campaign, year, path, params))
    params.update({f"cat{i}": c for i, c in enumerate(dict.fromkeys(campaign.categories))})
    categories = " UNION ALL ".join(
        f"SELECT %(cat{i})s AS category" for i in range(len(dict.fromkeys(campaign.categories)))
    )
    targets = (
        targets_for(campaign, year)
        .annotate(region_level=F("region__level"))
        .values_list("region_id", "region_level", "category", "rate")
    )
    qn = connection.ops.quote_name
    meta = AttainmentSnapshot._meta
    col = {f: qn(meta.get_field(f).column) for f in SNAPSHOT_FIELDS}
    sql = ROLLUP_SQL.format(
        counts=counts,
        township_col=qn(AS_OF["township"]),
        kind_col=qn(AS_OF["kind"]),
        category=category_case(qn(AS_OF["kind"])),
        levels=levels,
        kind_json=DIALECT[connection.vendor].kind_json,
        regions=_named(regions.values_list("code", "level").order_by(), "r", params),
        targets=_named(targets.order_by(), "g", params),
        target_len=_prefix_len("x.region_level"),
        region_len=_prefix_len("rg.level"),
        categories=categories,
        table=qn(meta.db_table),
        columns=", ".join(col.values()),
        key=", ".join(col[f] for f in SNAPSHOT_FIELDS if f in KEY_FIELDS),
        updates=", ".join(f"{c} = excluded.{c}" for f, c in col.items() if f not in KEY_FIELDS),
    )
    return sql, params


COUNTS_TABLE = "rollup_counts"


def _batches(batch: int) -> list[tuple[int, int]]:
    """The units' ids in ranges of `batch` (two index reads: the smallest and the largest)."""
    from units.models import Unit

    first, last = Unit.objects.aggregate(first=Min("pk"), last=Max("pk")).values()
    first, last = first or 0, last or 0
    return [(lo, lo + batch) for lo in range(first, last + 1, batch)]


def _counts_read() -> str:
    """The counts as the snapshot statement reads them: one row per (township, kind),
    summed over the batches (the table holds one row per batch and pair)."""
    township, kind = (connection.ops.quote_name(AS_OF[f]) for f in ("township", "kind"))
    return (
        f"SELECT {township}, {kind}, SUM(total) AS total, SUM(attained) AS attained "  # noqa: S608 - constant names
        f"FROM {COUNTS_TABLE} GROUP BY {township}, {kind}"
    )


def _count_all(campaign: Campaign, year: int, say: Progress) -> None:
    """The full run's counts per (township, kind) into a temporary table, by statements
    of their own: PostgreSQL plans no parallel workers for a statement that writes (the
    snapshot's INSERT … ON CONFLICT), but does for CREATE TABLE … AS, so the one scan of
    every unit, assessment and incident — nearly all of a full run — runs on every core
    the server allows. The snapshot statement then reads a few thousand rows.

    With settings.ROLLUP_BATCH_UNITS the units are counted in id ranges of that many,
    one statement each, reporting progress (and so open to cancelling) after each, and
    resting ROLLUP_BATCH_PAUSE × the batch's own time after it: on a database host
    that also answers the portal's pages, a paced run leaves cores to them for as long
    as it runs (docs/benchmarks.md: 5M units under the mixed load)."""
    _mark_breaks(campaign, year)
    batch, pause = settings.ROLLUP_BATCH_UNITS, settings.ROLLUP_BATCH_PAUSE
    ranges = _batches(batch) if batch else [None]
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {COUNTS_TABLE}")
        say("count", 0, len(ranges))
        for i, ids in enumerate(ranges):
            started = time.monotonic()
            params: dict = {}
            counts = _counts(campaign, year, None, params, ids=ids)
            into = f"CREATE TEMPORARY TABLE {COUNTS_TABLE} AS" if i == 0 else f"INSERT INTO {COUNTS_TABLE}"
            # the table's name is a constant; the counts' values are bound parameters
            cur.execute(f"{into} {counts}", params)  # noqa: S608
            say("count", i + 1, len(ranges))
            if pause and i + 1 < len(ranges):
                time.sleep((time.monotonic() - started) * pause)


def _write(campaign: Campaign, year: int, now, *, township: Region | None = None, say: Progress | None = None) -> int:
    if township is None:
        _count_all(campaign, year, say or (lambda *a: None))
    sql, params = _statement(campaign, year, now, township=township)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        written = cur.rowcount
        if township is None:
            cur.execute(f"DROP TABLE {COUNTS_TABLE}")
    if written < 0:  # SQLite reports no row count for a statement that starts with WITH
        written = AttainmentSnapshot.objects.filter(campaign=campaign, year=year, computed_at=now).count()
    return written


def run(*, campaign_id: int, year: int, progress: Progress | None = None) -> int:
    """Full roll-up of one campaign-year. Idempotent. Returns the number of snapshot rows."""
    say = progress or (lambda *a: None)
    campaign = Campaign.objects.select_related("scope").get(pk=campaign_id)
    started = time.monotonic()
    with transaction.atomic():
        _tune_session()
        state = _lock_state(campaign, year)
        now = timezone.now()
        _close_day(campaign, year, state, now)
        written = _write(campaign, year, now, say=say)
        say("write", 1, 1)
        # Every row of the scope was just written with computed_at = now: the others belong
        # to regions no longer in it.
        AttainmentSnapshot.objects.filter(campaign=campaign, year=year).exclude(computed_at=now).delete()
        state.computed_at = now
        state.duration_ms = int((time.monotonic() - started) * 1000)
        state.dirty = False
        state.dirty_since = None
        state.version += 1
        state.save()
        say("done", 1, 1)
    return written


def run_for_township(*, campaign_id: int, year: int, township_code: str) -> None:
    """Incremental update after a unit of this township changed: the same statement,
    for the township and its ancestors."""
    campaign = Campaign.objects.select_related("scope").get(pk=campaign_id)
    if not campaign.covers_region(township_code):
        return
    township = Region.objects.filter(pk=township_code, level=Level.TOWNSHIP).first()
    if township is None:
        return
    with transaction.atomic():
        _tune_session()
        state = _lock_state(campaign, year)
        if state.computed_at is not None and _path_is_stored(campaign, year, township):
            now = timezone.now()  # one reading: the day closed and the day written must agree
            _close_day(campaign, year, state, now)
            _write(campaign, year, now, township=township)
            RollupState.objects.filter(pk=state.pk).update(computed_at=now, version=F("version") + 1)
            return
    # No snapshot yet, or not one this update can build on: build the whole one.
    run(campaign_id=campaign_id, year=year)


def _path_is_stored(campaign: Campaign, year: int, township: Region) -> bool:
    """The difference is added to what is stored: every region of the township's path must
    have its row for exactly the campaign's categories. A region created, a scope widened
    or a category added or removed since the last full run breaks that (one query)."""
    path = [r.code for r in _path(campaign, year, township)]
    if township.code not in path:
        return False  # not a township of that year's tree
    stored = set(
        AttainmentSnapshot.objects.filter(campaign=campaign, year=year, region_id__in=path).values_list(
            "region_id", "category"
        )
    )
    return stored == {(code, cat) for code in path for cat in campaign.categories}


def mark_dirty(*, campaign_id: int, year: int) -> None:
    """Record that figures are stale and an update could not be queued."""
    state, _ = RollupState.objects.get_or_create(campaign_id=campaign_id, year=year)
    RollupState.objects.filter(pk=state.pk, dirty=False).update(dirty=True, dirty_since=timezone.now())


def unit_rollup_targets(unit_id: int, year: int | None = None) -> list[tuple[int, int, str]]:
    """(campaign id, year, township code) to update after a change to a unit's assessment
    or incidents: for each year, the township the unit belonged to at that year's end."""
    from units.models import Unit

    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        return []
    out = []
    for c in Campaign.objects.filter(active=True).select_related("scope"):
        for y in [year] if year is not None else c.years:
            township = history.township_on(unit, history.year_end(y)) if c.covers_year(y) else None
            if township is not None and c.covers_region(township):
                out.append((c.pk, y, township))
    return out


def townships_rollup_targets(
    townships: list[str], year: int | None = None, *, from_year: int | None = None
) -> list[tuple[int, int, str]]:
    """(campaign id, year, township code) to update after a change in these townships:
    every active campaign covering each, for `year`, or its years from `from_year` on (a
    change effective in a year leaves the years before it as they were)."""
    out = []
    campaigns = list(Campaign.objects.filter(active=True).select_related("scope"))
    for code in dict.fromkeys(townships):
        for c in campaigns:
            if not c.covers_region(code):
                continue
            for y in [year] if year is not None else c.years:
                if c.covers_year(y) and (from_year is None or y >= from_year):
                    out.append((c.pk, y, code))
    return out

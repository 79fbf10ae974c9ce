"""Roll attainment up from units to township, county, city and province.

One grouped query counts total and attained units per (township, category) in the
database; the higher levels are sums of those township rows by code prefix (a few
thousand rows at most — never a loop over units). The results replace the campaign-year's
snapshot inside one transaction that holds the campaign-year's RollupState row locked,
so readers see the old snapshot or the new one, two roll-ups never interleave, and a
worker killed mid-way leaves the previous snapshot intact.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from sanling.bulk import bulk_insert
from standards.models import Campaign, Target
from units.models import PREFIX_LENGTH, Level, Region, UnitKind, category_of

from . import attainment
from .models import AttainmentHistory, AttainmentSnapshot, RollupState

LEVELS_UP = [Level.TOWNSHIP, Level.COUNTY, Level.CITY, Level.PROVINCE]
RATE_PLACES = Decimal("0.000001")

Progress = Callable[[str, int, int], None]


@dataclass
class Figures:
    total: int = 0
    attained: int = 0
    by_kind: dict = field(default_factory=dict)

    def add(self, kind: str, total: int, attained: int) -> None:
        self.total += total
        self.attained += attained
        k = self.by_kind.setdefault(kind, [0, 0])
        k[0] += total
        k[1] += attained


def gap_units(target: Decimal | None, total: int, attained: int) -> int:
    """How many more units must attain: max(0, ceil(target × total) − attained)."""
    if target is None:
        return 0
    return max(0, math.ceil(target * total) - attained)


def rate_of(total: int, attained: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(attained) / Decimal(total)).quantize(RATE_PLACES, ROUND_HALF_UP)


def township_counts(campaign: Campaign, year: int, *, prefix: str | None = None) -> dict[tuple[str, str], Figures]:
    """The one query over units: (township code, category) -> total and attained, with
    the split by kind (grouped by kind in SQL; the category follows from the kind).
    Tuples, not dicts, and one pass: at 1 M units this is ~50,000 rows."""
    qs = attainment.with_assessment(attainment.scope_units(campaign, prefix=prefix), campaign, year)
    grouped = (
        qs.values_list("township_id", "kind")
        .annotate(total=Count("id"), attained=Count("id", filter=attainment.attained_q(campaign, year)))
        .order_by()
    )
    # The ORM builds the SQL; the rows (plain strings and integers) are read straight off
    # the cursor, skipping per-row converters.
    sql, params = grouped.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    category = {k: str(category_of(k)) for k in UnitKind.values}
    out: dict[tuple[str, str], Figures] = {}
    for township, kind, total, attained in rows:
        key = (township, category[kind])
        f = out.get(key)
        if f is None:
            f = out[key] = Figures()
        f.total += total
        f.attained += attained
        f.by_kind[kind] = [total, attained]  # one row per (township, kind)
    return out


class TargetResolver:
    """Own target or nearest ancestor's, for one campaign-year (one query)."""

    def __init__(self, campaign: Campaign, year: int):
        self.targets = {
            (t.region_id, t.category): t.rate
            for t in Target.objects.filter(campaign=campaign, year=year).only("region_id", "category", "rate")
        }

    def for_region(self, region: Region, category: str) -> Decimal | None:
        for code in region.ancestor_codes():
            rate = self.targets.get((code, category))
            if rate is not None:
                return rate
        return None


def _regions_in_scope(prefix: str) -> list[Region]:
    return list(Region.objects.filter(code__startswith=prefix).only("code", "level", "name"))


def _merge(into: dict, key, f: Figures) -> None:
    s = into.get(key)
    if s is None:
        s = into[key] = Figures()
    s.total += f.total
    s.attained += f.attained
    for kind, (t, a) in f.by_kind.items():
        k = s.by_kind.get(kind)
        if k is None:
            s.by_kind[kind] = [t, a]
        else:
            k[0] += t
            k[1] += a


def _aggregate(
    regions: list[Region], township_figs: dict[tuple[str, str], Figures], categories: list[str]
) -> dict[tuple[str, str], Figures]:
    """Sum township figures into every region of the list by code prefix, level by level
    (townships into county prefixes, those into city prefixes, …), so each level only
    touches the rows of the level below."""
    # Township codes are unique in their first 9 digits: the township rows are the level.
    n = PREFIX_LENGTH[Level.TOWNSHIP]
    by_prefix: dict[tuple[str, str], Figures] = {(tcode[:n], cat): f for (tcode, cat), f in township_figs.items()}
    below = dict(by_prefix)
    for lvl in LEVELS_UP[1:]:
        n = PREFIX_LENGTH[lvl]
        level: dict[tuple[str, str], Figures] = {}
        for (p, cat), f in below.items():
            _merge(level, (p[:n], cat), f)
        by_prefix.update(level)
        below = level
    return {(r.code, cat): by_prefix.get((r.prefix, cat), Figures()) for r in regions for cat in categories}


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


def _rows(campaign, year, regions, figs, resolver, now) -> list[dict]:
    by_code = {r.code: r for r in regions}
    out = []
    for (code, cat), f in figs.items():
        region = by_code[code]
        target = resolver.for_region(region, cat)
        gap = gap_units(target, f.total, f.attained)
        out.append(
            {
                "campaign_id": campaign.pk,
                "year": year,
                "region_id": code,
                "level": region.level,
                "category": cat,
                "total_units": f.total,
                "attained_units": f.attained,
                "rate": rate_of(f.total, f.attained),
                "target_rate": target,
                "met": None if target is None else gap == 0,
                "gap_units": gap,
                "by_kind": f.by_kind,
                "computed_at": now,
            }
        )
    return out


def _tune_session() -> None:
    """PostgreSQL's JIT compiles these statements on every run (their cost estimates are
    high) and spends more on compiling than it saves: measured at 1 M units, the snapshot
    statement took 2.06 s with JIT and 1.62 s without. Off for this transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")


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
            [day, *params],
        )


# PostgreSQL: the whole snapshot in one statement, computed where the units are.
# - tk: the one grouped query over units (the ORM builds it from reports.attainment, so the
#   rule is not restated here): total and attained per (township, kind).
# - lv, fig: summed to county, city and province prefixes in one GROUPING SETS pass, then
#   per region and category, with the split by kind built as JSON text (the same jsonb as
#   jsonb_object_agg, cheaper; a kind is one of UnitKind's identifiers — a check constraint
#   on units guarantees it — so it needs no escaping). Counts are summed as int: sum(int)
#   is bigint, sum(bigint) would be numeric, measurably slower.
# - reg: every region of the scope × category, with its target: the region's own or its
#   nearest ancestor's, i.e. the longest target prefix its code starts with (TargetResolver
#   walks the same ancestors in Python).
# - rate, met and gap exactly as rate_of() and gap_units() compute them (numeric division
#   rounded half-up to 6 places; ceil).
# - The rows are upserted: a region already in the snapshot is updated in place, which on
#   the snapshot's half-filled pages (fillfactor, migration 0007) is a HOT update writing
#   no index entry. Rows of regions gone from the scope are deleted after.
# The property test checks this path against the brute-force rule on PostgreSQL, as it
# checks the Python path on SQLite; test_rollup_paths compares the two field by field.
PG_SNAPSHOT_SQL = """
WITH tk AS ({grouped}),
k AS (
    SELECT township_id, kind, total::int AS total, attained::int AS attained,
           CASE WHEN kind = ANY(%s::text[]) THEN 'village_community' ELSE 'enterprise_institution' END AS category
    FROM tk),
lv AS (
    SELECT township_id AS p, category, kind, total AS t, attained AS a FROM k
    UNION ALL
    SELECT COALESCE(s6, s4, s2), category, kind, sum(total)::int, sum(attained)::int
    FROM (SELECT substr(township_id, 1, 6) AS s6, substr(township_id, 1, 4) AS s4, substr(township_id, 1, 2) AS s2,
                 category, kind, total, attained FROM k) x
    GROUP BY GROUPING SETS ((s6, category, kind), (s4, category, kind), (s2, category, kind))),
fig AS (
    SELECT p, category, sum(t) AS t, sum(a) AS a,
           ('{{' || string_agg('"' || kind || '":[' || t || ',' || a || ']', ',') || '}}')::jsonb AS by_kind
    FROM lv GROUP BY p, category),
rg AS ({regions}),
lvl AS (SELECT * FROM unnest(%s::text[], %s::int[]) AS l(level, n)),
tg AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::numeric[]) AS t(prefix, category, rate)),
reg AS MATERIALIZED (  -- once: the target is read by several columns below
    SELECT rg.code, rg.level, c.category,
           CASE WHEN rg.level = %s THEN rg.code ELSE substr(rg.code, 1, lvl.n) END AS match,
           (SELECT tg.rate FROM tg WHERE tg.category = c.category AND starts_with(rg.code, tg.prefix)
            ORDER BY length(tg.prefix) DESC LIMIT 1) AS target
    FROM rg JOIN lvl ON lvl.level = rg.level CROSS JOIN unnest(%s::text[]) AS c(category)),
res AS (
    SELECT reg.code, reg.level, reg.category, reg.target, COALESCE(fig.t, 0) AS t, COALESCE(fig.a, 0) AS a,
           COALESCE(fig.by_kind, '{{}}'::jsonb) AS by_kind
    FROM reg LEFT JOIN fig ON fig.p = reg.match AND fig.category = reg.category),
gap AS (
    SELECT *, CASE WHEN target IS NULL THEN 0 ELSE GREATEST(0, ceil(target * t) - a) END AS gap FROM res)
INSERT INTO {table} ({columns})
SELECT %s, %s, code, level, category, t, a,
       CASE WHEN t = 0 THEN 0 ELSE round(a::numeric / t, 6) END,
       target, CASE WHEN target IS NULL THEN NULL ELSE gap = 0 END, gap, by_kind, %s
FROM gap
ON CONFLICT ({campaign}, {year}, {region}, {category}) DO UPDATE SET {updates}
"""


def pg_array(values) -> str:
    """One PostgreSQL array literal for a list of strings, numbers or None. Sent as a
    single bound parameter: a Python list would be rendered as one SQL literal per element,
    and parsing ~35,000 of them cost 0.2 s of planning at 1 M units."""

    def item(v):
        if v is None:
            return "NULL"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(item(v) for v in values) + "}"


def _write_snapshot_pg(campaign: Campaign, year: int, now) -> int:
    """Replace the campaign-year's snapshot (the caller holds its lock)."""
    grouped = (
        attainment.with_assessment(attainment.scope_units(campaign), campaign, year)
        .values_list("township_id", "kind")
        .annotate(total=Count("id"), attained=Count("id", filter=attainment.attained_q(campaign, year)))
        .order_by()
    )
    grouped_sql, grouped_params = grouped.query.sql_with_params()
    # Every region of the scope's subtree gets a row, with or without units.
    regions_sql, regions_params = (
        Region.objects.filter(code__startswith=campaign.scope.prefix)
        .values_list("code", "level")
        .order_by()
        .query.sql_with_params()
    )
    # The target in force is the region's own or its nearest ancestor's (TargetResolver):
    # the target whose region's prefix is the longest that the region's code starts with.
    targets = [
        (Region.prefix_of(code, level), cat, rate)
        for code, level, cat, rate in Target.objects.filter(campaign=campaign, year=year).values_list(
            "region_id", "region__level", "category", "rate"
        )
    ]
    qn = connection.ops.quote_name
    meta = AttainmentSnapshot._meta
    col = {f: qn(meta.get_field(f).column) for f in SNAPSHOT_FIELDS}
    key = {"campaign_id", "year", "region_id", "category"}
    # Identifiers come from model metadata; values are bound parameters.
    sql = PG_SNAPSHOT_SQL.format(
        table=qn(meta.db_table),
        grouped=grouped_sql,
        regions=regions_sql,
        columns=", ".join(col.values()),
        campaign=col["campaign_id"],
        year=col["year"],
        region=col["region_id"],
        category=col["category"],
        updates=", ".join(f"{c} = EXCLUDED.{c}" for f, c in col.items() if f not in key),
    )
    village_kinds = [k for k in UnitKind.values if category_of(k) == "village_community"]
    prefixes, target_cats, rates = list(zip(*targets, strict=True)) or [(), (), ()]
    with connection.cursor() as cur:
        cur.execute(
            sql,
            [
                *grouped_params,
                pg_array(village_kinds),
                *regions_params,
                pg_array(PREFIX_LENGTH),
                pg_array(PREFIX_LENGTH.values()),
                pg_array(prefixes),
                pg_array(target_cats),
                pg_array(rates),
                Level.TOWNSHIP,
                pg_array(dict.fromkeys(campaign.categories)),  # each once, as the Python path keys them
                campaign.pk,
                year,
                now,
            ],
        )
        written = cur.rowcount
    # Every row of the scope was just written with computed_at = now: the others belong
    # to regions no longer in it.
    AttainmentSnapshot.objects.filter(campaign=campaign, year=year).exclude(computed_at=now).delete()
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
        if connection.vendor == "postgresql":
            say("count", 0, 3)
            written = _write_snapshot_pg(campaign, year, now)
            say("write", 2, 3)
        else:
            say("count", 0, 3)
            # Every region of the scope's subtree gets a row, with or without units.
            regions = _regions_in_scope(campaign.scope.prefix)
            figs = township_counts(campaign, year)
            say("aggregate", 1, 3)
            all_figs = _aggregate(regions, figs, campaign.categories)
            rows = _rows(campaign, year, regions, all_figs, TargetResolver(campaign, year), now)
            say("write", 2, 3)
            AttainmentSnapshot.objects.filter(campaign=campaign, year=year).delete()
            bulk_insert(AttainmentSnapshot, rows, SNAPSHOT_FIELDS)
            written = len(rows)
        state.computed_at = now
        state.duration_ms = int((time.monotonic() - started) * 1000)
        state.dirty = False
        state.dirty_since = None
        state.version += 1
        state.save()
        say("done", 3, 3)
    return written


def run_for_township(*, campaign_id: int, year: int, township_code: str) -> None:
    """Incremental update after one unit changed: recount its township from units, then
    re-sum its ancestors from the township rows already in the snapshot."""
    campaign = Campaign.objects.select_related("scope").get(pk=campaign_id)
    if not township_code.startswith(campaign.scope.prefix):
        return
    with transaction.atomic():
        _tune_session()
        state = _lock_state(campaign, year)
        if state.computed_at is not None:
            now = timezone.now()  # one reading: the day closed and the day written must agree
            _close_day(campaign, year, state, now)
            _update_path(campaign, year, township_code, now)
            return
    # No snapshot yet to update incrementally: build the whole one.
    run(campaign_id=campaign_id, year=year)


def _update_path(campaign: Campaign, year: int, township_code: str, now) -> None:
    township = Region.objects.get(pk=township_code)
    path_codes = [c for c in township.ancestor_codes() if c.startswith(campaign.scope.prefix)]
    path = list(Region.objects.filter(code__in=path_codes))
    resolver = TargetResolver(campaign, year)
    figs = township_counts(campaign, year, prefix=township.prefix)
    t_figs = {(township.code, cat): figs.get((township.code, cat), Figures()) for cat in campaign.categories}
    _replace(campaign, year, _rows(campaign, year, [township], t_figs, resolver, now))
    for region in sorted(path, key=lambda r: -PREFIX_LENGTH[r.level]):
        if region.level == Level.TOWNSHIP:
            continue
        sums = AttainmentSnapshot.objects.filter(
            campaign=campaign,
            year=year,
            level=Level.TOWNSHIP,
            region__code__startswith=region.prefix,
        ).values("category", "by_kind")
        got: dict[str, Figures] = defaultdict(Figures)
        for s in sums:
            for kind, (t, a) in s["by_kind"].items():
                got[s["category"]].add(kind, t, a)
        r_figs = {(region.code, cat): got.get(cat, Figures()) for cat in campaign.categories}
        _replace(campaign, year, _rows(campaign, year, [region], r_figs, resolver, now))
    RollupState.objects.filter(campaign=campaign, year=year).update(computed_at=now, version=F("version") + 1)


def _replace(campaign, year, rows: list[dict]) -> None:
    AttainmentSnapshot.objects.filter(
        campaign=campaign, year=year, region_id__in=[r["region_id"] for r in rows]
    ).delete()
    bulk_insert(AttainmentSnapshot, rows, SNAPSHOT_FIELDS)


def mark_dirty(*, campaign_id: int, year: int) -> None:
    """Record that figures are stale and an update could not be queued."""
    state, _ = RollupState.objects.get_or_create(campaign_id=campaign_id, year=year)
    RollupState.objects.filter(pk=state.pk, dirty=False).update(dirty=True, dirty_since=timezone.now())


def unit_rollup_targets(unit_id: int, year: int | None = None) -> list[tuple[int, int, str]]:
    """(campaign id, year, township code) to update after a change to a unit."""
    from units.models import Unit

    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        return []
    out = []
    for c in attainment.campaigns_covering(unit):
        for y in [year] if year is not None else c.years:
            if c.start_year <= y <= c.end_year:
                out.append((c.pk, y, unit.township_id))
    return out

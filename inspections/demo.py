"""Deterministic demo assessments (with every item score) and incidents, generated fast:
assessments and incidents by bulk inserts (COPY on PostgreSQL), item scores set-wise from
a pool of score patterns, for the demo units of units.demo. Scores go through
scoring.compute, as an officer's would; all of it is demo data."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from sanling.kernel.bulk import bulk_insert, indexes_rebuilt_after, next_id, reset_sequence
from units.models import Unit

from . import scoring
from .models import Assessment, Incident, ItemScore

CHUNK = 20_000
REBUILD_AT = 200_000  # units from which a load rebuilds the indexes after (PostgreSQL)
# Distinct score patterns per category: each demo assessment takes one, picked from its
# id by a multiplicative hash the database computes too, so the item scores (≈ 20 a unit,
# 90 million at 5 million units) are written by one INSERT … SELECT rather than built in
# Python row by row.
PATTERNS = 1024
HASH = 2654435761  # Knuth's multiplicative constant


def pattern_of(assessment_id: int) -> int:
    return assessment_id * HASH % PATTERNS


def _patterns(rng: random.Random, items) -> list[tuple[dict, scoring.Result]]:
    """PATTERNS self-assessments of a category: most strong, some weak, veto items full
    marks or nothing — each with its result computed as an officer's would be."""
    out = []
    for _ in range(PATTERNS):
        strong = rng.random() < 0.85
        scores = {}
        for item in items:
            if strong:
                s = item.max_score if rng.random() < 0.8 else (item.max_score * Decimal(rng.randint(7, 9)) / 10)
            else:
                s = item.max_score * Decimal(rng.randint(4, 10)) / 10
            s = s.quantize(Decimal("0.1"), ROUND_HALF_UP)
            if item.veto and s < item.max_score:
                s = Decimal(0)  # a veto item counts full marks or nothing
            scores[item.id] = s
        out.append((scores, scoring.compute(items, scores)))
    return out


def _write_item_scores(campaign, year: int, first_id: int, patterns: dict) -> int:
    """Every item score of the demo assessments from id `first_id` on, set-wise: each
    assessment joined to its pattern (pattern_of, computed alike in SQL) of its unit's
    category. Identifiers come from model metadata; values are bound parameters."""
    qn = connection.ops.quote_name
    s_meta, a_meta, u_meta = ItemScore._meta, Assessment._meta, Unit._meta
    rows = [
        (cat, n, item_id, score)
        for cat, pats in patterns.items()
        for n, (scores, _) in enumerate(pats)
        for item_id, score in scores.items()
    ]
    col = lambda meta, f: qn(meta.get_field(f).column)  # noqa: E731
    targets = ["assessment", "item", "self_score", "note", "reviewer_note"]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS seed_pattern")
        cur.execute(
            "CREATE TEMPORARY TABLE seed_pattern (category varchar(40), pattern integer, item_id integer, "
            "score numeric(5, 1))"
        )
        cur.executemany("INSERT INTO seed_pattern VALUES (%s, %s, %s, %s)", rows)
        # Whatever plan the database picks, each assessment finds its pattern's rows by an
        # index: with no statistics on the fresh tables PostgreSQL once chose a nested loop
        # over every pattern row per assessment (minutes for a few thousand assessments)
        cur.execute("CREATE INDEX seed_pattern_idx ON seed_pattern (category, pattern)")
        cur.execute("ANALYZE seed_pattern")
        if connection.vendor == "postgresql":
            cur.execute(f"ANALYZE {qn(a_meta.db_table)}, {qn(u_meta.db_table)}")
        cur.execute(
            f"INSERT INTO {qn(s_meta.db_table)} ({', '.join(col(s_meta, f) for f in targets)}) "  # noqa: S608
            f"SELECT a.{col(a_meta, 'id')}, p.item_id, p.score, '', '' "
            f"FROM {qn(a_meta.db_table)} a JOIN {qn(u_meta.db_table)} u ON u.{col(u_meta, 'id')} = a.{col(a_meta, 'unit')} "
            f"JOIN seed_pattern p ON p.category = u.{col(u_meta, 'category')} "
            f"AND p.pattern = (CAST(a.{col(a_meta, 'id')} AS BIGINT) * {HASH}) %% {PATTERNS} "
            f"WHERE a.{col(a_meta, 'campaign')} = %s AND a.{col(a_meta, 'year')} = %s AND a.{col(a_meta, 'id')} >= %s",
            [campaign.id, year, first_id],
        )
        written = cur.rowcount
        cur.execute("DROP TABLE seed_pattern")
    return written


@transaction.atomic
def seed_assessments(*, campaign, year: int, seed: int, log=print) -> tuple[int, int, int]:
    """For every unit of the campaign's scope: a demo assessment with all item scores (most
    approved, some in other states, some units unassessed) and a few demo incidents."""
    rng = random.Random(seed * 7919 + year)  # noqa: S311 - deterministic demo data
    if Assessment.objects.filter(campaign=campaign, year=year, is_demo=True).exists():
        log(f"{campaign.slug} {year}: demo assessments already present; skipped")
        return 0, 0, 0
    items = {cat: list(scoring.applicable_items(campaign.standard, cat)) for cat in campaign.categories}
    patterns = {cat: _patterns(rng, items[cat]) for cat in campaign.categories}
    # every unit of the scope: the real villages and communities and the demo others
    units = list(Unit.objects.filter(campaign.unit_q()).values_list("id", "category").order_by("id"))
    a_id, i_id = next_id(Assessment), next_id(Incident)
    first_id = a_id
    # a past year's assessments were entered and decided in that year, not today
    moment = timezone.now()
    if year < timezone.localdate().year:
        moment = dt.datetime(year, 11, 20, 10, 0, tzinfo=timezone.get_current_timezone())
    now = moment.isoformat()
    decided = (moment + dt.timedelta(days=10)).isoformat() if year < timezone.localdate().year else now
    a_rows, i_rows = [], []
    counts = [0, 0, 0]
    # a large load drops the tables' indexes and constraints and rebuilds them after
    rebuild = contextlib.ExitStack()
    if len(units) >= REBUILD_AT:
        rebuild.enter_context(indexes_rebuilt_after(Assessment, ItemScore))

    def flush():
        for n, (model, rows) in enumerate(((Assessment, a_rows), (Incident, i_rows))):
            if rows:
                bulk_insert(model, rows, list(rows[0]))
                counts[2 * n] += len(rows)
                rows.clear()

    statuses = ["approved"] * 70 + ["submitted"] * 10 + ["returned"] * 4 + ["draft"] * 4 + [None] * 12
    # the current year is under way: fewer decided, more in the chain, in draft or not begun
    days = 365
    if year >= timezone.localdate().year:
        statuses = ["approved"] * 30 + ["submitted"] * 20 + ["returned"] * 6 + ["draft"] * 14 + [None] * 30
        days = max(1, (timezone.localdate() - dt.date(year, 1, 1)).days)  # incidents up to today
    for n_unit, (unit_id, cat) in enumerate(units):
        # Flush every CHUNK units, so memory stays flat whatever the number of units.
        if n_unit and n_unit % CHUNK == 0:
            flush()
        status = rng.choice(statuses)
        if status is not None:
            result = patterns[cat][pattern_of(a_id)][1]
            a_rows.append(
                {
                    "id": a_id,
                    "unit_id": unit_id,
                    "campaign_id": campaign.id,
                    "year": year,
                    "standard_id": campaign.standard_id,
                    "status": status,
                    "lock_version": 1,
                    "total_score": result.total,
                    "max_score": result.max_total,
                    "final_score": result.final,
                    "veto_failed": result.veto_failed,
                    "return_reason": "材料不全，请补充" if status == "returned" else "",
                    "overturn_reason": "",
                    "submitted_at": now if status != "draft" else None,
                    # submitted ones wait at some level of the chain, since a few days
                    "review_level": rng.choice(campaign.review_levels) if status == "submitted" else "",
                    "waiting_since": (moment - dt.timedelta(days=rng.randint(0, 20))).isoformat()
                    if status == "submitted"
                    else None,
                    "approved_at": decided if status == "approved" else None,
                    "reviewed_by_id": None,
                    "created_by_id": None,
                    "created_at": now,
                    "updated_at": now,
                    "is_demo": True,
                }
            )
            a_id += 1
        if rng.random() < 0.03:
            kind = rng.choice(
                [
                    "petition",
                    "public_safety",
                    "production_safety",
                    "criminal_case",
                    "public_order_case",
                    "homicide",
                    "dispute",
                ]
            )
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(days))
            i_rows.append(
                {
                    "id": i_id,
                    "unit_id": unit_id,
                    "kind": kind,
                    "occurred_on": day.isoformat(),
                    "description": "演示事件",
                    "status": "dismissed" if rng.random() < 0.1 else "confirmed",
                    "reason": "",
                    "severity": "general",
                    "source": "township",
                    "department_id": None,
                    "recorded_by_id": None,
                    "recorded_at": now,
                    "judged_by_id": None,
                    "judged_at": None,
                    "is_demo": True,
                }
            )
            i_id += 1
    flush()
    counts[1] = _write_item_scores(campaign, year, first_id, patterns)
    rebuild.close()  # indexes and constraints back: each built in one pass
    if year < timezone.localdate().year and connection.vendor != "postgresql":
        # bulk_create stamps auto_now fields with today (COPY writes the rows' own)
        Assessment.objects.filter(campaign=campaign, year=year, is_demo=True).update(
            created_at=moment, updated_at=moment
        )
    for model in (Assessment, ItemScore, Incident):
        reset_sequence(model)
    log(f"{campaign.slug} {year}: {counts[0]} assessments, {counts[1]} item scores, {counts[2]} incidents")
    return tuple(counts)

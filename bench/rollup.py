"""Benchmark the attainment roll-up on PostgreSQL.

    python bench/rollup.py --units 100000

Generates a demo province with seed_demo (assessments with all item scores, incidents)
in a throwaway PostgreSQL, then times in one run: the full roll-up; the naive per-unit
ORM loop (on a sample, extrapolated — it says so); and one hand-written SQL query, the
floor. Checks all three agree, prints the ratios, and with --redis also the time from
an approval to the province figure changing through a real Celery worker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from _setup import machine, seed, services

YEAR = 2022


FLOORS = ("floor", "township", "floor_nojit", "township_nojit", "joined", "single_key", "joined_kind")


def interleaved(fns: dict, rounds: int):
    """Run each function once per round, in turn; the median time of each, and the
    last result of each."""
    times = {name: [] for name in fns}
    results = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t)
    return {n: statistics.median(v) for n, v in times.items()}, results


def timed(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


TOWNSHIP_SQL = """
SELECT u.township_id, u.category, count(*) AS total,
       count(*) FILTER (WHERE a.status = 'approved' AND a.final_score >= %(pass)s AND NOT a.veto_failed
                          AND NOT EXISTS (SELECT 1 FROM inspections_incident i
                                          WHERE i.unit_id = u.id AND i.kind = ANY(%(kinds)s)
                                            AND i.occurred_on BETWEEN %(d0)s AND %(d1)s
                                            AND i.status <> 'dismissed'
                                            AND NOT (i.kind = ANY(%(petitions)s) AND i.higher_level)
                                            AND NOT (i.kind = ANY(%(disputes)s) AND i.resolution = 'resolved'
                                                     AND i.resolved_on <= %(d1)s))
                          AND NOT EXISTS (SELECT 1 FROM unnest(%(conds)s::text[]) AS k(kind)
                                          WHERE NOT EXISTS (SELECT 1 FROM inspections_unitcondition c
                                                            WHERE c.unit_id = u.id AND c.kind = k.kind
                                                              AND c.year = %(y)s AND c.status = 'confirmed'))
                         ) AS attained
FROM units_unit u
LEFT JOIN inspections_assessment a ON a.unit_id = u.id AND a.campaign_id = %(c)s AND a.year = %(y)s
WHERE u.active AND u.township_id LIKE %(prefix)s AND u.category = ANY(%(cats)s)
GROUP BY u.township_id, u.category
"""

# The floor: one hand-written statement giving the roll-up's result, total and attained
# units of every region at every level per category: the township counts above, summed
# to county, city and province prefixes with GROUPING SETS.
FLOOR_SQL = f"""
WITH t AS ({TOWNSHIP_SQL})
SELECT COALESCE(substr(township_id, 1, 9), c, ci, p) AS prefix, category, sum(total)::int, sum(attained)::int
FROM (SELECT *, substr(township_id, 1, 6) AS c, substr(township_id, 1, 4) AS ci, substr(township_id, 1, 2) AS p
      FROM t) t
GROUP BY GROUPING SETS ((substr(township_id, 1, 9), category), (c, category), (ci, category), (p, category))
"""


# The floors as fast as we can write them for the same figures (issue #19): the breaking
# incidents as a hash join to the distinct units they touch rather than a subquery per
# unit, which lets PostgreSQL count on parallel workers; and, in SINGLE_KEY_SQL, one
# grouping key (the township) with a filtered count per category. Both give the
# township counts; the bench checks them against the roll-up's township rows.
_JOINED_FROM = """
FROM units_unit u
LEFT JOIN inspections_assessment a ON a.unit_id = u.id AND a.campaign_id = %(c)s AND a.year = %(y)s
LEFT JOIN (SELECT DISTINCT i.unit_id FROM inspections_incident i
           WHERE i.kind = ANY(%(kinds)s) AND i.occurred_on BETWEEN %(d0)s AND %(d1)s AND i.status <> 'dismissed'
             AND NOT (i.kind = ANY(%(petitions)s) AND i.higher_level)
             AND NOT (i.kind = ANY(%(disputes)s) AND i.resolution = 'resolved' AND i.resolved_on <= %(d1)s)) b
       ON b.unit_id = u.id
WHERE u.active AND u.township_id LIKE %(prefix)s AND u.category = ANY(%(cats)s)
"""
_PASSED = "a.status = 'approved' AND a.final_score >= %(pass)s AND NOT a.veto_failed AND b.unit_id IS NULL"
# the campaign's conditions (零盲区), only where it has any: a correlated subquery per unit,
# which would keep the statement off parallel workers for nothing
_CONDITIONS = """
  AND NOT EXISTS (SELECT 1 FROM unnest(%(conds)s::text[]) AS k(kind)
                  WHERE NOT EXISTS (SELECT 1 FROM inspections_unitcondition c
                                    WHERE c.unit_id = u.id AND c.kind = k.kind
                                      AND c.year = %(y)s AND c.status = 'confirmed'))"""


def _passed(campaign) -> str:
    return _PASSED + (_CONDITIONS if campaign.conditions else "")


def joined_sql(campaign) -> str:
    return (
        f"SELECT u.township_id, u.category, count(*) AS total, count(*) FILTER (WHERE {_passed(campaign)}) "
        f"AS attained {_JOINED_FROM} GROUP BY u.township_id, u.category"
    )


def joined_kind_sql(campaign) -> str:
    """The same, split by unit kind as the roll-up's by_kind is: the floor for the same
    result (the levels above a township are sums of a few thousand rows)."""
    return (
        f"SELECT u.township_id, u.kind, count(*) AS total, count(*) FILTER (WHERE {_passed(campaign)}) "
        f"AS attained {_JOINED_FROM} GROUP BY u.township_id, u.kind"
    )


def single_key_sql(campaign) -> str:
    """One grouping key: per township, a total and an attained count per category."""
    cols = []
    for i, _ in enumerate(campaign.categories):
        cols.append(f"count(*) FILTER (WHERE u.category = (%(cats)s::text[])[{i + 1}])")
        cols.append(f"count(*) FILTER (WHERE u.category = (%(cats)s::text[])[{i + 1}] AND {_passed(campaign)})")
    return f"SELECT u.township_id, {', '.join(cols)} {_JOINED_FROM} GROUP BY u.township_id"


def floor(campaign, sql=None, jit=True):
    import datetime as dt

    from django.conf import settings
    from django.db import connection, transaction

    from standards import kinds

    with transaction.atomic(), connection.cursor() as cur:
        if not jit:
            cur.execute("SET LOCAL jit = off")
        # the roll-up's work_mem for every floor: the same memory for the same work
        cur.execute("SELECT set_config('work_mem', %s, true)", [settings.ROLLUP_WORK_MEM])
        cur.execute(
            sql or FLOOR_SQL,
            {
                "pass": campaign.pass_mark,
                # the zeros as the rule reads them (inspections.zeros): the kinds' subtrees,
                # referred petitions and resolved disputes exempt; and the conditions
                "kinds": sorted(kinds.subtree(campaign.zero_kinds)),
                "petitions": sorted(kinds.subtree(["petition"])),
                "disputes": sorted(kinds.subtree(["dispute"])),
                "conds": list(campaign.conditions or []),
                "c": campaign.id,
                "y": YEAR,
                "d0": dt.date(YEAR, 1, 1),
                "d1": dt.date(YEAR, 12, 31),
                "prefix": campaign.scope.prefix + "%",
                "cats": campaign.categories,
            },
        )
        rows = cur.fetchall()
    if rows and len(rows[0]) != 4:  # single key: township, then total and attained per category
        return {
            (r[0], cat): (r[1 + 2 * i], r[2 + 2 * i])
            for r in rows
            for i, cat in enumerate(campaign.categories)
            if r[1 + 2 * i]
        }
    return {(t, c): (n, a) for t, c, n, a in rows}


def grouped_query(campaign):
    """The roll-up's grouped query over units alone, fetched, under the roll-up's session
    settings: the (township, kind) counts its statement starts from."""
    from django.db import connection, transaction

    from reports import rollup

    params: dict = {}
    sql = rollup._counts(campaign, YEAR, None, params)
    with transaction.atomic(), connection.cursor() as cur:
        rollup._tune_session()
        cur.execute(sql, params)
        return cur.fetchall()


def first_write_of_a_day(campaign, run):
    """Time a roll-up that is the first write of a new day, so it also copies the previous
    day's closing figures into history (once a day): the last write is moved back a day."""
    from datetime import timedelta

    from reports.models import RollupState

    state = RollupState.objects.get(campaign=campaign, year=YEAR)
    RollupState.objects.filter(pk=state.pk).update(computed_at=state.computed_at - timedelta(days=1))
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def naive_sample(campaign, sample: int):
    """What one would write without thinking: a loop over units with the ORM."""
    import datetime as dt

    from inspections import zeros
    from inspections.models import Assessment, Incident
    from inspections.scoring import applicable_items, compute
    from units.models import Unit

    units = list(
        Unit.objects.filter(
            active=True, township__code__startswith=campaign.scope.prefix, category__in=campaign.categories
        ).order_by("?")[:sample]
    )
    t = time.perf_counter()
    out = {}
    for unit in units:
        ok = False
        a = Assessment.objects.filter(unit=unit, campaign=campaign, year=YEAR).first()
        if a is not None and a.status == "approved":
            items = list(applicable_items(a.standard, unit.category))
            res = compute(items, {s.item_id: s.effective_score for s in a.scores.all()})
            year_end = dt.date(YEAR, 12, 31)
            incident = any(
                zeros.breaks(i, campaign.zero_kinds, year_end=year_end)
                for i in Incident.objects.filter(unit=unit, occurred_on__year=YEAR)
            )
            ok = res.final >= campaign.pass_mark and not res.veto_failed and not incident
        out[unit.id] = ok
    return time.perf_counter() - t, out


def approval_latency(campaign, approvals: int = 6) -> dict:
    """Approve submitted assessments one after another, each in another township, and
    time each until the province snapshot changes, through Redis and one real worker
    process (the incremental update after commit). The first is the worker's first task
    (a new process: its first connection and cold caches); the rest are a running
    worker's, as in production."""
    import subprocess
    import sys

    from django.conf import settings
    from django.db import transaction

    from inspections.models import Assessment, Status
    from reports import tasks
    from reports.models import AttainmentSnapshot
    from tests.integration.conftest import ROOT

    picked, townships = [], set()
    for a in (
        Assessment.objects.filter(
            campaign=campaign,
            year=YEAR,
            status=Status.SUBMITTED,
            veto_failed=False,
            final_score__gte=campaign.pass_mark,
            unit__incidents__isnull=True,
        )
        .select_related("unit")
        .order_by("id")[:5000]
    ):
        if a.unit.township_id not in townships:
            townships.add(a.unit.township_id)
            picked.append(a)
        if len(picked) == approvals:
            break
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sanling",
            "worker",
            "-Q",
            settings.WORKER_ALL_QUEUES,  # the incremental update goes to its own queue
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "-l",
            os.environ.get("BENCH_WORKER_LOG", "WARNING"),
        ],
        cwd=ROOT,
    )
    try:
        from sanling.celery import app

        while not app.control.ping(timeout=0.5):
            time.sleep(0.2)
        times = []
        for a in picked:
            prov = dict(campaign=campaign, year=YEAR, region_id=campaign.scope.code, category=a.unit.category)
            before = AttainmentSnapshot.objects.get(**prov).attained_units
            t = time.perf_counter()
            with transaction.atomic():
                Assessment.objects.filter(pk=a.pk).update(status=Status.APPROVED)
                transaction.on_commit(lambda a=a: tasks.schedule_unit_rollup(a.unit_id, campaign.id, YEAR))
            while AttainmentSnapshot.objects.get(**prov).attained_units == before:
                time.sleep(0.005)
                if time.perf_counter() - t > 60:
                    raise RuntimeError("province figure did not change within 60 s")
            times.append(time.perf_counter() - t)
        return {
            "first_s": round(times[0], 3),
            "running_worker_median_s": round(statistics.median(times[1:]), 3),
            "running_worker_max_s": round(max(times[1:]), 3),
            "approvals": len(times),
        }
    finally:
        worker.terminate()
        worker.wait(20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2000, help="units in the naive loop's sample")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the roll-up and the floors, in turn")
    ap.add_argument("--redis", action="store_true", help="also time approval → province figure with a worker")
    ap.add_argument("--database", help="an already seeded PostgreSQL (URL) instead of a throwaway one")
    args = ap.parse_args()
    with services(redis=args.redis, database=args.database):
        from reports import rollup
        from reports.models import AttainmentSnapshot
        from standards.models import Campaign

        info = {"seed_s": "reused"} if args.database else seed(args.units)
        campaign = Campaign.objects.select_related("scope").get(slug="shanxi-sanling")
        # The first roll-up inserts every snapshot row; the later ones update them in place.
        first_s, _ = timed(lambda: rollup.run(campaign_id=campaign.id, year=YEAR), repeat=1)
        close_s = first_write_of_a_day(campaign, lambda: rollup.run(campaign_id=campaign.id, year=YEAR))
        # The roll-up and the floors take turns, so a passing disturbance on the shared
        # 2 cores (autovacuum, a checkpoint) touches them alike; medians of the rounds.
        # an incremental update: a township in the middle of the province
        from units.models import Region

        townships = list(Region.objects.filter(level="township", code__startswith="14").order_by("code"))
        township = townships[len(townships) // 2].code
        t, results = interleaved(
            {
                "full": lambda: rollup.run(campaign_id=campaign.id, year=YEAR),
                "incremental": lambda: rollup.run_for_township(
                    campaign_id=campaign.id, year=YEAR, township_code=township
                ),
                "query": lambda: grouped_query(campaign),
                "floor": lambda: floor(campaign),
                "township": lambda: floor(campaign, TOWNSHIP_SQL),
                # The roll-up turns PostgreSQL's JIT off for its transaction; the floors get the same chance.
                "floor_nojit": lambda: floor(campaign, jit=False),
                "township_nojit": lambda: floor(campaign, TOWNSHIP_SQL, jit=False),
                # as fast as we can write them: parallel-capable, one grouping key
                "joined": lambda: floor(campaign, joined_sql(campaign), jit=False),
                "single_key": lambda: floor(campaign, single_key_sql(campaign), jit=False),
                "joined_kind": lambda: floor(campaign, joined_kind_sql(campaign), jit=False),
            },
            rounds=args.rounds,
        )
        floor_rows, township_rows = results["floor"], results["township"]
        for name in ("joined", "single_key"):
            if results[name] != township_rows:
                raise SystemExit(f"the {name} floor and the township query disagree")
        full_s, query_s, floor_s, township_floor_s = t["full"], t["query"], t["floor"], t["township"]
        floor_nojit_s, township_nojit_s = t["floor_nojit"], t["township_nojit"]
        snap = {
            (r.region.prefix, r.category): (r.total_units, r.attained_units)
            for r in AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).select_related("region")
        }
        nonzero = {k: v for k, v in snap.items() if v[0]}
        by_kind = {
            (r.region_id, kind): tuple(v)
            for r in AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR, level="township")
            for kind, v in r.by_kind.items()
        }
        if by_kind != results["joined_kind"]:
            raise SystemExit("the roll-up's split by kind and the kind floor disagree")
        if nonzero != floor_rows:
            raise SystemExit("roll-up and SQL floor disagree")
        by_township = {(t[:9], c): v for (t, c), v in township_rows.items()}
        if {k: v for k, v in nonzero.items() if len(k[0]) == 9} != by_township:
            raise SystemExit("roll-up and the township query disagree")
        naive_s, naive = naive_sample(campaign, args.sample)
        from reports.attainment import annotate_conditions
        from units.models import Unit

        setwise = dict(
            annotate_conditions(Unit.objects.filter(pk__in=list(naive)), campaign, YEAR).values_list("id", "attained")
        )
        if naive != setwise:
            raise SystemExit("naive loop and the rule disagree on the sample")
        total_units = sum(v[0] for v in township_rows.values())
        naive_extrapolated = naive_s / len(naive) * total_units
        result = {
            "units": total_units,
            **info,
            "first_rollup_s": round(first_s, 3),
            "full_rollup_s": round(full_s, 3),
            "incremental_update_s": round(t["incremental"], 4),
            "first_rollup_of_a_day_s": round(close_s, 3),
            "rollup_query_only_s": round(query_s, 3),
            "sql_floor_s": round(floor_s, 3),
            "township_query_floor_s": round(township_floor_s, 3),
            "sql_floor_jit_off_s": round(floor_nojit_s, 3),
            "township_query_floor_jit_off_s": round(township_nojit_s, 3),
            "joined_floor_s": round(t["joined"], 3),
            "single_key_floor_s": round(t["single_key"], 3),
            "fastest_floor": min(FLOORS, key=lambda n: t[n]),
            "rounds": args.rounds,
            "regions_compared": len(nonzero),
            "naive_sample_units": len(naive),
            "naive_sample_s": round(naive_s, 2),
            "naive_extrapolated_s": round(naive_extrapolated, 1),
            "speedup_vs_naive": round(naive_extrapolated / full_s, 1),
            # Against the faster of the two statements: the strictest bar we know.
            "joined_kind_floor_s": round(t["joined_kind"], 3),
            # against the fastest floor giving the same result (the split by kind too) …
            "ratio_to_same_result_floor": round(full_s / t["joined_kind"], 2),
            # … and against the fastest of all, which leave the split by kind out
            "ratio_to_floor": round(full_s / min(t[n] for n in FLOORS), 2),
            "attained": sum(v[1] for v in township_rows.values()),
        }
        if args.redis:
            result["approval_to_province"] = approval_latency(campaign)
        result["machine"] = machine()
        print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

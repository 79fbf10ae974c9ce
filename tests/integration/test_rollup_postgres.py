"""The roll-up's tests again, on PostgreSQL: the one statement must give the same
answers as on SQLite (the fast run) and as the independent oracle, full and incremental,
keep each day's closing figures in history, and drop rows of regions that left the scope."""

import datetime as dt

import pytest
from django.db import transaction

from reports import rollup
from tests.factories import UnitFactory, make_assessment
from tests.reports.test_rollup import (  # noqa: F401
    YEAR,
    test_a_batched_run_reports_each_batch_rests_after_it_and_can_be_cancelled_between,
    test_an_update_across_midnight_keeps_its_day,
    test_each_change_updates_this_year_and_leaves_a_past_year_as_it_was,
    test_full_runs_follow_the_broken_units_as_incidents_come_and_go,
    test_gap_and_rate_in_the_statement_are_exact,
    test_history_keeps_each_days_closing_figures,
    test_incremental_update_matches_full,
    test_rerun_is_idempotent_and_replaces,
    test_rollup_counts_every_level_and_target,
    test_rollup_matches_oracle,
    test_rows_of_regions_gone_from_scope_are_dropped,
)


def test_the_full_counts_can_run_on_parallel_workers(tree, campaign):
    """The full run's count over every unit must stay parallel-capable: a subquery per
    unit (as NOT EXISTS in a filtered count becomes) would keep it on one core. Asked to
    put a Gather on top wherever it may, PostgreSQL must put one on it; and the roll-up's
    transaction runs with its settings (JIT off, settings.ROLLUP_WORK_MEM)."""
    from django.db import connection

    from tests.factories import make_incident

    a = make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    make_incident(unit=a.unit, kind="homicide", occurred_on=dt.date(YEAR, 3, 1))
    make_assessment(unit=UnitFactory(township=tree.t2), campaign=campaign, status="approved")
    seen = {}

    def progress(step, *_):
        with connection.cursor() as cur:
            cur.execute("SHOW work_mem")
            seen["work_mem"] = cur.fetchone()[0]
            cur.execute("SHOW jit")
            seen["jit"] = cur.fetchone()[0]

    rollup.run(campaign_id=campaign.id, year=YEAR, progress=progress)
    assert seen == {"work_mem": "64MB", "jit": "off"}

    def plan(prefix):
        """The counts' plan with a Gather forced on top wherever the plan allows one
        (PostgreSQL 15's force_parallel_mode, 16's debug_parallel_query): one appears
        only when every node of the statement is parallel-safe."""
        with transaction.atomic(), connection.cursor() as cur:
            rollup._mark_breaks(campaign, YEAR)
            cur.execute(
                "SELECT set_config(name, 'on', true) FROM pg_settings "
                "WHERE name IN ('force_parallel_mode', 'debug_parallel_query')"
            )
            assert cur.fetchall()
            params: dict = {}
            cur.execute("EXPLAIN " + rollup._counts(campaign, YEAR, prefix, params), params)
            out = "\n".join(r[0] for r in cur.fetchall())
            transaction.set_rollback(True)
            return out

    full = plan(None)
    assert "Workers Planned" in full and "SubPlan" not in full, full
    # and the check can fail: the incremental form (a subquery per unit, for one township) is not parallel-safe
    one = plan(tree.t1.prefix)
    assert "SubPlan" in one and "Workers Planned" not in one, one


@pytest.mark.django_db(transaction=True)
def test_the_full_run_takes_the_parallel_workers_it_is_allowed(tree, campaign, settings):
    """ROLLUP_PARALLEL_WORKERS bounds the count's parallel workers for the roll-up's
    transaction only; unset, the server's setting stands."""
    from django.db import connection

    make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")

    def workers_during_run() -> str:
        seen = []

        def progress(step, *_):
            with connection.cursor() as cur:
                cur.execute("SHOW max_parallel_workers_per_gather")
                seen.append(cur.fetchone()[0])

        rollup.run(campaign_id=campaign.id, year=YEAR, progress=progress)
        assert len(set(seen)) == 1, seen
        return seen[0]

    with connection.cursor() as cur:
        cur.execute("SHOW max_parallel_workers_per_gather")
        server = cur.fetchone()[0]
    assert workers_during_run() == server
    settings.ROLLUP_PARALLEL_WORKERS = 0
    assert workers_during_run() == "0"
    settings.ROLLUP_PARALLEL_WORKERS = 5
    assert workers_during_run() == "5"
    with connection.cursor() as cur:  # the transaction's setting went with it
        cur.execute("SHOW max_parallel_workers_per_gather")
        assert cur.fetchone()[0] == server

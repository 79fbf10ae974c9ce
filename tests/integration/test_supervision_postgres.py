"""The supervision rules again on real PostgreSQL (row locks, skip-locked, joins the
embedded SQLite ignores): both paths must give the same answers."""

from tests.supervision.test_supervision import (  # noqa: F401 - re-run here on PostgreSQL
    approved,
    ledger_tasks,
    test_ledger_is_scoped_sorted_and_counted,
    test_overdue_job_is_idempotent_and_notifies,
    test_overturn_revokes_attainment_and_records_deviation,
    test_sample_is_reproducible_from_its_seed,
    test_sample_stays_within_the_region_and_jurisdiction,
    test_task_lifecycle_open_to_closed,
    test_the_inspected_level_does_not_see_a_higher_levels_unannounced_inspection,
    test_townships_cannot_reach_inspections_through_tasks,
    unit1,
)

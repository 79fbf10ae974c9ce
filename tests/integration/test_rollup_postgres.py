"""The roll-up's tests again, on PostgreSQL, where the snapshot is one upserting statement:
both databases must give the same answers as the brute-force rule (the fast run covers
SQLite), keep each day's closing figures in history, and drop rows of regions that left
the scope (PostgreSQL's `gone` step; SQLite rewrites the whole snapshot)."""

from tests.reports.test_rollup import (  # noqa: F401
    test_history_keeps_each_days_closing_figures,
    test_incremental_update_matches_full,
    test_rerun_is_idempotent_and_replaces,
    test_rollup_counts_every_level_and_target,
    test_rollup_matches_brute_force,
    test_rows_of_regions_gone_from_scope_are_dropped,
)

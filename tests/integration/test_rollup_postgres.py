"""The roll-up's tests again, on PostgreSQL: the one statement must give the same
answers as on SQLite (the fast run) and as the independent oracle, full and incremental,
keep each day's closing figures in history, and drop rows of regions that left the scope."""

from tests.reports.test_rollup import (  # noqa: F401
    test_an_update_across_midnight_keeps_its_day,
    test_each_change_updates_this_year_and_leaves_a_past_year_as_it_was,
    test_gap_and_rate_in_the_statement_are_exact,
    test_history_keeps_each_days_closing_figures,
    test_incremental_update_matches_full,
    test_rerun_is_idempotent_and_replaces,
    test_rollup_counts_every_level_and_target,
    test_rollup_matches_oracle,
    test_rows_of_regions_gone_from_scope_are_dropped,
)

"""The roll-up's property test again, on PostgreSQL: both databases must give the same
answers as the brute-force rule (the fast run covers SQLite)."""

from tests.reports.test_rollup import test_rollup_matches_brute_force  # noqa: F401

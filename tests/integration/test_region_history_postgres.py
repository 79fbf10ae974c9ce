"""The real tree and its history again, on PostgreSQL: the Shanxi load (counts, names, a
rerun that changes nothing), the Datong 2018 reorganisation leaving 2017 as it was, the
refusals storing nothing, and jurisdiction following successors — the same answers as the
fast run on SQLite."""

import pytest

from tests.units.test_load_regions import (  # noqa: F401
    test_a_newer_list_renames_and_adds_and_reports_it,
    test_shanxi_loads_to_every_village_and_a_rerun_changes_nothing,
)
from tests.units.test_region_changes import (  # noqa: F401
    campaign_2017,
    datong,
    test_a_change_may_not_reach_back_before_a_later_one,
    test_a_merge_into_an_existing_region_gives_it_the_sources_past,
    test_a_split_that_leaves_units_or_officers_unassigned_is_refused,
    test_a_target_code_that_breaks_the_prefix_rule_or_exists_is_refused,
    test_datong_2018_leaves_2017_as_it_was_and_later_years_use_the_new_tree,
    test_officers_move_to_the_successor_and_see_the_predecessors_past,
    test_sources_of_different_levels_are_refused,
    test_units_as_of_and_its_parts_agree_on_every_day,
)

pytestmark = pytest.mark.django_db

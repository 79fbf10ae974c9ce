"""The zeros, conditions, measured items and the carry-over between campaigns again on
PostgreSQL — the same answers as the fast run on SQLite (the rule is SQL: the kind
subtree, referrals and resolutions, the condition's EXISTS)."""

import pytest

from tests.inspections.test_carry import (  # noqa: F401
    test_an_approved_jinzhong_assessment_counts_for_shanxi,
    test_scores_carry_over_by_the_mapping_and_the_derived_one_follows,
    two,
)
from tests.inspections.test_conditions import (  # noqa: F401
    enterprise,
    test_a_unit_with_blind_spots_does_not_attain,
    wuling,
)
from tests.inspections.test_measured import (  # noqa: F401
    jinzhong,
    test_officers_enter_figures_and_the_score_is_computed,
)
from tests.inspections.test_zeros import (  # noqa: F401
    attained,
    test_a_homicide_breaks_shanxis_zero_cases,
    test_a_petition_only_a_higher_level_can_decide_breaks_no_zero,
    test_breaking_is_one_rule_for_querysets_and_one_incident,
    test_zero_disputes_are_disputes_resolved_inside_the_jurisdiction,
    xishan,
)

pytestmark = pytest.mark.django_db

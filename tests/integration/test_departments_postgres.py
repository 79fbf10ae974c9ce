"""Departments, special actions and the appraisal again on PostgreSQL — the same answers
as the fast run on SQLite — and the demo seed, which writes incidents by COPY, carrying
the incidents' new columns (severity, source) and the departments' figures."""

import io

import pytest
from django.core.management import call_command

from tests.reports.test_appraisal import (  # noqa: F401
    example,
    test_departments_are_appraised_on_their_tasks_and_actions,
    test_the_formula_against_the_hand_computed_example,
    test_weights_are_data_and_must_sum_to_100,
)
from tests.supervision.test_actions import (  # noqa: F401
    jinzhong,
    test_bad_progress_is_refused_and_nothing_stored,
    test_progress_by_county_against_the_time_passed,
)
from tests.supervision.test_departments import (  # noqa: F401
    sector,
    test_a_county_education_bureau_sees_its_schools_and_nothing_else,
    test_bad_departments_and_milestones_are_refused_and_nothing_stored,
    test_police_record_incidents_for_any_unit_of_their_county,
    test_the_ledger_filters_and_counts_by_department,
)

pytestmark = pytest.mark.django_db


def test_the_demo_seed_on_postgres_has_departments_actions_and_graded_incidents():
    from inspections.models import Incident
    from supervision.models import ActionProgress, SpecialAction
    from units.models import Department, User

    out = io.StringIO()
    for command, kwargs in (
        ("load_regions", {"province": ["14"]}),
        ("load_standards", {}),
        ("load_departments", {"province": "14"}),
        ("load_actions", {}),
        ("seed_demo", {"units": 300, "seed": 1, "assessments": True, "users": True, "year": [2022]}),
    ):
        call_command(command, stdout=out, **kwargs)
    assert Department.objects.filter(name="太原市公安局小店分局").exists()
    assert SpecialAction.objects.filter(campaign__slug="jinzhong-sanzhi-sanling").count() == 8
    assert ActionProgress.objects.filter(region__code__startswith="1407").exists()
    assert Incident.objects.exists()
    assert set(Incident.objects.values_list("severity", "source").distinct()) == {("general", "township")}
    assert User.objects.get(username="education").department.name == "小店区教育局"

"""The official result on PostgreSQL: the same tests as the fast run (the close's
INSERT … SELECT, amendments, publication, 摘牌), and PostgreSQL itself refusing to change a
frozen row — a raw UPDATE or DELETE fails, whoever sends it."""

import pytest
from django.db import DatabaseError, connection, transaction

from reports.models import ResultRegion, ResultUnit
from tests.reports.test_results import (  # noqa: F401
    close,
    test_a_year_whose_official_figures_fell_below_the_previous_year_is_flagged,
    test_after_publication_an_incident_revokes_the_title_and_a_dismissal_lifts_it,
    test_an_upheld_appeal_reopens_the_review_and_its_outcome_enters_as_an_amendment,
    test_closing_freezes_every_units_outcome_and_every_regions_figures,
    test_closing_is_refused_precisely_and_stores_nothing,
    test_later_changes_and_roll_ups_leave_the_official_result_as_it_was,
    test_publication_after_the_notice_with_a_document_number_and_a_pdf,
    test_what_happened_during_the_notice_is_not_hidden_by_the_publication,
    world,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [ResultUnit, ResultRegion])
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET seq = seq + 1000 WHERE result_id = %s", "DELETE FROM {t} WHERE result_id = %s"]
)
@pytest.mark.usefixtures("world")
def test_postgresql_refuses_to_change_a_frozen_row(users, campaign, model, statement):
    result = close(campaign, users)
    before = list(model.objects.filter(result=result).order_by("seq").values())
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(statement.format(t=model._meta.db_table), [result.pk])
    assert list(model.objects.filter(result=result).order_by("seq").values()) == before

"""The bulk load's index rebuild on PostgreSQL (sanling.kernel.bulk.indexes_rebuilt_after):
what comes back is exactly what was there, and a row that breaks a constraint during the
load is refused when the constraint comes back."""

import pytest
from django.db import IntegrityError, connection, transaction

from inspections.models import Assessment, ItemScore
from sanling.kernel.bulk import indexes_rebuilt_after

pytestmark = pytest.mark.django_db(transaction=True)


def _catalogue(table):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "UNION ALL SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass ORDER BY 1",
            [table, table],
        )
        return cur.fetchall()


def test_indexes_and_constraints_come_back_as_they_were():
    before = {t: _catalogue(t) for t in ("inspections_assessment", "inspections_itemscore")}
    assert any("FOREIGN KEY" in d for _, d in before["inspections_itemscore"])
    assert any(d.startswith("UNIQUE") for _, d in before["inspections_itemscore"])
    with transaction.atomic():
        with indexes_rebuilt_after(Assessment, ItemScore):
            during = _catalogue("inspections_itemscore")
            assert not any("FOREIGN KEY" in d or d.startswith("UNIQUE") for _, d in during), during
            assert len(during) == 2  # the primary key's constraint and its index stay
    after = {t: _catalogue(t) for t in before}
    for t in before:
        assert sorted(after[t]) == sorted(before[t]), (t, set(after[t]) ^ set(before[t]))


def test_a_row_breaking_a_constraint_during_the_load_is_refused_at_the_end():
    with pytest.raises(IntegrityError), transaction.atomic():
        with indexes_rebuilt_after(ItemScore), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO inspections_itemscore (assessment_id, item_id, note, reviewer_note) "
                "VALUES (999999, 999999, '', '')"
            )
    assert ItemScore.objects.count() == 0
    assert any("FOREIGN KEY" in d for _, d in _catalogue("inspections_itemscore"))  # rolled back with it


def test_a_large_demo_load_rebuilds_and_keeps_every_score(tree, campaign, monkeypatch):
    from inspections import demo
    from tests.factories import UnitFactory

    for _ in range(30):
        UnitFactory(township=tree.t1)
    before = _catalogue("inspections_itemscore")
    monkeypatch.setattr(demo, "REBUILD_AT", 0)  # as a load of 200,000 units and more does
    _, n_scores, _ = demo.seed_assessments(campaign=campaign, year=2021, seed=2, log=lambda *_: None)
    assert n_scores and ItemScore.objects.count() == n_scores
    assert sorted(_catalogue("inspections_itemscore")) == sorted(before)

"""On PostgreSQL, the one roll-up statement — full and incremental — gives every field of
every snapshot row exactly as the independent oracle computes it (tests/reports/oracle.py),
as it does on SQLite in the fast tests: both databases, the same answers."""

import random
from decimal import Decimal

import pytest

from inspections import services as assessments
from reports import rollup
from reports.models import AttainmentSnapshot
from standards.models import Target
from tests.factories import UnitFactory, make_assessment, make_incident
from tests.reports import oracle
from units.models import UnitKind

pytestmark = pytest.mark.django_db
YEAR = 2022


def test_full_and_incremental_statements_match_the_oracle(
    tree, campaign, users, django_capture_on_commit_callbacks, eager_tasks
):
    rng = random.Random(7)
    units = []
    for n in range(60):
        unit = UnitFactory(
            township=rng.choice([tree.t1, tree.t2, tree.canary_township]), kind=rng.choice(UnitKind.values)
        )
        units.append(unit)
        status = rng.choice(["approved", "approved", "approved", "submitted", None])
        if status:
            make_assessment(
                unit=unit,
                campaign=campaign,
                status=status,
                scores={"1.1": Decimal(rng.choice([40, 35, 20])), "1.2": Decimal(rng.choice([30, 30, 10]))},
            )
        if n % 7 == 0:
            make_incident(
                unit=unit,
                occurred_on=f"{YEAR}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                kind=rng.choice(["criminal_case", "dispute", "petition"]),
            )
    # targets at every level, some for one category only: each region's own or nearest
    # ancestor's applies (the statement matches prefixes, the oracle walks parents)
    for region, category, rate in [
        (tree.city, "village_community", "0.85"),
        (tree.county, "enterprise_institution", "0.7"),
        (tree.t2, "village_community", "0.95"),
        (tree.county2, "village_community", "0.6"),
    ]:
        Target.objects.create(campaign=campaign, region=region, category=category, year=YEAR, rate=Decimal(rate))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    want = oracle.assert_snapshot_matches(campaign, YEAR)
    assert len(want) == 8 * 2  # every region × category
    assert any(r["attained_units"] for r in want.values()) and any(r["gap_units"] for r in want.values())
    assert {str(r["target_rate"]) for r in want.values()} == {
        "0.8000",
        "0.9000",
        "0.8500",
        "0.7000",
        "0.9500",
        "0.6000",
    }
    ids = set(AttainmentSnapshot.objects.values_list("id", flat=True))
    # incremental: approvals and returns in two townships, each followed by its update
    for unit in rng.sample(units, 12):
        a = unit.assessments.filter(campaign=campaign, year=YEAR).first()
        with django_capture_on_commit_callbacks(execute=True):
            if a and a.status == "submitted":
                assessments.assessment_approve(assessment=a, by=users.admin)
            elif a and a.status == "approved":
                assessments.assessment_return(assessment=a, reason="复核", by=users.admin)
        oracle.assert_snapshot_matches(campaign, YEAR)
    assert set(AttainmentSnapshot.objects.values_list("id", flat=True)) == ids  # updated in place


def test_a_year_without_targets_has_none_on_postgresql(tree, campaign):
    UnitFactory(township=tree.t1)
    rollup.run(campaign_id=campaign.id, year=2021)
    rows = AttainmentSnapshot.objects.filter(campaign=campaign, year=2021)
    assert rows.count() == 16
    assert {(r.target_rate, r.met, r.gap_units) for r in rows} == {(None, None, 0)}
    oracle.assert_snapshot_matches(campaign, 2021)

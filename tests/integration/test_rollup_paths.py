"""On PostgreSQL the full roll-up writes the snapshot in one SQL statement; on SQLite it
sums in Python. Both must give the same rows, field for field: run both on PostgreSQL."""

import random
from decimal import Decimal

import pytest
from django.utils import timezone

from reports import rollup
from reports.models import AttainmentSnapshot
from standards.models import Target
from tests.factories import UnitFactory, make_assessment, make_incident
from units.models import UnitKind

pytestmark = pytest.mark.django_db
YEAR = 2022


def test_sql_and_python_paths_give_identical_snapshots(tree, campaign):
    rng = random.Random(7)
    for n in range(60):
        unit = UnitFactory(
            township=rng.choice([tree.t1, tree.t2, tree.canary_township]), kind=rng.choice(UnitKind.values)
        )
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
    # ancestor's applies (the SQL path matches prefixes, the Python path walks ancestors)
    for region, category, rate in [
        (tree.city, "village_community", "0.85"),
        (tree.county, "enterprise_institution", "0.7"),
        (tree.t2, "village_community", "0.95"),
        (tree.county2, "village_community", "0.6"),
    ]:
        Target.objects.create(campaign=campaign, region=region, category=category, year=YEAR, rate=Decimal(rate))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    fields = [
        "region_id",
        "level",
        "category",
        "total_units",
        "attained_units",
        "rate",
        "target_rate",
        "met",
        "gap_units",
        "by_kind",
    ]
    sql_rows = {
        (r["region_id"], r["category"]): r
        for r in AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values(*fields)
    }

    regions = rollup._regions_in_scope(campaign.scope.prefix)
    figs = rollup._aggregate(regions, rollup.township_counts(campaign, YEAR), campaign.categories)
    py_rows = {
        (r["region_id"], r["category"]): {k: r[k] for k in fields}
        for r in rollup._rows(campaign, YEAR, regions, figs, rollup.TargetResolver(campaign, YEAR), timezone.now())
    }
    assert sql_rows.keys() == py_rows.keys() and len(sql_rows) == 8 * 2  # every region × category
    for key, py in py_rows.items():
        assert sql_rows[key] == py, key
    assert any(r["attained_units"] for r in py_rows.values()) and any(r["gap_units"] for r in py_rows.values())
    assert {str(r["target_rate"]) for r in py_rows.values()} == {
        "0.8000",
        "0.9000",
        "0.8500",
        "0.7000",
        "0.9500",
        "0.6000",
    }


def test_a_year_without_targets_has_none_on_the_sql_path(tree, campaign):
    UnitFactory(township=tree.t1)
    rollup.run(campaign_id=campaign.id, year=2021)
    rows = AttainmentSnapshot.objects.filter(campaign=campaign, year=2021)
    assert rows.count() == 16
    assert {(r.target_rate, r.met, r.gap_units) for r in rows} == {(None, None, 0)}

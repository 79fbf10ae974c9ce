"""Grades (市、区不同达标等级分值): an attained unit at or above the campaign's city-grade
mark is city grade (市级), else district grade (区级) — in Python and in SQL alike, and on
the unit's page, the published list and the API."""

from decimal import Decimal

import pytest

from reports import attainment
from tests.factories import UnitFactory, make_assessment
from units.models import Unit

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.mark.parametrize("city_mark", [Decimal(90), None])
def test_the_grade_in_python_and_in_sql_agree(tree, campaign, city_mark):
    campaign.pass_mark, campaign.city_grade_pass_mark = Decimal(85), city_mark
    campaign.save()
    finals = {}
    for points in (Decimal(26), Decimal(30), Decimal(34), Decimal(35), Decimal(40)):  # 1.1 of 40; the rest full
        unit = UnitFactory(township=tree.t1)
        a = make_assessment(unit=unit, campaign=campaign, status="approved", scores={"1.1": points})
        finals[unit.pk] = a.final_score
    sql = attainment.grades_for_units(Unit.objects.all(), campaign, YEAR)
    python = {pk: attainment.grade_of(f, campaign) for pk, f in finals.items() if f >= campaign.pass_mark}
    assert sql == python
    assert sorted(finals.values()) == [Decimal("86.00"), Decimal("90.00"), Decimal("94.00"), Decimal("95.00"), 100]
    want = {"city": 4, "district": 1} if city_mark else {"city": 0, "district": 5}
    assert {g: list(sql.values()).count(g) for g in ("city", "district")} == want

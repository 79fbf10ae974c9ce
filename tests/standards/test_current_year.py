"""The campaign goes on after its plan's years (常态化长效化): the shipped provincial and
Jinzhong campaigns run up to the current year, targets carry on from the last year that set
them, a finished campaign says so, and the demo lands a newcomer in this year."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from inspections import demo as assessment_demo
from inspections import services as assessments
from inspections.models import Assessment, Incident
from reports import rollup
from reports.models import AttainmentSnapshot
from standards.models import Campaign, Target
from standards.selectors import pick_year, targets_for
from tests.factories import UnitFactory, make_assessment
from tests.reports import oracle
from units.regions import load_province

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def shipped(db):
    load_province("14")
    load_province("53")
    call_command("load_standards")
    return {c.slug: c for c in Campaign.objects.all()}


def test_shipped_campaigns_run_to_this_year_and_a_finished_one_says_so(shipped):
    sx, jz, xs = shipped["shanxi-sanling"], shipped["jinzhong-sanzhi-sanling"], shipped["xishan-wuling"]
    assert sx.ongoing and jz.ongoing and not xs.ongoing
    assert sx.years == list(range(2020, THIS_YEAR + 1)) and sx.covers_year(THIS_YEAR)
    assert not sx.covers_year(THIS_YEAR + 1)
    assert xs.years == [2020, 2021, 2022] and not xs.covers_year(THIS_YEAR)
    assert (str(sx.phase), str(xs.phase)) == ("常态化", "已结束")
    # a page without a year shows this year of a campaign that goes on, the last of one that ended
    assert pick_year(sx, None) == THIS_YEAR and pick_year(xs, None) == 2022


def test_a_target_carries_on_from_the_last_year_that_set_it(campaign, tree):
    campaign.ongoing = True
    campaign.save()
    # the factory's campaign sets 80 % / 90 % for 2022 at the province
    rates = lambda y: {(t.region_id, t.category): t.rate for t in targets_for(campaign, y)}  # noqa: E731
    assert rates(2021) == {}  # before any target: none
    assert rates(THIS_YEAR)[(tree.province.code, "village_community")] == Decimal("0.8")
    # a later year sets its own for one category and one region: that one from then on
    Target.objects.create(campaign=campaign, region=tree.province, category="village_community", year=2024, rate=0.85)
    Target.objects.create(campaign=campaign, region=tree.city, category="village_community", year=2025, rate=0.95)
    assert rates(2023)[(tree.province.code, "village_community")] == Decimal("0.8")
    later = rates(THIS_YEAR)
    assert later[(tree.province.code, "village_community")] == Decimal("0.85")
    assert later[(tree.province.code, "enterprise_institution")] == Decimal("0.9")
    assert later[(tree.city.code, "village_community")] == Decimal("0.95")
    assert (tree.city.code, "village_community") not in rates(2024)


def test_this_years_roll_up_uses_the_inherited_target(campaign, tree):
    campaign.ongoing = True
    campaign.save()
    units = [UnitFactory(township=tree.t1) for _ in range(5)]
    for u in units[:3]:
        make_assessment(unit=u, campaign=campaign, year=THIS_YEAR, status="approved")
    rollup.run(campaign_id=campaign.id, year=THIS_YEAR)
    row = AttainmentSnapshot.objects.get(
        campaign=campaign, year=THIS_YEAR, region=tree.t1, category="village_community"
    )
    assert (row.total_units, row.attained_units, row.target_rate, row.gap_units) == (5, 3, Decimal("0.8"), 1)
    # the oracle, which inherits targets by its own loop, agrees field by field
    oracle.assert_snapshot_matches(campaign, THIS_YEAR)


def test_a_year_the_campaign_does_not_run_is_refused_by_name(campaign, tree, users):
    unit = UnitFactory(township=tree.t1)
    with pytest.raises(Exception) as refused:
        assessments.assessment_start(unit=unit, campaign=campaign, year=THIS_YEAR, by=users.officer)
    assert "2020–2022" in str(refused.value) and str(THIS_YEAR) in str(refused.value)
    campaign.ongoing = True
    campaign.save()
    a = assessments.assessment_start(unit=unit, campaign=campaign, year=THIS_YEAR, by=users.officer)
    assert a.year == THIS_YEAR


def test_demo_this_year_is_under_way_and_dated_up_to_today(campaign, tree):
    campaign.ongoing = True
    campaign.save()
    for _ in range(300):
        UnitFactory(township=tree.t1)
    assessment_demo.seed_assessments(campaign=campaign, year=THIS_YEAR, seed=1, log=lambda *a: None)
    assessment_demo.seed_assessments(campaign=campaign, year=2021, seed=1, log=lambda *a: None)
    now = Assessment.objects.filter(year=THIS_YEAR)
    past = Assessment.objects.filter(year=2021)
    # under way: far fewer decided than in a finished year, work left in draft and in the chain
    assert now.filter(status="approved").count() < past.filter(status="approved").count() * 0.6
    assert now.filter(status="draft").exists() and now.filter(status="submitted").exists()
    assert now.count() < past.count()
    today = timezone.localdate()
    assert all(timezone.localtime(a.created_at).date() == today for a in now)
    assert all(timezone.localtime(a.created_at).year == 2021 for a in past)
    assert not Incident.objects.filter(occurred_on__year=THIS_YEAR, occurred_on__gt=today).exists()
    assert Incident.objects.filter(occurred_on__year=THIS_YEAR).exists()
    assert Incident.objects.filter(occurred_on__gte=dt.date(THIS_YEAR, 1, 1)).count() >= 1


def test_the_picker_names_each_campaigns_phase(shipped, login):
    from units.models import Role, User

    staff = User.objects.create_user("prov", password="x", role=Role.PROVINCE_STAFF, region_id="140000000000")
    page = login(staff).get("/reports/").content.decode()
    assert "山西省“三零”单位创建（常态化）" in page
    assert f'<option value="{THIS_YEAR}" selected>' in page

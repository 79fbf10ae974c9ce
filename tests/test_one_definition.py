"""One definition per rule, each with a test that fails if the rule is broken — and that
the rule's forms (a filter and a check in hand, Python and SQL) agree with each other."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection

from inspections import scoring
from standards.models import Item
from supervision.models import Rectification, TaskStatus
from tests.factories import UnitFactory, dept
from units.models import KIND_CATEGORY, Category, Unit, UnitKind, category_case

pytestmark = pytest.mark.django_db


# --- campaign scope ----------------------------------------------------------------


def test_campaign_scope_filter_and_check_agree_on_every_combination(tree, campaign):
    # given: units active or archived, inside the scope or not, of either category, and a
    # campaign covering only villages and communities of one city
    campaign.scope = tree.city
    campaign.categories = [Category.VILLAGE_COMMUNITY]
    campaign.save()
    units = []
    for active, township, kind in itertools.product(
        [True, False], [tree.t1, tree.canary_township], [UnitKind.VILLAGE, UnitKind.SCHOOL]
    ):
        units.append(UnitFactory(township=township, kind=kind, active=active))
    # when / then: exactly the active villages of 太原 are in scope, by both forms
    in_filter = set(Unit.objects.filter(campaign.unit_q()).values_list("pk", flat=True))
    by_check = {u.pk for u in units if campaign.covers(u)}
    expected = {u.pk for u in units if u.active and u.township == tree.t1 and u.kind == UnitKind.VILLAGE}
    assert in_filter == by_check == expected and len(expected) == 1
    # and a region prefix narrows the filter, never widens it
    assert not Unit.objects.filter(campaign.unit_q(prefix=tree.t2.prefix)).exists()


def test_campaigns_covering_a_unit_follow_scope_and_years(tree, campaign, standard):
    from standards.models import Campaign

    unit = UnitFactory(township=tree.t1)
    elsewhere = UnitFactory(township=tree.canary_township)
    Campaign.objects.filter(pk=campaign.pk).update(scope=tree.city)
    assert [c.pk for c in Campaign.objects.covering(unit)] == [campaign.pk]
    assert Campaign.objects.covering(elsewhere) == []
    assert Campaign.objects.covering(unit, 2019) == [] and len(Campaign.objects.covering(unit, 2020)) == 1


# --- kind → category ---------------------------------------------------------------


def test_kind_to_category_is_one_mapping_in_python_and_sql(tree):
    # the mapping itself: villages and communities are one category, everything else the other
    assert {k for k, c in KIND_CATEGORY.items() if c == Category.VILLAGE_COMMUNITY} == {"village", "community"}
    assert set(KIND_CATEGORY) == set(UnitKind.values)
    # a unit stores its category from it
    for kind in UnitKind.values:
        assert UnitFactory(township=tree.t1, kind=kind).category == KIND_CATEGORY[kind]
    # and the SQL CASE the roll-up runs gives the same answer for every kind
    with connection.cursor() as cur:
        for kind in UnitKind.values:
            cur.execute(f"SELECT {category_case('%s')}", [kind])
            assert cur.fetchone()[0] == KIND_CATEGORY[kind], kind


def test_item_applicability_by_category(standard):
    village = set(
        Item.objects.filter(standard=standard).for_category("village_community").values_list("code", flat=True)
    )
    ei = set(
        Item.objects.filter(standard=standard).for_category("enterprise_institution").values_list("code", flat=True)
    )
    assert village == {"1.1", "1.2", "2.1"} and ei == {"1.1", "1.2", "2.2"}
    assert Item.objects.get(standard=standard, code="2.1").categories == ["village_community"]


# --- scoring and veto --------------------------------------------------------------


def test_scoring_converts_to_100_and_a_veto_item_needs_full_marks(standard):
    items = list(scoring.applicable_items(standard, "enterprise_institution"))  # 1.1 (40), 1.2 (30, veto), 2.2 (20)
    by_code = {i.code: i for i in items}
    full = {i.id: i.max_score for i in items}
    r = scoring.compute(items, {**full, by_code["1.1"].id: Decimal(35)})
    assert (r.total, r.max_total, r.final, r.veto_failed) == (Decimal(85), Decimal(90), Decimal("94.44"), False)
    r = scoring.compute(items, {**full, by_code["1.2"].id: Decimal("29.9")})
    assert r.veto_failed and r.failed_veto_codes == ("1.2",)
    r = scoring.compute(items, {**full, by_code["2.2"].id: None})
    assert r.missing_codes == ("2.2",) and r.final == Decimal("77.78") and not r.veto_failed
    assert scoring.falls_short(by_code["1.2"], None) and not scoring.falls_short(by_code["1.1"], Decimal(0))


@pytest.mark.parametrize(
    "raw,message",
    [("abc", "不是数字"), ("-1", "不能小于 0"), ("41", "超过该项满分"), ("1.25", "一位小数"), ("NaN", "不是数字")],
)
def test_one_score_parser_for_self_reviewer_and_inspector(standard, raw, message):
    item = Item.objects.get(standard=standard, code="1.1")
    with pytest.raises(scoring.ServiceError, match=message):
        scoring.parse_score(raw, item)
    assert scoring.parse_score(" 39.5 ", item) == Decimal("39.5") and scoring.parse_score("", item) is None


# --- overdue -----------------------------------------------------------------------


def test_overdue_is_one_rule_for_querysets_counts_and_one_task(tree, users):
    unit = UnitFactory(township=tree.t1)
    tasks = []
    for status, overdue in itertools.product(TaskStatus.values, [True, False]):
        tasks.append(
            Rectification.objects.create(
                unit=unit,
                title=f"{status}-{overdue}",
                leader="甲",
                lead_department=dept(unit),
                township=unit.township,
                status=status,
                overdue=overdue,
                deadline=dt.date(2022, 1, 1),
                opened_region=tree.t1,
                opened_by=users.officer,
            )
        )
    late = {t.pk for t in tasks if t.overdue and t.status != TaskStatus.CLOSED}
    assert set(Rectification.objects.overdue().values_list("pk", flat=True)) == late
    assert {t.pk for t in tasks if t.is_overdue} == late
    assert set(Rectification.objects.not_overdue().values_list("pk", flat=True)) == {t.pk for t in tasks} - late
    # the daily job picks the unclosed, unmarked ones past their deadline
    due = set(Rectification.objects.due_for_marking(dt.date(2022, 1, 2)).values_list("pk", flat=True))
    assert due == {t.pk for t in tasks if not t.overdue and t.status != TaskStatus.CLOSED}
    assert not Rectification.objects.due_for_marking(dt.date(2022, 1, 1)).exists()


# --- jurisdiction over region figures, as a queryset and as SQL --------------------


def test_scope_regions_and_its_sql_form_agree_for_every_role(users, tree):
    """units.access.scope_regions (querysets) and scope_regions_sql (the statistics
    list's hand-written statement) give every user the same rows — a successor's
    predecessors included, a department's staff none: here over units, keyed by their
    township's code."""
    from units import access

    for township in (tree.t1, tree.t2, tree.canary_township):
        UnitFactory(township=township)
    table = connection.ops.quote_name(Unit._meta.db_table)
    seen = set()
    for name, user in vars(users).items():
        by_orm = set(
            access.scope_regions(user, Unit.objects.all(), region_field="township").values_list("pk", flat=True)
        )
        where, params = access.scope_regions_sql(user, "u.township_id")
        with connection.cursor() as cur:
            cur.execute(f"SELECT u.id FROM {table} u WHERE {where}", params)  # noqa: S608 - a constant table
            by_sql = {pk for (pk,) in cur.fetchall()}
        assert by_orm == by_sql, name
        seen.add(len(by_orm))
    assert seen == {0, 1, 2, 3}  # a department's none, a township's, a county's or city's, all

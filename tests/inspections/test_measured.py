"""Measurable items: Jinzhong's thresholds are data (figures to enter, a threshold, a
scoring rule); officers enter the figures and the score is computed, the reviewer sees
them; bad figures are refused with nothing stored."""

import json
from decimal import Decimal

import pytest

from inspections import scoring, services
from sanling.kernel.errors import ServiceError
from standards.loader import DATA, load_standard
from standards.models import Item
from tests.factories import UnitFactory, make_campaign

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def jinzhong(tree):
    std, _ = load_standard(json.loads((DATA / "jinzhong-sanzhi-sanling-v1.json").read_text(encoding="utf-8")))
    return make_campaign(scope=tree.province, standard=std, slug="jz-test")


def item(jinzhong, code) -> Item:
    return jinzhong.standard.items.get(code=code)


def test_jinzhongs_thresholds_are_data(jinzhong):
    measured = {i.code: i for i in jinzhong.standard.items.all() if i.measured}
    assert set(measured) == {"1.5", "2.2", "2.4", "3.2", "3.5", "3.6"}
    awareness = measured["1.5"]
    assert (awareness.indicator_name, awareness.indicator_threshold, awareness.indicator_unit) == (
        "群众知晓率",
        Decimal("90"),
        "%",
    )
    assert (awareness.indicator_numerator, awareness.indicator_denominator) == ("知晓人数", "抽样人数")
    assert measured["3.5"].indicator_rule == "full_or_zero" and measured["3.2"].indicator_rule == "proportional"


def test_the_score_follows_the_rule(jinzhong):
    awareness, rentals = item(jinzhong, "1.5"), item(jinzhong, "3.5")  # 6 points at ≥ 90 %; 7 points at 100 %
    assert scoring.measure(awareness, Decimal(28), Decimal(30)) == (Decimal("93.33"), Decimal(6))
    # 24 of 30 = 80 %: proportional, 6 × 80 / 90 = 5.33 → 5.3
    assert scoring.measure(awareness, Decimal(24), Decimal(30)) == (Decimal("80.00"), Decimal("5.3"))
    assert scoring.measure(rentals, Decimal(100), Decimal(100))[1] == Decimal(7)
    assert scoring.measure(rentals, Decimal(99), Decimal(100))[1] == Decimal(0)  # all or nothing
    ceiling = Item(
        indicator_rule="proportional",
        indicator_comparison="<=",
        indicator_threshold=Decimal(5),
        indicator_unit="%",
        max_score=Decimal(10),
    )
    assert scoring.measure(ceiling, Decimal(10), Decimal(100))[1] == Decimal(5)  # 10 % against at most 5 %


@pytest.mark.parametrize(
    "num, den, message",
    [
        ("31", "30", "大于抽样人数"),
        ("-1", "30", "不能为负数"),
        ("28", "0", "不能为 0"),
        ("28", "", "请同时填写"),
        ("abc", "30", "不是数字"),
        ("1e20", "30", "超出范围"),
    ],
)
def test_bad_figures_are_refused_and_nothing_stored(tree, users, jinzhong, num, den, message):
    a = services.assessment_start(unit=UnitFactory(township=tree.t1), campaign=jinzhong, year=YEAR, by=users.officer)
    awareness = a.scores.get(item__code="1.5")
    with pytest.raises(ServiceError) as exc:
        services.assessment_save_scores(
            assessment=a,
            scores={awareness.item_id: ("6", "", (num, den))},
            lock_version=a.lock_version,
            by=users.officer,
        )
    assert message in str(exc.value) and "1.5" in str(exc.value)
    awareness.refresh_from_db()
    assert (awareness.self_score, awareness.numerator, awareness.denominator) == (None, None, None)


def test_officers_enter_figures_and_the_score_is_computed(tree, users, jinzhong, client):
    a = services.assessment_start(
        unit=UnitFactory(township=tree.t1, name="锦纶村"), campaign=jinzhong, year=YEAR, by=users.officer
    )
    awareness = a.scores.get(item__code="1.5")
    # a typed 6 for a measured item is not the score: the figures are
    a = services.assessment_save_scores(
        assessment=a,
        scores={awareness.item_id: ("6", "抽样 30 户", ("24", "30"))},
        lock_version=a.lock_version,
        by=users.officer,
    )
    awareness.refresh_from_db()
    assert (awareness.self_score, awareness.numerator, awareness.denominator) == (
        Decimal("5.3"),
        Decimal(24),
        Decimal(30),
    )
    # the API takes and shows figures too
    client.force_login(users.officer)
    resp = client.patch(
        f"/api/v1/assessments/{a.pk}/",
        {"lock_version": a.lock_version, "scores": [{"item": "1.5", "numerator": 28, "denominator": 30}]},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.json()
    row = next(s for s in resp.json()["scores"] if s["item"] == "1.5")
    assert (row["score"], row["numerator"], row["denominator"]) == (6.0, 28.0, 30.0)


def test_region_level_indicators_are_entered_for_the_region(tree, users, client, standard):
    """县级以上文明村镇创建率 is the county's figure, not a unit item."""
    from inspections.models import RegionIndicatorValue
    from inspections.region_indicators import latest, region_indicator_record
    from standards.models import RegionIndicator

    c = make_campaign(scope=tree.province, standard=standard, slug="jz-region")
    ind = RegionIndicator.objects.create(
        campaign=c,
        code="civilised",
        name="县级以上文明村镇创建率",
        level="county",
        threshold=Decimal(60),
        numerator="县级以上文明村镇数",
        denominator="村镇总数",
    )
    with pytest.raises(ServiceError) as exc:
        region_indicator_record(indicator=ind, region=tree.t1, year=YEAR, numerator=1, denominator=2, by=users.reviewer)
    assert "按县" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        region_indicator_record(
            indicator=ind, region=tree.county, year=YEAR, numerator=9, denominator=8, by=users.reviewer
        )
    assert "大于村镇总数" in str(exc.value)
    assert not RegionIndicatorValue.objects.exists()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        region_indicator_record(
            indicator=ind, region=tree.county, year=YEAR, numerator=1, denominator=2, by=users.officer
        )
    client.force_login(users.reviewer)
    resp = client.post(
        "/reports/region-indicator/",
        {
            "campaign": c.slug,
            "year": YEAR,
            "region": tree.county.code,
            "indicator": ind.pk,
            "numerator": "7",
            "denominator": "10",
        },
    )
    assert resp.status_code == 302
    ((got, v),) = latest(c, tree.county, YEAR)
    assert got == ind and v.value == 70 and v.met
    page = client.get("/reports/", {"campaign": c.slug, "year": YEAR, "region": tree.county.code}).content.decode()
    assert 'data-indicator="civilised"' in page and "70.00%" in page


def test_exact_proportions_and_a_note_only_patch_keeps_the_figures(tree, users, jinzhong, client):
    awareness = item(jinzhong, "1.5")
    # 3 of 25 = 12 %: 6 × 12 ÷ 90 = 0.8 exactly (not 0.7 from a rounded-down quotient)
    assert scoring.measure(awareness, Decimal(3), Decimal(25))[1] == Decimal("0.8")
    assert scoring.measure(awareness, Decimal(33), Decimal(50))[1] == Decimal("4.4")
    a = services.assessment_start(unit=UnitFactory(township=tree.t1), campaign=jinzhong, year=YEAR, by=users.officer)
    a = services.assessment_save_scores(
        assessment=a,
        scores={item(jinzhong, "1.5").id: ("", "", ("28", "30"))},
        lock_version=a.lock_version,
        by=users.officer,
    )
    client.force_login(users.officer)
    note_only = client.patch(
        f"/api/v1/assessments/{a.pk}/",
        {"lock_version": a.lock_version, "scores": [{"item": "1.5", "note": "抽样 30 人"}]},
        content_type="application/json",
    )
    assert note_only.status_code == 200
    row = next(s for s in note_only.json()["scores"] if s["item"] == "1.5")
    assert (row["score"], row["numerator"], row["note"]) == (6.0, 28.0, "抽样 30 人")
    typed = client.patch(
        f"/api/v1/assessments/{a.pk}/",
        {"lock_version": note_only.json()["lock_version"], "scores": [{"item": "1.5", "score": 3}]},
        content_type="application/json",
    )
    assert typed.status_code == 400 and "不能直接填分" in typed.json()["error"]["message"]

"""One assessment, two campaigns: Jinzhong's campaign is how Jinzhong carries out
Shanxi's, so a Jinzhong unit's approved Jinzhong assessment counts for Shanxi through the
item mapping — a derived assessment shown as such, never a second self-assessment — and
follows it when it is overturned. Bad mappings are refused."""

import json

import pytest
from django.core.exceptions import ValidationError

from inspections import services
from inspections.models import Assessment
from reports import rollup
from reports.attainment import reasons_for
from sanling.kernel.errors import ServiceError
from standards.loader import DATA, load_mapping, load_standard
from standards.models import ItemMapping
from tests.factories import RegionFactory, UnitFactory, UserFactory, figures, make_campaign
from units.models import Level, Role

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def two(tree):
    shanxi_std, _ = load_standard(json.loads((DATA / "shanxi-sanling-v1.json").read_text(encoding="utf-8")))
    jz_std, _ = load_standard(json.loads((DATA / "jinzhong-sanzhi-sanling-v1.json").read_text(encoding="utf-8")))
    city = RegionFactory(code="140700000000", name="晋中市", level=Level.CITY, parent=tree.province)
    yuci = RegionFactory(code="140702000000", name="榆次区", level=Level.COUNTY, parent=city)
    town = RegionFactory(code="140702001000", name="锦纶街道", level=Level.TOWNSHIP, parent=yuci)
    shanxi = make_campaign(scope=tree.province, standard=shanxi_std, slug="shanxi-sanling", pass_mark=85)
    jinzhong = make_campaign(scope=city, standard=jz_std, slug="jinzhong-sanzhi-sanling", pass_mark=85)
    data = json.loads((DATA / "mappings.json").read_text(encoding="utf-8"))["mappings"][0]
    assert load_mapping(data) == "created"
    jinzhong.refresh_from_db()
    return {
        "shanxi": shanxi,
        "jinzhong": jinzhong,
        "town": town,
        "officer": UserFactory(username="jl_officer", role=Role.TOWNSHIP_OFFICER, region=town),
        "reviewer": UserFactory(username="yc_reviewer", role=Role.COUNTY_REVIEWER, region=yuci),
    }


def assess(two, unit, *, short=None):
    a = services.assessment_start(unit=unit, campaign=two["jinzhong"], year=YEAR, by=two["officer"])
    scores = {}
    for s in a.scores.select_related("item"):
        if s.item.measured:
            scores[s.item_id] = ("", "", ("100", "100"))
        else:
            scores[s.item_id] = (
                str(short if short is not None and s.item.code == "3.3" else s.item.max_score),
                "",
                None,
            )
    a = services.assessment_save_scores(assessment=a, scores=scores, lock_version=a.lock_version, by=two["officer"])
    a = services.assessment_submit(assessment=a, by=two["officer"])
    return services.assessment_approve(assessment=a, by=two["reviewer"])


def test_an_approved_jinzhong_assessment_counts_for_shanxi(two):
    village = UnitFactory(township=two["town"], name="锦纶村")
    # before: the village had to assess twice; without a Shanxi assessment it did not attain there
    assert [r.code for r in reasons_for(village, two["shanxi"], YEAR)][:1] == ["assessed"]
    local = assess(two, village)
    derived = Assessment.objects.get(unit=village, campaign=two["shanxi"], year=YEAR)
    assert derived.derived_from == local and derived.status == "approved" and derived.final_score == 100
    assert reasons_for(village, two["shanxi"], YEAR) == []
    rollup.run(campaign_id=two["shanxi"].id, year=YEAR)
    assert figures(two["shanxi"], two["town"]) == (1, 1)
    # never a second self-assessment, never edited where it was carried to
    with pytest.raises(ServiceError) as exc:
        services.assessment_start(unit=village, campaign=two["shanxi"], year=YEAR, by=two["officer"])
    assert "无需重复自评" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        services.assessment_save_scores(
            assessment=derived, scores={}, lock_version=derived.lock_version, by=two["officer"]
        )
    assert "按对应关系转换" in str(exc.value)


def test_scores_carry_over_by_the_mapping_and_the_derived_one_follows(two):
    plant = UnitFactory(township=two["town"], kind="enterprise", name="榆次机械厂")
    local = assess(two, plant, short=0)  # 3.3 (安全管理) at 0: Shanxi's 5.2–5.4 take its share
    derived = Assessment.objects.get(unit=plant, campaign=two["shanxi"])
    by_code = {s.item.code: s.self_score for s in derived.scores.select_related("item")}
    assert by_code["5.2"] == 0 and by_code["5.3"] == 0 and by_code["5.4"] == 0
    assert by_code["2.1"] == 6  # 零案件: judged by the incident ledger in both
    assert "7.1" in by_code and by_code["7.1"] == 5  # 1.4 does not apply to enterprises: 3.6 alone
    # a spot check overturns the Jinzhong assessment: Shanxi's follows
    services.assessment_overturn(assessment=local, reason="台账造假", by=two["reviewer"])
    derived.refresh_from_db()
    assert derived.status == "overturned"
    assert [r.code for r in reasons_for(plant, two["shanxi"], YEAR)][:1] == ["approved"]


def test_bad_mappings_are_refused(two, tree, standard):
    other = make_campaign(scope=tree.city, standard=standard, slug="other")
    wrong = ItemMapping(
        campaign=two["jinzhong"],
        wider_item=standard.items.first(),  # of another standard than Shanxi's
        local_item=two["jinzhong"].standard.items.first(),
    )
    with pytest.raises(ValidationError) as exc:
        wrong.full_clean()
    assert "不是上级活动" in str(exc.value)
    bad_weight = ItemMapping(
        campaign=two["jinzhong"],
        wider_item=two["shanxi"].standard.items.first(),
        local_item=two["jinzhong"].standard.items.first(),
        weight=0,
    )
    with pytest.raises(ValidationError):
        bad_weight.full_clean()
    # a cycle of implementations
    shanxi = two["shanxi"]
    shanxi.implements = two["jinzhong"]
    with pytest.raises(ValidationError) as exc:
        shanxi.full_clean()
    assert "成环" in str(exc.value)
    assert other.implements is None


def _publish(campaign, by):
    from django.utils import timezone

    from reports import results
    from reports.models import OfficialResult

    result = results.result_close(campaign=campaign, year=YEAR, notice_days=0, by=by, count_pending=True)
    OfficialResult.objects.filter(pk=result.pk).update(notice_ends_on=timezone.localdate())
    result.refresh_from_db()
    return results.result_publish(
        result=result, document_number="晋三零〔2023〕9号", issued_on=timezone.localdate(), issuer="领导小组", by=by
    )


def test_an_overturn_in_jinzhong_takes_the_published_shanxi_title(two, tree, django_capture_on_commit_callbacks):
    from reports.models import Revocation

    province = UserFactory(username="sx_prov", role=Role.PROVINCE_STAFF, region=tree.province)
    village = UnitFactory(township=two["town"], name="锦纶村")
    with django_capture_on_commit_callbacks(execute=True):
        local = assess(two, village)
    result = _publish(two["shanxi"], province)
    assert result.unit_rows.get(unit=village).attained
    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_overturn(assessment=local, reason="台账造假", by=two["reviewer"])
    rev = Revocation.objects.get(result=result, unit=village)
    assert rev.source == "spot_check" and rev.lifted_on is None


def test_a_derived_assessment_follows_even_when_the_unit_has_left_since(two):
    village = UnitFactory(township=two["town"], name="锦纶村")
    local = assess(two, village)
    from units.services import unit_set_active

    unit_set_active(unit=village, active=False, by=two["officer"])  # today; 2022 still counts it
    services.assessment_overturn(assessment=local, reason="台账造假", by=two["reviewer"])
    derived = Assessment.objects.get(unit=village, campaign=two["shanxi"])
    assert derived.status == "overturned"


def test_the_wider_campaign_is_assessed_directly_in_years_the_local_one_does_not_run(two):
    jinzhong = two["jinzhong"]
    jinzhong.end_year = 2021
    jinzhong.save(update_fields=["end_year"])
    village = UnitFactory(township=two["town"], name="锦纶村")
    a = services.assessment_start(unit=village, campaign=two["shanxi"], year=YEAR, by=two["officer"])
    assert a.derived_from is None

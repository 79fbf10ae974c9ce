"""层层审核: a campaign names its review levels; each level in turn approves (passing it up)
or returns it; the last level's approval is the one that counts. Each level's
adjustments are kept beside the self-score, with their reasons."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inspections import selectors, services
from inspections.models import Assessment, Decision, LevelScore, ReviewDecision, Status
from reports.models import AttainmentSnapshot
from tests.factories import UnitFactory, make_assessment, make_campaign

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def chain(campaign):
    campaign.review_levels = ["county", "city", "province"]
    campaign.save(update_fields=["review_levels"])
    return campaign


@pytest.fixture
def submitted(tree, users, chain):
    unit = UnitFactory(township=tree.t1, name="杏花村")
    a = services.assessment_start(unit=unit, campaign=chain, year=YEAR, by=users.officer)
    scores = {s.item_id: (str(s.item.max_score), "") for s in a.scores.select_related("item")}
    a = services.assessment_save_scores(assessment=a, scores=scores, lock_version=a.lock_version, by=users.officer)
    return services.assessment_submit(assessment=a, by=users.officer)


def _item(a, code):
    return a.scores.get(item__code=code).item_id


def _adjust(a, user, **codes):
    return services.assessment_save_scores(
        assessment=a,
        scores={_item(a, code): value for code, value in codes.items()},
        lock_version=Assessment.objects.get(pk=a.pk).lock_version,
        by=user,
        reviewer=True,
    )


def test_each_level_in_turn_and_the_last_approval_counts(
    submitted, users, tree, chain, django_capture_on_commit_callbacks, eager_tasks
):
    a = submitted
    assert (a.status, a.review_level) == (Status.SUBMITTED, "county")
    # the city may not decide before the county
    with pytest.raises(PermissionDenied, match="该自评现在由县/区审核"):
        services.assessment_approve(assessment=a, by=users.city)
    # the county approves: it passes up to the city, still submitted, not yet attained
    with django_capture_on_commit_callbacks(execute=True):
        a = services.assessment_approve(assessment=a, by=users.reviewer)
    assert (a.status, a.review_level) == (Status.SUBMITTED, "city")
    assert not AttainmentSnapshot.objects.filter(campaign=chain, attained_units__gt=0).exists()
    # the county cannot decide twice, nor the province before the city
    with pytest.raises(PermissionDenied):
        services.assessment_approve(assessment=a, by=users.reviewer)
    with pytest.raises(PermissionDenied):
        services.assessment_approve(assessment=a, by=users.province)
    # the city adjusts 1.1 with its reason, and approves: on to the province
    a = _adjust(a, users.city, **{"1.1": ("30", "台账缺 3 个月")})
    a = services.assessment_approve(assessment=a, by=users.city)
    assert (a.status, a.review_level, a.final_score) == (Status.SUBMITTED, "province", Decimal("90.00"))
    # the province approves: that is the approval that counts
    with django_capture_on_commit_callbacks(execute=True):
        a = services.assessment_approve(assessment=a, by=users.province)
    assert (a.status, a.review_level) == (Status.APPROVED, "")
    row = AttainmentSnapshot.objects.get(campaign=chain, year=YEAR, region=tree.t1, category="village_community")
    assert (row.total_units, row.attained_units) == (1, 1)
    # the record: one decision per level, with the final score as each left it
    decisions = list(ReviewDecision.objects.filter(assessment=a).values_list("level", "decision", "final_score"))
    assert decisions == [
        ("county", Decision.PASSED, Decimal("100.00")),
        ("city", Decision.PASSED, Decimal("90.00")),
        ("province", Decision.APPROVED, Decimal("90.00")),
    ]
    assert list(LevelScore.objects.filter(score__assessment=a).values_list("level", "value", "reason")) == [
        ("city", Decimal("30.0"), "台账缺 3 个月")
    ]


def test_an_adjustment_needs_its_reason_and_the_highest_level_counts(submitted, users):
    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    before = Assessment.objects.get(pk=a.pk).lock_version
    with pytest.raises(services.ServiceError, match="1.1：把 40.0 分调整为 30 分须填写理由"):
        _adjust(a, users.city, **{"1.1": ("30", "  ")})
    assert Assessment.objects.get(pk=a.pk).lock_version == before
    assert not LevelScore.objects.exists()
    a = _adjust(a, users.city, **{"1.1": ("30", "台账不全")})
    a = services.assessment_approve(assessment=a, by=users.city)
    # the province gets 30 for 1.1; giving it back 30 is no adjustment, 35 is one
    a = _adjust(a, users.province, **{"1.1": ("30", "")})
    assert LevelScore.objects.filter(level="province").count() == 0
    a = _adjust(a, users.province, **{"1.1": ("35", "复核后补 5 分")})
    s11 = a.scores.get(item__code="1.1")
    assert (s11.self_score, s11.reviewer_score, s11.reviewer_note) == (Decimal(40), Decimal(35), "复核后补 5 分")
    assert a.final_score == Decimal("95.00")
    # and withdrawing its adjustment (a blank) gives the city's back
    a = _adjust(a, users.province, **{"1.1": ("", "")})
    assert a.scores.get(item__code="1.1").reviewer_score == Decimal(30)


def test_a_return_at_any_level_goes_to_the_township_and_the_review_starts_over(submitted, users, login):
    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    a = _adjust(a, users.city, **{"1.1": ("30", "台账不全")})
    with pytest.raises(services.ServiceError, match="退回时必须填写原因"):
        services.assessment_return(assessment=a, reason=" ", by=users.city)
    a = services.assessment_return(assessment=a, reason="请补充台账", by=users.city)
    assert (a.status, a.review_level, a.return_reason) == (Status.RETURNED, "", "请补充台账")
    assert ReviewDecision.objects.filter(level="city", decision=Decision.RETURNED, reason="请补充台账").exists()
    # the township sees the city's adjustment and its reason while it corrects
    page = login(users.officer).get(f"/assessments/{a.pk}/edit/").content.decode()
    assert "台账不全" in page and "市审核分" in page
    # resubmitted: the review starts over from the self-assessment
    a = services.assessment_submit(assessment=a, by=users.officer)
    assert a.review_level == "county"
    assert not LevelScore.objects.exists() and a.scores.get(item__code="1.1").reviewer_score is None
    assert a.final_score == Decimal("100.00")


def test_the_queue_is_the_levels_own_oldest_first_with_counts_per_township(tree, users, chain, login):
    old = make_assessment(unit=UnitFactory(township=tree.t2, name="老村"), campaign=chain, status="submitted")
    new = make_assessment(unit=UnitFactory(township=tree.t1, name="新村"), campaign=chain, status="submitted")
    up = make_assessment(unit=UnitFactory(township=tree.t1, name="市级村"), campaign=chain, status="submitted")
    Assessment.objects.filter(pk=old.pk).update(waiting_since="2022-03-01T08:00:00+08:00")
    Assessment.objects.filter(pk=up.pk).update(review_level="city")
    county = list(selectors.review_queue(user=users.reviewer))
    assert [a.pk for a in county] == [old.pk, new.pk]
    assert [a.pk for a in selectors.review_queue(user=users.city)] == [up.pk]
    counts = selectors.queue_by_township(selectors.review_queue(user=users.reviewer))
    assert [(c["unit__township__name"], c["n"]) for c in counts] == [("营盘街道", 1), ("坞城街道", 1)]
    page = login(users.reviewer).get("/assessments/queue/").content.decode()
    assert page.index("老村") < page.index("新村") and "市级村" not in page
    assert 'data-township="140105002000"' in page


def test_bulk_approval_of_unadjusted_ones_with_one_confirmation(tree, users, chain, login):
    a1, a2, a3 = (
        make_assessment(unit=UnitFactory(township=tree.t1), campaign=chain, status="submitted") for _ in range(3)
    )
    _adjust(a3, users.reviewer, **{"1.1": ("30", "扣分")})
    client = login(users.reviewer)
    # without the confirmation: nothing
    client.post("/assessments/queue/approve/", {"ids": [a1.pk, a2.pk]})
    assert set(Assessment.objects.values_list("review_level", flat=True)) == {"county"}
    # with an adjusted one among them: refused whole, naming it
    with pytest.raises(services.ServiceError, match="已调整得分，请逐份审核"):
        services.assessment_approve_many(ids=[a1.pk, a3.pk], confirmed=True, by=users.reviewer)
    assert Assessment.objects.get(pk=a1.pk).review_level == "county"
    # another city's or a missing one: refused whole too
    with pytest.raises(services.ServiceError, match="98765"):
        services.assessment_approve_many(ids=[a1.pk, 98765], confirmed=True, by=users.reviewer)
    resp = client.post("/assessments/queue/approve/", {"ids": [a1.pk, a2.pk], "confirm": "1"})
    assert resp.status_code == 302
    assert [Assessment.objects.get(pk=a.pk).review_level for a in (a1, a2, a3)] == ["city", "city", "county"]
    assert ReviewDecision.objects.filter(decision=Decision.PASSED, by=users.reviewer).count() == 2


def test_the_pages_show_every_levels_scores_side_by_side(submitted, users, login):
    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    a = _adjust(a, users.city, **{"1.1": ("30", "台账缺 3 个月")})
    page = login(users.officer).get(f"/assessments/{a.pk}/").content.decode()
    for header in ("县/区审核分", "市审核分", "省审核分", "台账缺 3 个月"):
        assert header in page, header
    assert 'data-level="city"' in page and "待审核" in page
    review = login(users.city).get(f"/assessments/{a.pk}/review/").content.decode()
    assert 'value="30.0"' in review and "台账缺 3 个月" in review


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (["county", "town"], "审核层级应为以下层级"),
        (["city", "county"], "自下而上"),
        (["county", "county"], "自下而上"),
        ([], "审核层级应为以下层级"),
        (["county", "city", "province"], "不能高于活动范围"),
    ],
)
def test_a_campaigns_chain_must_be_levels_from_the_bottom_up_within_its_scope(tree, standard, levels, message):
    campaign = make_campaign(scope=tree.city, standard=standard, slug="taiyuan")  # a city's campaign
    campaign.review_levels = levels
    with pytest.raises(ValidationError) as exc:
        campaign.full_clean()
    assert message in " ".join(exc.value.message_dict["review_levels"])


def test_an_appeal_reopens_an_overturned_assessment_from_the_first_level(submitted, users, chain):
    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    a = services.assessment_approve(assessment=a, by=users.city)
    a = services.assessment_approve(assessment=a, by=users.province)
    a = services.assessment_overturn(assessment=a, reason="抽查台账造假", by=users.province)
    with pytest.raises(PermissionDenied):
        services.assessment_reopen(assessment=a, reason="申诉成立", by=users.city)  # not the campaign's level
    with pytest.raises(services.ServiceError, match="须说明理由"):
        services.assessment_reopen(assessment=a, reason="", by=users.province)
    a = services.assessment_reopen(assessment=a, reason="申诉成立：台账已补齐", by=users.province)
    assert (a.status, a.review_level) == (Status.SUBMITTED, "county")
    assert ReviewDecision.objects.filter(decision=Decision.REOPENED, reason="申诉成立：台账已补齐").exists()


def test_the_deviation_report_covers_every_level(submitted, users, tree, chain, login):
    import datetime as dt

    from supervision import services as supervision

    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    a = _adjust(a, users.city, **{"1.1": ("30", "台账不全")})
    a = services.assessment_approve(assessment=a, by=users.city)
    a = services.assessment_approve(assessment=a, by=users.province)
    ins = supervision.inspection_plan(
        region=tree.county,
        campaign=chain,
        year=YEAR,
        kind="ad_hoc",
        mode="announced",
        planned_on=dt.date(2022, 6, 1),
        inspectors="检查组",
        unit_codes=[a.unit.code],
        by=users.city,
    )
    scores = {s.item.code: str(s.item.max_score - (20 if s.item.code == "1.1" else 0)) for s in a.scores.all()}
    check = supervision.spot_check_record(
        check=ins.checks.get(), scores=scores, outcome="confirmed", reason="", by=users.city
    )
    assert (check.self_final, check.county_final, check.city_final, check.province_final, check.inspector_final) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("90.00"),
        Decimal("90.00"),
        Decimal("80.00"),
    )
    assert check.level_deviations() == {"county": Decimal(20), "city": Decimal(10), "province": Decimal(10)}
    page = (
        login(users.city)
        .get("/supervision/inspections/deviation/", {"campaign": chain.slug, "year": YEAR, "region": tree.county.code})
        .content.decode()
    )
    assert "平均偏差（市审核−检查）" in page and "平均偏差（省审核−检查）" in page
    assert '<td class="num" data-level="city">10.0</td>' in page


def test_an_edited_chain_keeps_waiting_assessments_in_a_queue(
    submitted, users, chain, django_capture_on_commit_callbacks
):
    """The chain loses the level an assessment waits at: it moves to the level that now
    decides for it (the nearest above), and is decided there — no error, no orphan."""
    from standards.events import campaign_changed

    a = services.assessment_approve(assessment=submitted, by=users.reviewer)
    assert a.review_level == "city"
    chain.review_levels = ["county", "province"]
    chain.full_clean()
    chain.save(update_fields=["review_levels"])
    a.refresh_from_db()
    assert a.deciding_level == "province" and a.chain()[1]["state"] == "waiting"
    campaign_changed.send(sender=type(chain), campaign_id=chain.pk)
    a.refresh_from_db()
    assert a.review_level == "province"
    assert [x.pk for x in selectors.review_queue(user=users.province)] == [a.pk]
    a = services.assessment_approve(assessment=a, by=users.province)
    assert a.status == Status.APPROVED

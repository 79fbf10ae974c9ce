"""The self-assessment workflow: state machine, scoring, veto, version pinning, bad
input, the optimistic lock, jurisdiction and history."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from inspections import services
from inspections.models import Assessment, Evidence, Status
from reports.models import AttainmentSnapshot
from tests.factories import UnitFactory, make_standard
from units.models import AuditEvent

YEAR = 2022
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def unit(tree):
    return UnitFactory(township=tree.t1, name="杏花村")


@pytest.fixture
def draft(unit, campaign, users):
    return services.assessment_start(unit=unit, campaign=campaign, year=YEAR, by=users.officer)


def full_scores(a, **override):
    return {s.item_id: (override.get(s.item.code, s.item.max_score), "") for s in a.scores.select_related("item")}


def fill(a, user, **override):
    return services.assessment_save_scores(
        assessment=a, scores=full_scores(a, **override), lock_version=a.lock_version, by=user
    )


# --- state machine ---------------------------------------------------------------


def test_full_cycle_with_return_and_resubmit(draft, users):
    a = fill(draft, users.officer)
    a = services.assessment_submit(assessment=a, by=users.officer)
    assert a.status == Status.SUBMITTED
    a = services.assessment_return(assessment=a, reason="佐证材料不全", by=users.reviewer)
    assert (a.status, a.return_reason) == (Status.RETURNED, "佐证材料不全")
    a = fill(a, users.officer, **{"1.1": Decimal(35)})
    a = services.assessment_submit(assessment=a, by=users.officer)
    a = services.assessment_approve(assessment=a, by=users.reviewer)
    assert a.status == Status.APPROVED and a.final_score == Decimal("95.00") and a.return_reason == ""
    actions = list(
        AuditEvent.objects.filter(target_type="inspections.assessment", target_id=str(a.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "assessment.started",
        "assessment.submitted",
        "assessment.returned",
        "assessment.submitted",
        "assessment.approved",
    ]


@pytest.mark.parametrize(
    "status,action",
    [
        (Status.DRAFT, "approve"),
        (Status.DRAFT, "return"),
        (Status.SUBMITTED, "submit"),
        (Status.APPROVED, "submit"),
        (Status.APPROVED, "approve"),
        (Status.RETURNED, "approve"),
        (Status.OVERTURNED, "submit"),
        (Status.OVERTURNED, "approve"),
    ],
)
def test_illegal_transitions_are_refused(draft, users, status, action):
    fill(draft, users.officer)
    Assessment.objects.filter(pk=draft.pk).update(status=status)
    draft.refresh_from_db()
    call = {
        "submit": lambda: services.assessment_submit(assessment=draft, by=users.officer),
        "approve": lambda: services.assessment_approve(assessment=draft, by=users.reviewer),
        "return": lambda: services.assessment_return(assessment=draft, reason="x", by=users.reviewer),
    }[action]
    with pytest.raises(services.ServiceError, match="不能执行"):
        call()
    draft.refresh_from_db()
    assert draft.status == status


def test_approved_cannot_be_edited_only_returned(draft, users):
    a = services.assessment_approve(
        assessment=services.assessment_submit(assessment=fill(draft, users.officer), by=users.officer),
        by=users.reviewer,
    )
    with pytest.raises(services.ServiceError, match="退回后才能修改"):
        fill(a, users.officer, **{"1.1": Decimal(1)})
    a = services.assessment_return(assessment=a, reason="重新核实", by=users.reviewer)
    assert fill(a, users.officer, **{"1.1": Decimal(1)}).total_score == 61


def test_roles_are_enforced(draft, users):
    with pytest.raises(PermissionDenied):
        fill(draft, users.reviewer)
    a = services.assessment_submit(assessment=fill(draft, users.officer), by=users.officer)
    with pytest.raises(PermissionDenied):
        services.assessment_approve(assessment=a, by=users.officer)
    with pytest.raises(PermissionDenied):
        services.assessment_approve(assessment=a, by=users.city)


# --- scoring -----------------------------------------------------------------------


def test_reasonable_omission_and_veto(tree, campaign, users):
    ent = UnitFactory(township=tree.t1, kind="hospital")
    a = services.assessment_start(unit=ent, campaign=campaign, year=YEAR, by=users.officer)
    assert sorted(s.item.code for s in a.scores.all()) == ["1.1", "1.2", "2.2"]  # 2.1 is villages only
    # a veto item counts full marks or nothing: 29 of 30 is refused, 0 fails the veto
    with pytest.raises(services.ServiceError) as exc:
        fill(a, users.officer, **{"1.2": Decimal(29)})
    assert "一票否决项，只计满分（30）或 0 分" in str(exc.value)
    a = fill(a, users.officer, **{"1.2": Decimal(0)})
    assert (a.total_score, a.max_score, a.final_score, a.veto_failed) == (60, 90, Decimal("66.67"), True)


def test_reviewer_score_is_kept_beside_and_counts(draft, users):
    a = services.assessment_submit(assessment=fill(draft, users.officer), by=users.officer)
    s11 = a.scores.get(item__code="1.1")
    a = services.assessment_save_scores(
        assessment=a,
        scores={s11.item_id: ("30", "扣 10 分：台账不全")},
        lock_version=a.lock_version,
        by=users.reviewer,
        reviewer=True,
    )
    s11.refresh_from_db()
    assert (s11.self_score, s11.reviewer_score) == (40, 30)
    assert a.final_score == Decimal("90.00")


def test_version_pinning(draft, campaign, users):
    # given: an assessment on version 1; when a version 2 is published and the campaign moves to it
    v2 = make_standard(version=2)
    campaign.standard = v2
    campaign.save()
    v2.items.filter(code="1.1").update(max_score=Decimal(50))
    # then: the old assessment still scores on version 1
    draft.refresh_from_db()
    assert draft.standard.version == 1
    a = fill(draft, users.officer)
    assert a.max_score == 100 and {s.item.standard_id for s in a.scores.all()} == {draft.standard_id}


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,message",
    [
        ("41", "超过该项满分 40"),
        ("-1", "不能小于 0"),
        ("abc", "不是数字"),
        ("NaN", "不是数字"),
        ("3.25", "一位小数"),
    ],
)
def test_bad_scores_refused_and_nothing_changes(draft, users, raw, message):
    a = fill(draft, users.officer)
    before = sorted(a.scores.values_list("item_id", "self_score"))
    scores = full_scores(a)
    first = a.scores.get(item__code="1.1").item_id
    scores[first] = (raw, "")
    scores[a.scores.get(item__code="2.1").item_id] = ("1", "")  # a valid change in the same save
    with pytest.raises(services.ServiceError, match=message):
        services.assessment_save_scores(assessment=a, scores=scores, lock_version=a.lock_version, by=users.officer)
    assert sorted(a.scores.values_list("item_id", "self_score")) == before


def test_submit_with_missing_items_lists_them(draft, users):
    s = draft.scores.get(item__code="1.1")
    a = services.assessment_save_scores(
        assessment=draft, scores={s.item_id: ("10", "")}, lock_version=draft.lock_version, by=users.officer
    )
    with pytest.raises(services.ServiceError, match="1.2、2.1"):
        services.assessment_submit(assessment=a, by=users.officer)
    a.refresh_from_db()
    assert a.status == Status.DRAFT


def test_second_save_from_a_stale_version_is_refused(draft, users):
    # given: two officers opened the same draft (same lock_version)
    opened = draft.lock_version
    s = draft.scores.get(item__code="1.1")
    services.assessment_save_scores(
        assessment=draft, scores={s.item_id: ("40", "甲的说明")}, lock_version=opened, by=users.officer
    )
    # when: the second saves from the version they opened
    with pytest.raises(services.ServiceError, match="已被他人修改"):
        services.assessment_save_scores(
            assessment=draft, scores={s.item_id: ("1", "乙的说明")}, lock_version=opened, by=users.officer
        )
    # then: the first save is intact
    s.refresh_from_db()
    assert (s.self_score, s.note) == (40, "甲的说明")


def test_start_outside_years_or_scope(unit, campaign, users, canary):
    with pytest.raises(services.ServiceError, match="不含 2019 年"):
        services.assessment_start(unit=unit, campaign=campaign, year=2019, by=users.officer)
    unit.active = False
    unit.save()
    with pytest.raises(services.ServiceError, match="已归档"):
        services.assessment_start(unit=unit, campaign=campaign, year=YEAR, by=users.officer)


# --- evidence ----------------------------------------------------------------------


def upload(name, content):
    return SimpleUploadedFile(name, content)


def test_evidence_accepted_by_content_and_served_only_in_jurisdiction(login, draft, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = draft.scores.get(item__code="1.1").item_id
    ev = services.evidence_add(assessment=draft, item_id=item, upload=upload("台账.pdf", PDF), by=users.officer)
    assert ev.content_type == "application/pdf" and "台账" not in ev.file.name
    resp = login(users.officer).get(f"/assessments/evidence/{ev.pk}/")
    assert resp.status_code == 200 and resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Disposition"].startswith("attachment")
    assert login(users.canary_officer).get(f"/assessments/evidence/{ev.pk}/").status_code == 404


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("假.pdf", b"<html><script>alert(1)</script></html>", "类型不允许"),
        ("图.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "类型不允许"),
        ("程序.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "类型不允许"),
    ],
)
def test_evidence_bad_type_refused(draft, users, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    item = draft.scores.get(item__code="1.1").item_id
    with pytest.raises(services.ServiceError, match=message):
        services.evidence_add(assessment=draft, item_id=item, upload=upload(name, content), by=users.officer)
    assert Evidence.objects.count() == 0


def test_evidence_too_big(draft, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EVIDENCE_MAX_BYTES = 1024
    item = draft.scores.get(item__code="1.1").item_id
    with pytest.raises(services.ServiceError, match="过大"):
        services.evidence_add(
            assessment=draft, item_id=item, upload=upload("大.pdf", PDF + b"0" * 2000), by=users.officer
        )


def test_bad_file_in_the_form_saves_nothing(login, draft, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(users.officer)
    data = {f"score_{s.item_id}": "1" for s in draft.scores.all()}
    item = draft.scores.get(item__code="1.1").item_id
    data.update(
        {"lock_version": draft.lock_version, "action": "save", f"evidence_{item}": io.BytesIO(b"<html></html>")}
    )
    data[f"evidence_{item}"].name = "x.pdf"
    resp = client.post(f"/assessments/{draft.pk}/edit/", data)
    assert resp.status_code == 400 and "类型不允许" in resp.content.decode()
    assert not draft.scores.exclude(self_score=None).exists()


# --- pages and jurisdiction ---------------------------------------------------------


def test_browser_flow_and_history(login, draft, users, tree, django_capture_on_commit_callbacks):
    officer = login(users.officer)
    data = {f"score_{s.item_id}": str(s.item.max_score) for s in draft.scores.select_related("item")}
    resp = officer.post(
        f"/assessments/{draft.pk}/edit/", {**data, "lock_version": draft.lock_version, "action": "submit"}
    )
    assert resp.status_code == 302
    reviewer = login(users.reviewer)
    assert "杏花村" in reviewer.get("/assessments/queue/").content.decode()
    draft.refresh_from_db()
    resp = reviewer.post(f"/assessments/{draft.pk}/review/", {"action": "return", "reason": "请补充 1.1 台账"})
    assert resp.status_code == 302
    officer = login(users.officer)
    assert "请补充 1.1 台账" in officer.get(f"/assessments/{draft.pk}/edit/").content.decode()
    draft.refresh_from_db()
    officer.post(f"/assessments/{draft.pk}/edit/", {**data, "lock_version": draft.lock_version, "action": "submit"})
    draft.refresh_from_db()
    s11 = draft.scores.get(item__code="1.1")
    with django_capture_on_commit_callbacks(execute=True):
        login(users.reviewer).post(
            f"/assessments/{draft.pk}/review/",
            {
                "action": "approve",
                "lock_version": draft.lock_version,
                f"review_{s11.item_id}": "38",
                f"review_note_{s11.item_id}": "扣 2 分：台账不全",  # an adjustment needs its reason
            },
        )
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED and draft.final_score == Decimal("98.00")
    html = login(users.officer).get(f"/assessments/{draft.pk}/").content.decode()
    for step in ["开始自评", "提交审核", "退回", "审核通过", "1.1 审核分", "请补充 1.1 台账"]:
        assert step in html, step
    # the approval reached the snapshot (in-process task on the embedded default)
    assert (
        AttainmentSnapshot.objects.get(
            region=tree.province, category="village_community", campaign=draft.campaign, year=YEAR
        ).attained_units
        == 1
    )


def test_canary_never_in_worklist_or_queue(login, users, campaign, canary, draft):
    a = services.assessment_start(unit=canary, campaign=campaign, year=YEAR, by=users.admin)
    Assessment.objects.filter(pk=a.pk).update(status=Status.SUBMITTED)
    assert "金丝雀村" not in login(users.officer).get("/assessments/").content.decode()
    assert "金丝雀村" not in login(users.reviewer).get("/assessments/queue/").content.decode()
    for url in [f"/assessments/{a.pk}/", f"/assessments/{a.pk}/edit/"]:
        assert login(users.officer).get(url).status_code == 404
    assert login(users.reviewer).get(f"/assessments/{a.pk}/review/").status_code == 404
    assert login(users.reviewer).post(f"/assessments/{a.pk}/review/", {"action": "approve"}).status_code == 404
    a.refresh_from_db()
    assert a.status == Status.SUBMITTED


def test_worklist_query_count(login, users, tree, campaign, django_assert_max_num_queries):
    for _ in range(20):
        UnitFactory(township=tree.t1)
    client = login(users.officer)
    # a constant number whatever the unit count (13 = 12 + the top bar's unread-notification count)
    with django_assert_max_num_queries(13):
        assert client.get("/assessments/").status_code == 200


def test_returning_an_approved_assessment_reaches_the_rollup(
    login, unit, campaign, users, django_capture_on_commit_callbacks
):
    from reports import rollup
    from tests.factories import figures, make_assessment

    a = make_assessment(unit=unit, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert figures(campaign, unit.township) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        resp = login(users.reviewer).post(
            f"/assessments/{a.pk}/review/",
            {"action": "return", "reason": "复核发现问题", "lock_version": a.lock_version},
        )
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.status == Status.RETURNED
    assert figures(campaign, unit.township) == (1, 0) and figures(campaign, campaign.scope) == (1, 0)


def test_each_changed_score_leaves_a_history_row_by_its_editor_and_an_unchanged_one_none(draft, users):
    from inspections.models import ItemScore

    a = fill(draft, users.officer)
    history = ItemScore.history.filter(assessment_id=a.pk, history_type="~")
    after_first = history.count()
    assert after_first == a.scores.count()  # every score was empty before
    assert set(history.values_list("history_user", flat=True)) == {users.officer.pk}
    fill(a, users.officer, **{"1.1": Decimal(35)})  # one score changed, the rest as they were
    assert history.count() == after_first + 1
    newest = history.order_by("-history_id").first()
    assert (newest.item.code, newest.self_score, newest.history_user_id) == ("1.1", Decimal(35), users.officer.pk)

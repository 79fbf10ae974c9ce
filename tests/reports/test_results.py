"""The year's official result: close (锁定), notice (公示), appeal (申诉), publication
(发文命名), 摘牌 — frozen rows, a fingerprint that verifies, and every refusal precise with
nothing stored."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.utils import timezone

from inspections import incidents
from inspections import services as assessments
from inspections.models import Assessment, Status
from reports import attainment, results, rollup
from reports.models import (
    Appeal,
    AppealStatus,
    OfficialResult,
    ResultRegion,
    ResultStatus,
    ResultUnit,
    Revocation,
)
from sanling.kernel.errors import ServiceError
from tests.factories import UnitFactory, make_assessment
from units.models import AuditEvent

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def world(tree, campaign, canary):
    """太原: two attained villages, one short of the pass mark, one unassessed; 大同's canary."""
    campaign.city_grade_pass_mark = Decimal(90)
    campaign.save(update_fields=["city_grade_pass_mark"])
    units = {
        "ok": UnitFactory(township=tree.t1, name="达标村"),
        "ok2": UnitFactory(township=tree.t2, name="达标二村"),
        "short": UnitFactory(township=tree.t1, name="差分村"),
        "none": UnitFactory(township=tree.t2, name="未评村"),
    }
    make_assessment(unit=units["ok"], campaign=campaign, status="approved")
    make_assessment(unit=units["ok2"], campaign=campaign, status="approved", scores={"1.1": Decimal(28)})  # 88
    make_assessment(unit=units["short"], campaign=campaign, status="approved", scores={"1.1": Decimal(10)})  # 70
    make_assessment(unit=canary, campaign=campaign, status="approved")
    return units


def close(campaign, users, days=7, **kw):
    return results.result_close(campaign=campaign, year=YEAR, notice_days=days, by=users.province, **kw)


def end_notice(result):
    """The notice period over (the test's clock: the stored last day moved back)."""
    OfficialResult.objects.filter(pk=result.pk).update(notice_ends_on=timezone.localdate())
    result.refresh_from_db()


def stored(result):
    return (
        list(ResultUnit.objects.filter(result=result).order_by("seq").values()),
        list(ResultRegion.objects.filter(result=result).order_by("seq").values()),
    )


# --- close ------------------------------------------------------------------------


def test_closing_freezes_every_units_outcome_and_every_regions_figures(world, users, campaign, tree, canary):
    result = close(campaign, users)
    rows = {r.unit_code: r for r in ResultUnit.objects.filter(result=result)}
    assert len(rows) == result.units_total == 5
    ok, ok2, short, none = (rows[world[k].code] for k in ("ok", "ok2", "short", "none"))
    assert (ok.attained, ok.final_score, ok.grade, ok.failed) == (True, Decimal("100.00"), "city", "")
    assert (ok2.attained, ok2.grade) == (True, "district")
    assert (short.attained, short.grade, short.failed_conditions) == (False, "", ["score"])
    assert (none.attained, none.final_score, none.failed_conditions) == (False, None, ["assessed"])
    assert ok.township_code == tree.t1.code and ok.unit_name == "达标村"
    # the same outcome as the rule gives, unit by unit
    for code, row in rows.items():
        unit = row.unit
        assert row.attained == (not attainment.reasons_for(unit, campaign, YEAR)), code
    # every region row is the snapshot's as the close's roll-up wrote it
    county = ResultRegion.objects.get(result=result, region=tree.county, category="village_community")
    assert (county.total_units, county.attained_units, county.rate) == (4, 2, Decimal("0.5"))
    assert county.region_name == "小店区"
    assert results.verify(result) == {"ok": True, "digest": result.digest, "stored": result.digest}
    assert AuditEvent.objects.filter(action="result.closed", detail__digest=result.digest).exists()
    assert result.status == ResultStatus.NOTICE and result.notice_ends_on == timezone.localdate() + dt.timedelta(7)


def test_the_rows_are_append_only_in_python(world, users, campaign):
    result = close(campaign, users)
    row = ResultUnit.objects.filter(result=result).first()
    row.attained = not row.attained
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        ResultUnit.objects.filter(result=result).update(attained=True)
    with pytest.raises(PermissionError):
        ResultRegion.objects.filter(result=result).delete()
    with pytest.raises(PermissionError):
        ResultRegion.objects.filter(result=result).first().delete()


def test_a_row_changed_behind_the_services_back_fails_verification(world, users, campaign):
    """On SQLite nothing in the database stops a raw UPDATE (PostgreSQL refuses it, tested
    in tests/integration): the fingerprint then no longer matches."""
    result = close(campaign, users)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the UPDATE itself: tests/integration/test_results_postgres.py")
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {ResultUnit._meta.db_table} SET attained = 1 WHERE result_id = %s", [result.pk])  # noqa: S608
    check = results.verify(result)
    assert check["ok"] is False and check["digest"] != result.digest


def test_later_changes_and_roll_ups_leave_the_official_result_as_it_was(world, users, campaign, tree):
    result = close(campaign, users)
    before = stored(result)
    a = Assessment.objects.get(unit=world["short"])
    assessments.assessment_return(assessment=a, reason="重新评", by=users.reviewer)
    incidents.incident_record(
        severity="general",
        unit=world["ok"],
        kind="criminal_case",
        occurred_on=dt.date(2022, 5, 1),
        description="盗窃",
        by=users.officer,
    )
    rollup.run(campaign_id=campaign.pk, year=YEAR)  # the nightly roll-up
    assert stored(result) == before
    assert results.verify(result)["ok"]
    live = attainment.reasons_for(world["ok"], campaign, YEAR)
    assert live and ResultUnit.objects.get(result=result, unit=world["ok"]).attained  # live moved, official stood


def test_closing_is_refused_precisely_and_stores_nothing(world, users, campaign, tree):
    pending = make_assessment(unit=UnitFactory(township=tree.t1, name="待审村"), campaign=campaign, status="submitted")
    with pytest.raises(PermissionDenied, match="山西省"):
        results.result_close(campaign=campaign, year=YEAR, notice_days=7, by=users.city)
    with pytest.raises(ServiceError) as exc:
        close(campaign, users)
    lines = exc.value.message_dict["pending"]
    assert "尚有 1 份自评等待审核" in lines[0] and "坞城街道：1 份（待县/区审核）" in lines[1]
    for bad, field in (({"notice_days": 91}, "notice_days"), ({"year": 2019}, "year")):
        with pytest.raises(ServiceError) as exc:
            results.result_close(
                campaign=campaign, by=users.province, count_pending=True, **{"year": YEAR, "notice_days": 7, **bad}
            )
        assert field in exc.value.message_dict
    assert not OfficialResult.objects.exists() and not ResultUnit.objects.exists()
    # closed anyway, the waiting one counted as not attained
    result = close(campaign, users, count_pending=True)
    assert result.pending_counted == 1
    row = ResultUnit.objects.get(result=result, unit=pending.unit)
    assert (row.attained, row.failed_conditions) == (False, ["approved"])
    with pytest.raises(ServiceError, match="不能重复锁定"):
        close(campaign, users, count_pending=True)


# --- appeal ---------------------------------------------------------------------


def test_an_upheld_appeal_reopens_the_review_and_its_outcome_enters_as_an_amendment(
    world, users, campaign, tree, django_capture_on_commit_callbacks
):
    result = close(campaign, users)
    original = stored(result)
    digest = result.digest
    evidence = SimpleUploadedFile("补充台账.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    appeal = results.appeal_file(
        result=result, unit=world["short"], reason="1.1 台账已齐全，县级扣分有误", upload=evidence, by=users.officer
    )
    assert appeal.evidence_type == "application/pdf" and appeal.evidence_name == "补充台账.pdf"
    with pytest.raises(ServiceError, match="不能重复申诉"):
        results.appeal_file(result=result, unit=world["short"], reason="再诉", by=users.officer)
    results.appeal_decide(appeal=appeal, outcome="upheld", reason="经核实台账齐全", by=users.province)
    a = Assessment.objects.get(unit=world["short"])
    assert (a.status, a.review_level) == (Status.SUBMITTED, "county")
    # the county gives 1.1 its points back and approves: the amendment is recorded
    item = a.scores.get(item__code="1.1").item_id
    a = assessments.assessment_save_scores(
        assessment=a, scores={item: ("40", "台账齐全")}, lock_version=a.lock_version, by=users.reviewer, reviewer=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        assessments.assessment_approve(assessment=a, by=users.reviewer)
    amendment = ResultUnit.objects.get(result=result, appeal=appeal)
    assert (amendment.attained, amendment.final_score, amendment.amends.attained) == (True, Decimal("100.00"), False)
    units_after, regions_after = stored(result)
    assert units_after[: len(original[0])] == original[0]  # the original rows stay as they were
    assert regions_after[: len(original[1])] == original[1]
    fresh = {(r["region_id"], r["category"]): r for r in regions_after[len(original[1]) :]}
    assert set(fresh) == {
        (c, "village_community") for c in (tree.t1.code, tree.county.code, tree.city.code, tree.province.code)
    }
    assert (
        fresh[(tree.t1.code, "village_community")]["attained_units"],
        fresh[(tree.t1.code, "village_community")]["rate"],
    ) == (
        2,
        Decimal("1"),
    )
    current = results.current_region_rows(result).get(region=tree.county, category="village_community")
    assert (current.attained_units, current.rate) == (3, Decimal("0.75"))
    result.refresh_from_db()
    assert result.digest != digest and results.verify(result)["ok"]
    assert Appeal.objects.get(pk=appeal.pk).amended_at is not None


def test_appeals_are_refused_precisely(world, users, campaign, tree, canary):
    result = close(campaign, users)
    with pytest.raises(Http404):  # another city's unit: as if missing
        results.appeal_file(result=result, unit=canary, reason="越界", by=users.officer)
    with pytest.raises(PermissionDenied):
        results.appeal_file(result=result, unit=world["short"], reason="审核人员申诉", by=users.reviewer)
    with pytest.raises(ServiceError) as exc:
        results.appeal_file(result=result, unit=world["short"], reason="  ", by=users.officer)
    assert "申诉理由" in exc.value.message_dict["reason"][0]
    bad = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ServiceError) as exc:
        results.appeal_file(result=result, unit=world["short"], reason="附件", upload=bad, by=users.officer)
    assert "evidence" in exc.value.message_dict
    # an appeal filed by an administrator is not decided by the same person
    own = results.appeal_file(result=result, unit=world["none"], reason="漏评", by=users.admin)
    with pytest.raises(PermissionDenied, match="自己提出的申诉"):
        results.appeal_decide(appeal=own, outcome="rejected", reason="不成立", by=users.admin)
    with pytest.raises(PermissionDenied):
        results.appeal_decide(appeal=own, outcome="rejected", reason="不成立", by=users.city)
    with pytest.raises(ServiceError) as exc:
        results.appeal_decide(appeal=own, outcome="maybe", reason="？", by=users.province)
    assert "outcome" in exc.value.message_dict
    results.appeal_decide(appeal=own, outcome="rejected", reason="未开展自评，不属复核范围", by=users.province)
    with pytest.raises(ServiceError, match="不能重复处理"):
        results.appeal_decide(appeal=own, outcome="upheld", reason="改判", by=users.province)
    assert Assessment.objects.filter(unit=world["none"]).count() == 0
    # after the notice: none taken
    end_notice(result)
    with pytest.raises(ServiceError, match="公示期已于"):
        results.appeal_file(result=result, unit=world["short"], reason="晚了", by=users.officer)
    assert Appeal.objects.count() == 1


# --- publication and 摘牌 -----------------------------------------------------------


def test_publication_after_the_notice_with_a_document_number_and_a_pdf(world, users, campaign):
    result = close(campaign, users)
    publish = dict(
        document_number="晋三零办〔2023〕1号", issued_on=timezone.localdate(), issuer="山西省“三零”创建领导小组"
    )
    with pytest.raises(ServiceError, match="公示期至"):
        results.result_publish(result=result, by=users.province, **publish)
    appeal = results.appeal_file(result=result, unit=world["short"], reason="复核", by=users.officer)
    end_notice(result)
    with pytest.raises(ServiceError, match="差分村”的申诉尚未处理"):
        results.result_publish(result=result, by=users.province, **publish)
    results.appeal_decide(appeal=appeal, outcome="upheld", reason="成立", by=users.province)
    with pytest.raises(ServiceError, match="复核尚未完成"):
        results.result_publish(result=result, by=users.province, **publish)
    Appeal.objects.filter(pk=appeal.pk).update(status=AppealStatus.REJECTED)  # as if decided the other way
    with pytest.raises(ServiceError) as exc:
        results.result_publish(result=result, by=users.province, document_number=" ", issued_on="2099-01-01", issuer="")
    assert set(exc.value.message_dict) == {"document_number", "issued_on", "issuer"}
    with pytest.raises(PermissionDenied):
        results.result_publish(result=result, by=users.city, **publish)
    result = results.result_publish(result=result, by=users.province, **publish)
    assert (result.status, result.document_number, result.published_digest) == (
        ResultStatus.PUBLISHED,
        "晋三零办〔2023〕1号",
        result.digest,
    )
    pdf = result.pdf.read()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == result.pdf_sha256
    with pytest.raises(ServiceError, match="已于"):
        results.result_publish(result=result, by=users.province, **publish)


def test_after_publication_an_incident_revokes_the_title_and_a_dismissal_lifts_it(
    world, users, campaign, django_capture_on_commit_callbacks
):
    result = close(campaign, users, days=0)
    before = stored(result)
    results.result_publish(
        result=result,
        document_number="晋三零〔2023〕2号",
        issued_on=timezone.localdate(),
        issuer="领导小组",
        by=users.province,
    )
    assert not Revocation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        inc = incidents.incident_record(
            severity="general",
            unit=world["ok"],
            kind="criminal_case",
            occurred_on=timezone.localdate(),
            description="盗窃案",
            by=users.officer,
        )
    rev = Revocation.objects.get(result=result, unit=world["ok"])
    assert rev.on == timezone.localdate() and "刑事案件" in rev.reason and rev.source == "incident"
    assert stored(result) == before and results.verify(result)["ok"]
    # an incident of a kind the campaign does not count: nothing
    with django_capture_on_commit_callbacks(execute=True):
        incidents.incident_record(
            severity="general",
            unit=world["ok2"],
            kind="dispute",
            occurred_on=timezone.localdate(),
            description="纠纷",
            by=users.officer2,
        )
    assert Revocation.objects.count() == 1
    # a second case at the same unit: dismissing the first does not give the title back
    with django_capture_on_commit_callbacks(execute=True):
        second = incidents.incident_record(
            severity="general",
            unit=world["ok"],
            kind="petition",
            occurred_on=timezone.localdate(),
            description="越级访",
            by=users.officer,
        )
        incidents.incident_judge(incident=inc, status="dismissed", reason="经查不属实", by=users.reviewer)
    rev.refresh_from_db()
    assert rev.lifted_on == timezone.localdate() and rev.lifted_reason == "经查不属实"
    standing = Revocation.objects.get(unit=world["ok"], lifted_on=None)
    assert (standing.source, standing.source_id) == ("incident", second.pk)
    # and an overturning spot check of the year's assessment revokes too
    a = Assessment.objects.get(unit=world["ok2"])
    with django_capture_on_commit_callbacks(execute=True):
        assessments.assessment_overturn(assessment=a, reason="台账造假", by=users.province)
    assert Revocation.objects.get(unit=world["ok2"]).source == "spot_check"
    assert stored(result) == before


def test_what_happened_during_the_notice_is_not_hidden_by_the_publication(world, users, campaign, canary, tree):
    """An incident recorded, or a spot check overturning, during the notice: the unit is
    not named in the published notice, and its revocation dates from the publication."""
    result = close(campaign, users, days=0)
    incidents.incident_record(
        severity="general",
        unit=world["ok2"],
        kind="petition",
        occurred_on=dt.date(2022, 12, 1),
        description="越级访",
        by=users.officer2,
    )
    assessments.assessment_overturn(
        assessment=Assessment.objects.get(unit=canary), reason="台账不实", by=users.province
    )
    result = results.result_publish(
        result=result,
        document_number="晋三零〔2023〕4号",
        issued_on=timezone.localdate(),
        issuer="领导小组",
        by=users.province,
    )
    assert set(Revocation.objects.values_list("unit__name", "source")) == {
        ("达标二村", "incident"),
        ("金丝雀村", "spot_check"),
    }
    from reports import official

    html = official.notice_html(result)
    assert "达标村" in html and "达标二村" not in html and "金丝雀村" not in html
    assert "另有 2 个单位在公示期间被抽查否定或发生“零”事项，不予命名" in html


def test_a_year_whose_official_figures_fell_below_the_previous_year_is_flagged(world, users, campaign, tree, login):
    for unit in world.values():
        make_assessment(unit=unit, campaign=campaign, year=2021, status="approved")
    results.result_close(campaign=campaign, year=2021, notice_days=0, by=users.province)
    result = close(campaign, users, days=0)
    fell = results.fell_since_previous(result)
    assert (tree.county.code, "village_community") in fell  # 4 of 4 in 2021, 2 of 4 in 2022
    assert (tree.t2.code, "village_community") in fell and (tree.canary_township.code, "village_community") not in fell
    page = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": YEAR, "region": tree.county.code})
    body = page.content.decode()
    assert "低于上年官方结果" in body and "data-official" in body and "data-fell" in body


def test_the_whole_published_list_is_for_whom_the_whole_campaign_is_in_jurisdiction(world, users, campaign, login):
    result = close(campaign, users, days=3)
    evidence = SimpleUploadedFile("台账.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    results.appeal_file(result=result, unit=world["short"], reason="复核", upload=evidence, by=users.officer)
    appeal = Appeal.objects.get()
    # the deciding level opens the appeal's file; the township that filed it too
    for user in (users.province, users.officer):
        got = login(user).get(f"/reports/appeals/{appeal.pk}/evidence/")
        assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    results.appeal_decide(appeal=appeal, outcome="rejected", reason="不成立", by=users.province)
    end_notice(result)
    results.result_publish(
        result=result,
        document_number="晋三零〔2023〕5号",
        issued_on=timezone.localdate(),
        issuer="领导小组",
        by=users.province,
    )
    assert login(users.province).get(f"/reports/results/{result.pk}/official.pdf").status_code == 200
    # 太原's staff: their part as XLSX and on the page, not the province's whole list
    assert login(users.city).get(f"/reports/results/{result.pk}/official.pdf").status_code == 404
    page = login(users.city).get(f"/reports/results/{result.pk}/").content.decode()
    assert "official.pdf" not in page and "金丝雀村" not in page and "达标村" in page
    import io

    from openpyxl import load_workbook

    xlsx = login(users.city).get(f"/reports/results/{result.pk}/named.xlsx")
    names = [r[3] for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["达标二村", "达标村"]

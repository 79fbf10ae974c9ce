"""Zeros that are conditions (零盲区): a unit of a campaign naming grid coverage attains
only with it confirmed for the year, by its township with evidence; a spot check revokes
it; the why-not says which; bad input is refused with nothing stored."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from inspections.conditions import condition_confirm, condition_revoke
from inspections.models import UnitCondition
from reports import rollup
from reports.attainment import reasons_for
from sanling.kernel.errors import ServiceError
from tests.factories import UnitFactory, figures, make_assessment, make_campaign

pytestmark = pytest.mark.django_db
YEAR = 2022
PDF = b"%PDF-1.4\n%%EOF\n"


def grid_map():
    return [SimpleUploadedFile("网格划分图.pdf", PDF)]


@pytest.fixture
def wuling(tree, standard):
    c = make_campaign(scope=tree.county, standard=standard, slug="test-wuling", zero_kinds=["petition", "case"])
    c.conditions = ["grid_coverage"]
    c.full_clean()
    c.save()
    c.targets.all().delete()
    return c


@pytest.fixture
def enterprise(tree, wuling):
    u = UnitFactory(township=tree.t1, kind="enterprise", name="西山机械厂")
    make_assessment(unit=u, campaign=wuling, status="approved")
    return u


def test_a_unit_with_blind_spots_does_not_attain(tree, users, wuling, enterprise, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # before: a Xishan enterprise with full marks and no incident attained, blind spots or not
    assert [r.code for r in reasons_for(enterprise, wuling, YEAR)] == ["conditions"]
    assert (
        "零盲区" in reasons_for(enterprise, wuling, YEAR)[0].text
        and "尚未确认" in reasons_for(enterprise, wuling, YEAR)[0].text
    )
    c = condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer)
    assert reasons_for(enterprise, wuling, YEAR) == [] and c.evidence.count() == 1
    rollup.run(campaign_id=wuling.id, year=YEAR)
    assert figures(wuling, tree.t1, category="enterprise_institution") == (1, 1)
    # a spot check finds blind spots
    condition_revoke(condition=c, reason="抽查发现两个网格无网格员", by=users.reviewer)
    why = reasons_for(enterprise, wuling, YEAR)
    assert [r.code for r in why] == ["conditions"] and "两个网格无网格员" in why[0].text
    rollup.run(campaign_id=wuling.id, year=YEAR)
    assert figures(wuling, tree.t1, category="enterprise_institution") == (1, 0)
    # confirmed again after the blind spots are covered
    condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer)
    assert reasons_for(enterprise, wuling, YEAR) == []
    # a campaign without the condition is not concerned
    assert UnitCondition.objects.count() == 1


def test_bad_conditions_are_refused_and_nothing_stored(tree, users, wuling, enterprise):
    with pytest.raises(ServiceError) as exc:
        condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=[], by=users.officer)
    assert "请上传佐证材料" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        condition_confirm(unit=enterprise, kind="no_blind_spot", year=YEAR, uploads=grid_map(), by=users.officer)
    assert "未知的“零”条件" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        condition_confirm(
            unit=enterprise,
            kind="grid_coverage",
            year=YEAR,
            uploads=[SimpleUploadedFile("a.pdf", b"MZ\x90")],
            by=users.officer,
        )
    assert "file" in exc.value.message_dict
    with pytest.raises(Http404):
        condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer2)
    with pytest.raises(PermissionDenied):
        condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.education)
    assert not UnitCondition.objects.exists()
    c = condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer)
    with pytest.raises(PermissionDenied):
        condition_revoke(condition=c, reason="x", by=users.officer)  # a township does not revoke its own
    with pytest.raises(ServiceError) as exc:
        condition_revoke(condition=c, reason=" ", by=users.reviewer)
    assert "必须说明" in str(exc.value)
    with pytest.raises(Http404):
        condition_revoke(condition=c, reason="x", by=users.canary_reviewer)
    c.refresh_from_db()
    assert c.status == "confirmed"


def test_the_conditions_page(client, users, wuling, enterprise, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(users.officer)
    page = client.get("/assessments/conditions/", {"campaign": wuling.slug, "year": YEAR}).content.decode()
    assert "西山机械厂" in page and "尚未确认" in page and 'name="file"' in page
    resp = client.post(
        "/assessments/conditions/",
        {"campaign": wuling.slug, "year": YEAR, "unit": enterprise.pk, "kind": "grid_coverage", "file": grid_map()[0]},
    )
    assert resp.status_code == 302
    assert UnitCondition.objects.get().status == "confirmed"
    client.force_login(users.reviewer)
    page = client.get("/assessments/conditions/", {"campaign": wuling.slug, "year": YEAR}).content.decode()
    assert 'name="revoke"' in page


def test_a_condition_revoked_after_publication_takes_the_title(
    tree, users, wuling, enterprise, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from reports import results
    from reports.models import OfficialResult, Revocation

    settings.MEDIA_ROOT = tmp_path
    c = condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer)
    result = results.result_close(campaign=wuling, year=YEAR, notice_days=0, by=users.reviewer)
    OfficialResult.objects.filter(pk=result.pk).update(notice_ends_on=timezone.localdate())
    result.refresh_from_db()
    result = results.result_publish(
        result=result,
        document_number="西三零〔2023〕1号",
        issued_on=timezone.localdate(),
        issuer="区委政法委",
        by=users.reviewer,
    )
    assert result.unit_rows.get(unit=enterprise).attained
    with django_capture_on_commit_callbacks(execute=True):
        condition_revoke(condition=c, reason="抽查发现网格空白", by=users.reviewer)
    rev = Revocation.objects.get(result=result, unit=enterprise)
    assert rev.source == "condition" and "网格空白" in rev.reason
    with django_capture_on_commit_callbacks(execute=True):
        condition_confirm(unit=enterprise, kind="grid_coverage", year=YEAR, uploads=grid_map(), by=users.officer)
    rev.refresh_from_db()
    assert rev.lifted_on is not None

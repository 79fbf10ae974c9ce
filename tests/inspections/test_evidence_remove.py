"""A wrong file can be removed before submitting, and an image is previewed on the entry
page: removal is the officer's, in draft or returned only, audited, the stored file gone;
another township's file answers 404; only images checked as images are shown inline."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inspections import services
from inspections.models import Evidence
from sanling.kernel.errors import ServiceError
from tests.factories import UnitFactory, make_assessment
from tests.inspections.test_evidence_content import png_claiming
from units.models import AuditEvent


@pytest.fixture
def draft(tree, campaign, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_assessment(unit=UnitFactory(township=tree.t1, name="坞城村"), campaign=campaign, status="draft")


def test_an_officer_previews_and_removes_a_wrong_file(draft, users, login, django_capture_on_commit_callbacks):
    item = draft.scores.first().item_id
    img = services.evidence_add(
        assessment=draft, item_id=item, upload=SimpleUploadedFile("巡查照片.png", png_claiming(4, 4)), by=users.officer
    )
    pdf = services.evidence_add(
        assessment=draft, item_id=item, upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.4\n%%EOF\n"), by=users.officer
    )
    client = login(users.officer)
    page = client.get(f"/assessments/{draft.pk}/edit/").content.decode()
    assert f'src="/assessments/evidence/{img.pk}/?preview=1"' in page  # a thumbnail of the image
    assert f'src="/assessments/evidence/{pdf.pk}/?preview=1"' not in page
    assert f'action="/assessments/evidence/{img.pk}/remove/"' in page
    shown = client.get(f"/assessments/evidence/{img.pk}/?preview=1")
    assert not shown["Content-Disposition"].startswith("attachment") and shown["Content-Type"] == "image/png"
    assert client.get(f"/assessments/evidence/{pdf.pk}/?preview=1")["Content-Disposition"].startswith("attachment")
    stored = img.file.path
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/assessments/evidence/{img.pk}/remove/")
    assert resp.status_code == 302
    assert not Evidence.objects.filter(pk=img.pk).exists() and Evidence.objects.filter(pk=pdf.pk).exists()
    assert not __import__("os").path.exists(stored)
    assert AuditEvent.objects.filter(action="evidence.removed", detail__file="巡查照片.png").exists()


def test_removal_is_refused_after_submitting_and_for_others(draft, users, login):
    item = draft.scores.first().item_id
    ev = services.evidence_add(
        assessment=draft, item_id=item, upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.4\n%%EOF\n"), by=users.officer
    )
    # another township's officer and a reviewer: the same 404 as a missing file
    assert login(users.canary_officer).post(f"/assessments/evidence/{ev.pk}/remove/").status_code == 404
    assert login(users.reviewer).post(f"/assessments/evidence/{ev.pk}/remove/").status_code == 404
    services.assessment_submit(assessment=draft, by=users.officer)
    with pytest.raises(ServiceError, match="不能再删除佐证材料"):
        services.evidence_remove(evidence=ev, by=users.officer)
    assert Evidence.objects.filter(pk=ev.pk).exists()

"""“已退回，并通知填报人修改” — and it is: the township's officers are notified of a
return (in the portal and by mail), of the final approval and of an overturn; a pass to
the next level of the chain is not news to them."""

import pytest
from django.core import mail

from inspections import services
from supervision.models import Notification
from tests.factories import UnitFactory, make_assessment

pytestmark = pytest.mark.django_db


def test_the_township_hears_of_returns_approvals_and_overturns(
    tree, users, campaign, django_capture_on_commit_callbacks
):
    users.officer.email = "officer@example.gov.cn"
    users.officer.save(update_fields=["email"])
    a = make_assessment(unit=UnitFactory(township=tree.t1, name="杏花村"), campaign=campaign, status="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_return(assessment=a, reason="佐证材料不全", by=users.reviewer)
    note = Notification.objects.get(user=users.officer)
    assert "自评被退回：杏花村" in note.message and "佐证材料不全" in note.message
    assert note.link == f"/assessments/{a.pk}/"
    assert len(mail.outbox) == 1 and "自评被退回" in mail.outbox[0].subject
    assert not Notification.objects.filter(user=users.officer2).exists()  # another township's officer
    services.assessment_submit(assessment=a, by=users.officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_approve(assessment=a, by=users.reviewer)
    assert Notification.objects.filter(user=users.officer, message__contains="已审核通过").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.assessment_overturn(assessment=a, reason="抽查台账造假", by=users.reviewer)
    assert Notification.objects.filter(user=users.officer, message__contains="抽查否定").count() == 1


def test_a_tasks_officers_hear_by_mail_when_it_is_assigned_reopened_and_closed(
    tree, users, django_capture_on_commit_callbacks, settings, tmp_path
):
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from supervision import services as supervision
    from tests.factories import dept

    settings.MEDIA_ROOT = tmp_path
    for u, address in ((users.officer, "officer@example.gov.cn"), (users.reviewer, "county@example.gov.cn")):
        u.email = address
        u.save(update_fields=["email"])
    unit = UnitFactory(township=tree.t1, name="坞城村")
    with django_capture_on_commit_callbacks(execute=True):
        t = supervision.task_open(
            unit=unit,
            title="网格员巡查记录不全",
            leader="赵书记",
            lead_department=dept(unit),
            deadline=timezone.localdate() + dt.timedelta(days=10),
            by=users.reviewer,
        )
    supervision.task_start(task=t, by=users.officer)
    supervision.task_add_evidence(task=t, upload=SimpleUploadedFile("p.pdf", b"%PDF-1.4\n%%EOF\n"), by=users.officer)
    steps = dict(note="已补齐", root_cause="台账制度缺失", lasting_measure="每周巡查并建立台账", by=users.officer)
    with django_capture_on_commit_callbacks(execute=True):
        supervision.task_report(task=t, **steps)
    with django_capture_on_commit_callbacks(execute=True):
        supervision.task_reopen(task=t, reason="照片不清晰", by=users.reviewer)
    supervision.task_report(task=t, **steps)
    with django_capture_on_commit_callbacks(execute=True):
        supervision.task_verify(task=t, by=users.reviewer)
    got = [(m.to[0], m.subject) for m in mail.outbox]
    assert got == [
        ("officer@example.gov.cn", "【三零创建】新交办整改任务"),
        ("county@example.gov.cn", "【三零创建】整改任务待验收"),
        ("officer@example.gov.cn", "【三零创建】整改任务被退回重整"),
        ("officer@example.gov.cn", "【三零创建】整改任务已销号"),
    ]
    assert Notification.objects.filter(user=users.officer, message__contains="已验收销号").exists()


def test_an_appeal_reaches_the_deciding_level_and_its_outcome_the_township(
    tree, users, campaign, django_capture_on_commit_callbacks
):
    from reports import results, rollup

    users.province.email = "province@example.gov.cn"
    users.province.save(update_fields=["email"])
    unit = UnitFactory(township=tree.t1, name="营盘村")
    make_assessment(unit=unit, campaign=campaign, status="approved", scores={"1.1": 10})
    rollup.run(campaign_id=campaign.id, year=2022)
    result = results.result_close(campaign=campaign, year=2022, notice_days=7, by=users.province)
    with django_capture_on_commit_callbacks(execute=True):
        appeal = results.appeal_file(result=result, unit=unit, reason="台账已齐全", by=users.officer)
    note = Notification.objects.get(user=users.province, key=f"appeal:{appeal.pk}:filed")
    assert "收到申诉：营盘村" in note.message and "台账已齐全" in note.message
    assert [m.subject for m in mail.outbox] == ["【三零创建】收到新的申诉"]
    assert not Notification.objects.filter(user=users.city, key=f"appeal:{appeal.pk}:filed").exists()
    results.appeal_decide(appeal=appeal, outcome="rejected", reason="经核实扣分无误", by=users.province)
    told = Notification.objects.get(user=users.officer, key=f"appeal:{appeal.pk}:rejected")
    assert "申诉已处理：营盘村" in told.message and "经核实扣分无误" in told.message
    assert not Notification.objects.filter(user=users.canary_officer).exists()

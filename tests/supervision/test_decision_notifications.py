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

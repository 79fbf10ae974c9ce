"""Which queue each job goes to, and cancelling a requested roll-up (in-process here; the
integration run does both on real workers)."""

from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from reports import services, tasks
from reports.models import AttainmentSnapshot, RollupState
from sanling.celery import app
from supervision.tasks import send_mails
from tests.factories import UnitFactory


@pytest.mark.parametrize(
    "task,queue",
    [
        ("reports.tasks.rollup_township", "incremental"),
        ("reports.tasks.rollup_campaign_year", "rollup"),
        ("supervision.tasks.send_mails", "mail"),
        ("supervision.tasks.mark_overdue", "default"),
        ("reports.tasks.rollup_all", "default"),
    ],
)
def test_each_job_has_its_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_cancelled_rollup_rolls_back_and_says_so(tree, campaign):
    UnitFactory(township=tree.t1)
    tasks.rollup_campaign_year.apply(args=[campaign.id, 2022], task_id="first")
    before = sorted(AttainmentSnapshot.objects.filter(campaign=campaign, year=2022).values_list("pk", "computed_at"))
    version = RollupState.objects.get(campaign=campaign, year=2022).version
    from django.core.cache import cache

    cache.set(tasks.cancel_key("second"), True)
    result = tasks.rollup_campaign_year.apply(args=[campaign.id, 2022], task_id="second").get()
    assert result["cancelled"] is True
    after = sorted(AttainmentSnapshot.objects.filter(campaign=campaign, year=2022).values_list("pk", "computed_at"))
    assert after == before and RollupState.objects.get(campaign=campaign, year=2022).version == version


def test_cancel_is_for_staff_of_the_campaign_and_known_tasks(tree, campaign, users, login):
    req = services.rollup_request(campaign_slug=campaign.slug, year=2022, by=users.city)
    with pytest.raises(PermissionDenied):
        services.rollup_cancel(task_id=req.task_id, by=users.officer)
    with pytest.raises(Http404):
        services.rollup_cancel(task_id="not-a-task", by=users.city)
    services.rollup_cancel(task_id=req.task_id, by=users.city)
    from units.models import AuditEvent

    assert AuditEvent.objects.filter(action="rollup.cancelled", actor=users.city).exists()
    page = login(users.city).post(f"/reports/tasks/{req.task_id}/cancel/")
    assert page.status_code == 200 and "已请求取消重算" in page.content.decode()
    assert login(users.city).post("/reports/tasks/nope/cancel/").status_code == 404
    # the API's DELETE tasks/{id}/ is the same service
    again = services.rollup_request(campaign_slug=campaign.slug, year=2022, by=users.city)
    assert login(users.city).delete(f"/api/v1/tasks/{again.task_id}/").status_code == 202
    assert login(users.city).delete("/api/v1/tasks/nope/").status_code == 404
    assert login(users.officer).delete(f"/api/v1/tasks/{again.task_id}/").status_code == 403


def test_mail_goes_through_the_mail_job(tree, users, django_capture_on_commit_callbacks):
    from supervision.services.notifications import notify

    users.officer.email = "officer@example.org"
    users.officer.save()
    with mock.patch("supervision.tasks.send_mails.delay", wraps=send_mails.delay) as queued:
        with django_capture_on_commit_callbacks(execute=True):
            notify([users.officer], key="k1", message="整改任务已下达", email_subject="【三零创建】整改任务")
    assert queued.call_count == 1
    assert [m.subject for m in mail.outbox] == ["【三零创建】整改任务"]

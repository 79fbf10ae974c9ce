"""The daily overdue job on a real Celery worker, PostgreSQL and Redis, as beat sends it."""

import datetime as dt

import pytest
from django.utils import timezone

from supervision import services, tasks
from supervision.models import Notification, Rectification
from tests.factories import UnitFactory, dept

pytestmark = pytest.mark.django_db(transaction=True)


def test_overdue_job_on_a_real_worker_is_idempotent(tree, users, celery_worker):
    today = timezone.localdate()
    unit = UnitFactory(township=tree.t1)
    late = services.task_open(
        unit=unit,
        title="逾期未改",
        leader="甲",
        lead_department=dept(unit),
        deadline=today + dt.timedelta(days=1),
        by=users.reviewer,
    )
    fine = services.task_open(
        unit=unit,
        title="期限未到",
        leader="甲",
        lead_department=dept(unit),
        deadline=today + dt.timedelta(days=9),
        by=users.reviewer,
    )
    Rectification.objects.filter(pk=late.pk).update(deadline=today - dt.timedelta(days=1))

    # the task by name, through Redis, to the worker process: what beat does every night
    from sanling.celery import app

    assert app.send_task("supervision.tasks.mark_overdue").get(timeout=60) == 1
    late.refresh_from_db()
    fine.refresh_from_db()
    assert late.overdue and late.overdue_since == today and not fine.overdue
    notes = sorted(Notification.objects.filter(key=f"task:{late.pk}:overdue").values_list("user__username", flat=True))
    assert notes == sorted([users.officer.username, users.reviewer.username])

    # run twice (a retried or duplicated beat message): nothing more changes
    assert tasks.mark_overdue.delay().get(timeout=60) == 0
    assert Notification.objects.filter(key=f"task:{late.pk}:overdue").count() == 2
    assert Rectification.objects.filter(overdue=True).count() == 1

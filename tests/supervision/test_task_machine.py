"""The state machine of rectification tasks: for every state, role and action the service
does exactly what allowed_actions() says — the township works a task, only the level
that opened it verifies or reopens it, nobody outside the jurisdiction does anything."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from supervision import services, workflow
from supervision.models import Rectification, TaskEvidence, TaskStatus
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db
# police1 is of the task's lead department (小店区公安分局); edu1 neither leads nor
# cooperates and the unit is not of its sector
ROLES = [
    "officer",
    "officer2",
    "reviewer",
    "city",
    "admin",
    "city_admin",
    "api",
    "canary_reviewer",
    "police",
    "education",
    "canary_education",
]
PDF = b"%PDF-1.4\n%%EOF\n"


def _call(action, t, user):
    if action == "start":
        return services.task_start(task=t, by=user)
    if action == "evidence":
        return services.task_add_evidence(task=t, upload=SimpleUploadedFile("z.pdf", PDF), by=user)
    if action == "report":
        return services.task_report(
            task=t, note="已整改", root_cause="台账制度缺失", lasting_measure="每周巡查并建立台账", by=user
        )
    if action == "verify":
        return services.task_verify(task=t, by=user)
    if action == "reopen":
        return services.task_reopen(task=t, reason="未到位", by=user)
    if action == "milestone":
        m = t.milestones.create(title="完成排查", due_on=t.deadline)
        return services.task_milestone_done(task=t, milestone=m.pk, by=user)
    raise AssertionError(action)


@pytest.mark.parametrize("state", TaskStatus.values)
def test_task_services_do_exactly_what_allowed_actions_says(tree, users, state, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    unit = UnitFactory(township=tree.t1)
    actions = sorted({a for _, a in workflow.TASK.transitions} | set(workflow.TASK.in_place))
    for role, action in itertools.product(ROLES, actions):
        user = getattr(users, role)
        with transaction.atomic():
            t = Rectification.objects.create(
                unit=unit,
                title="消防通道堵塞",
                leader="张三",
                township=unit.township,
                lead_department=users.police.department,
                root_cause="台账制度缺失" if state in ("reported", "closed") else "",
                lasting_measure="每周巡查" if state in ("reported", "closed") else "",
                status=state,
                deadline=timezone.localdate() + dt.timedelta(days=5),
                opened_region=tree.county,
                opened_by=users.reviewer,
            )
            TaskEvidence.objects.create(
                task=t, file="rectification/x.pdf", original_name="x.pdf", content_type="application/pdf", size=10
            )
            allowed = workflow.allowed_actions(t, user)
            try:
                _call(action, t, user)
                done = True
            except (PermissionDenied, ValidationError, Http404):
                done = False
            assert done == (action in allowed), (state, role, action, allowed)
            if role in ("canary_reviewer", "officer2", "education", "canary_education"):  # not theirs: nothing
                assert allowed == []
            transaction.set_rollback(True)


def test_only_the_opening_level_verifies(tree, users):
    unit = UnitFactory(township=tree.t1)
    t = Rectification(opened_region=tree.county, status=TaskStatus.REPORTED, unit=unit, township=unit.township)
    assert "verify" in workflow.allowed_actions(t, users.reviewer)
    assert "verify" not in workflow.allowed_actions(t, users.city)  # above, but not the opener
    assert workflow.allowed_actions(t, users.officer) == []

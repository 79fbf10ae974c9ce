"""Services check jurisdiction themselves (units.access), whichever view or endpoint
called them: a user outside the object's jurisdiction gets the same 404 as for a
missing object, and nothing stored changes."""

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from inspections import incidents
from inspections import services as assessments
from inspections.models import Assessment, Incident
from supervision import services as supervision
from tests.factories import UnitFactory, dept, make_assessment, make_incident
from units import services as unit_services
from units.models import AuditEvent, Unit

pytestmark = pytest.mark.django_db


def test_a_reviewer_of_another_county_cannot_approve_or_judge_there(users, campaign, canary):
    # given: a submitted assessment and a recorded incident in 大同
    a = make_assessment(unit=canary, campaign=campaign, status="submitted")
    inc = make_incident(unit=canary, occurred_on=dt.date(2022, 3, 1))
    # when / then: 小店区's reviewer calls the services directly: 404, nothing changes
    with pytest.raises(Http404):
        assessments.assessment_approve(assessment=a, by=users.reviewer)
    with pytest.raises(Http404):
        assessments.assessment_return(assessment=a.pk, reason="x", by=users.reviewer)
    with pytest.raises(Http404):
        incidents.incident_judge(incident=inc, status="dismissed", reason="x", by=users.reviewer)
    assert Assessment.objects.get(pk=a.pk).status == "submitted"
    assert Incident.objects.get(pk=inc.pk).status == "recorded"
    assert not AuditEvent.objects.filter(action__in=["assessment.approved", "incident.dismissed"]).exists()
    # while 大同's own reviewer may
    assessments.assessment_approve(assessment=a, by=users.canary_reviewer)


def test_an_officer_cannot_write_another_townships_units_or_incidents(users, tree, campaign, canary):
    with pytest.raises(Http404):
        unit_services.unit_update(unit=canary, name="改名", by=users.officer)
    with pytest.raises(Http404):
        unit_services.unit_set_active(unit=canary, active=False, by=users.officer)
    with pytest.raises(Http404):
        unit_services.unit_register(
            township=tree.canary_township, code="140213001777", name="越界", kind="village", by=users.officer
        )
    with pytest.raises(Http404):
        incidents.incident_record(
            severity="general",
            unit=canary,
            kind="criminal_case",
            occurred_on=dt.date(2022, 3, 1),
            description="x",
            by=users.officer,
        )
    with pytest.raises(Http404):
        assessments.assessment_start(unit=canary, campaign=campaign, year=2022, by=users.officer)
    canary.refresh_from_db()
    assert (canary.name, canary.active) == ("金丝雀村", True)
    assert not Unit.objects.filter(code="140213001777").exists() and not Incident.objects.exists()


def test_tasks_of_another_township_cannot_be_worked(users, tree, canary):
    t = supervision.task_open(
        unit=canary,
        title="整改",
        leader="甲",
        lead_department=dept(canary),
        deadline=timezone.localdate() + dt.timedelta(days=3),
        by=users.admin,
    )
    with pytest.raises(Http404):
        supervision.task_start(task=t, by=users.officer)
    with pytest.raises(Http404):
        supervision.task_reopen(task=t, reason="x", by=users.reviewer)
    t.refresh_from_db()
    assert t.status == "open"


def test_tokens_of_another_region_cannot_be_issued_by_a_region_scoped_admin(users, tree):
    from tests.factories import UserFactory
    from units.models import Role

    scoped_admin = UserFactory(username="taiyuan_admin", role=Role.ADMIN, region=tree.city, is_staff=True)
    UserFactory(username="datong_screen", role=Role.API_CLIENT, region=tree.city2)
    with pytest.raises(Http404):
        unit_services.token_issue(username="datong_screen", by=scoped_admin)
    user, key = unit_services.token_issue(username="api1", by=scoped_admin)  # 太原's own client
    assert user.username == "api1" and len(key) == 64


def test_the_system_itself_acts_everywhere(tree):
    # management commands and loaders pass by=None
    unit = UnitFactory(township=tree.canary_township)
    unit_services.unit_set_active(unit=unit, active=False, by=None)
    unit.refresh_from_db()
    assert unit.active is False

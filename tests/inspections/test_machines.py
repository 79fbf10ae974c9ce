"""The state machines of assessments and incidents: for every state, role and action, the
service does exactly what allowed_actions() says (which is what the pages offer and the
API reports) — and nothing for a user outside the jurisdiction."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from inspections import incidents, services, workflow
from inspections.models import Status
from tests.factories import UnitFactory, make_assessment, make_incident

pytestmark = pytest.mark.django_db
ROLES = ["officer", "reviewer", "city", "admin", "city_admin", "api", "canary_reviewer"]


def _call(action, a, user):
    if action == "submit":
        return services.assessment_submit(assessment=a, by=user)
    if action == "approve":
        return services.assessment_approve(assessment=a, by=user)
    if action == "return":
        return services.assessment_return(assessment=a, reason="材料不全", by=user)
    if action == "overturn":
        return services.assessment_overturn(assessment=a, reason="抽查不实", by=user)
    if action == "reopen":
        return services.assessment_reopen(assessment=a, reason="申诉成立", by=user)
    if action in ("edit", "adjust"):
        return services.assessment_save_scores(
            assessment=a, scores={}, lock_version=a.lock_version, by=user, reviewer=action == "adjust"
        )
    raise AssertionError(action)


ACTIONS = sorted({a for _, a in workflow.ASSESSMENT.transitions} | set(workflow.ASSESSMENT.in_place))


@pytest.mark.parametrize("state", Status.values)
def test_assessment_services_do_exactly_what_allowed_actions_says(tree, users, campaign, state):
    unit = UnitFactory(township=tree.t1)
    for role, action in itertools.product(ROLES, ACTIONS):
        user = getattr(users, role)
        with transaction.atomic():
            a = make_assessment(unit=unit, campaign=campaign, status=state)
            allowed = workflow.assessment_actions(a, user)
            try:
                _call(action, a, user)
                done = True
            except (PermissionDenied, ValidationError, Http404):
                done = False
            assert done == (action in allowed), (state, role, action, allowed)
            if role == "canary_reviewer":  # another county: nothing, and a 404 like a missing one
                assert allowed == []
            transaction.set_rollback(True)


def test_the_machine_is_the_documented_one():
    t = workflow.ASSESSMENT.transitions
    assert t[(Status.DRAFT, "submit")] == t[(Status.RETURNED, "submit")] == Status.SUBMITTED
    assert t[(Status.SUBMITTED, "approve")] == Status.APPROVED
    assert t[(Status.APPROVED, "overturn")] == Status.OVERTURNED
    # an overturn is final but for an upheld appeal (申诉), which re-opens it for review
    assert workflow.ASSESSMENT.actions_from(Status.OVERTURNED) == ["reopen"]
    assert t[(Status.OVERTURNED, "reopen")] == t[(Status.APPROVED, "reopen")] == Status.SUBMITTED


INCIDENT_ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed"}


@pytest.mark.parametrize("state", ["recorded", "confirmed", "dismissed"])
def test_incident_services_do_exactly_what_allowed_actions_says(tree, users, state):
    unit = UnitFactory(township=tree.t1)
    for role, action in itertools.product(ROLES, INCIDENT_ACTIONS):
        user = getattr(users, role)
        with transaction.atomic():
            inc = make_incident(unit=unit, status=state, occurred_on=dt.date(2022, 3, 1))
            allowed = workflow.incident_actions(inc, user)
            try:
                incidents.incident_judge(incident=inc, status=INCIDENT_ACTIONS[action], reason="经核实", by=user)
                done = True
            except (PermissionDenied, ValidationError, Http404):
                done = False
            assert done == (action in allowed), (state, role, action, allowed)
            transaction.set_rollback(True)


def test_a_dismissed_incident_cannot_be_confirmed_again(tree, users):
    # the finding: a reviewer could re-confirm a dismissed incident through the API
    from rest_framework.test import APIClient

    inc = make_incident(unit=UnitFactory(township=tree.t1), status="dismissed", occurred_on=dt.date(2022, 3, 1))
    client = APIClient()
    client.force_authenticate(users.reviewer)
    resp = client.patch(f"/api/v1/incidents/{inc.pk}/", {"status": "confirmed", "reason": "再确认"}, format="json")
    assert resp.status_code == 400 and "不能执行" in resp.json()["error"]["message"]
    inc.refresh_from_db()
    assert inc.status == "dismissed"
    assert client.get(f"/api/v1/incidents/{inc.pk}/").json()["actions"] == []

"""Asking for a roll-up now is one service for the dashboard's button and the API: the
same validation (a year outside the campaign is refused with the same message on both)
and the same fallback when the task queue is down (the campaign-year is marked dirty
and the catch-up job recomputes it)."""

import pytest
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from reports import services, tasks
from reports.models import RollupState
from units.models import AuditEvent

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_year_outside_the_campaign_is_refused_alike_on_page_and_api(login, users, campaign):
    page = login(users.city).post("/reports/recompute/", {"campaign": campaign.slug, "year": 2019})
    resp = api(users.city).post(
        "/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": 2019}, format="json"
    )
    message = services.year_error(campaign)
    assert page.status_code == 400 and message in page.content.decode()
    assert resp.status_code == 400 and resp.json()["error"]["fields"]["year"] == [message]
    assert not RollupState.objects.exists() and not AuditEvent.objects.filter(action__startswith="rollup").exists()


def test_with_the_broker_down_both_record_the_request_for_the_catch_up(login, users, campaign, monkeypatch):
    def down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.rollup_campaign_year, "delay", down)
    page = login(users.city).post("/reports/recompute/", {"campaign": campaign.slug, "year": 2022})
    assert page.status_code == 200 and "已记录待重算" in page.content.decode()
    assert RollupState.objects.get(campaign=campaign, year=2022).dirty
    RollupState.objects.update(dirty=False)
    resp = api(users.city).post(
        "/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": 2021}, format="json"
    )
    assert resp.status_code == 202 and resp.json()["task_id"] is None and "已记录待重算" in resp.json()["message"]
    assert RollupState.objects.get(campaign=campaign, year=2021).dirty
    assert AuditEvent.objects.filter(action="rollup.deferred").count() == 2


def test_a_foreign_or_unknown_campaign_is_a_404_and_a_township_may_not(login, users, campaign):
    assert login(users.city).post("/reports/recompute/", {"campaign": "nope", "year": 2022}).status_code == 404
    assert (
        api(users.city)
        .post("/api/v1/attainment/recompute/", {"campaign": "nope", "year": 2022}, format="json")
        .status_code
        == 404
    )
    assert (
        login(users.officer).post("/reports/recompute/", {"campaign": campaign.slug, "year": 2022}).status_code == 404
    )
    assert (
        api(users.officer)
        .post("/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": 2022}, format="json")
        .status_code
        == 403
    )

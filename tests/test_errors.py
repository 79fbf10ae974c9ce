"""Requests that meet a database outage fail cleanly: 503, Retry-After, a message in the
user's language that nothing was saved — HTML for pages, the error shape for the API."""

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def broken(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def outage_client(client):
    client.raise_request_exception = False
    return client


def test_page_answers_503_when_the_database_is_gone(outage_client, users, campaign, monkeypatch):
    from standards import selectors

    monkeypatch.setattr(selectors, "pick_campaign", broken)
    outage_client.force_login(users.city)
    resp = outage_client.get("/reports/")
    assert resp.status_code == 503 and resp["Retry-After"] == "5"
    assert "数据库暂时不可用，本次操作未保存" in resp.content.decode()


def test_api_answers_503_in_the_error_shape(outage_client, users, campaign, monkeypatch):
    from reports import api, snapshot_page

    # both ways to the snapshot: the one-statement page and the general path
    monkeypatch.setattr(snapshot_page.prepared, "fetchall", broken)
    monkeypatch.setattr(api.AttainmentViewSet, "get_queryset", broken)
    outage_client.force_login(users.city)
    for query in ("", "?page=last"):
        resp = outage_client.get("/api/v1/attainment/" + query)
        assert resp.status_code == 503
        assert resp.json()["error"]["code"] == "unavailable"


def test_other_errors_stay_500(outage_client, users, campaign, monkeypatch):
    from standards import selectors

    def bug(*args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(selectors, "pick_campaign", bug)
    outage_client.force_login(users.city)
    resp = outage_client.get("/reports/")
    assert resp.status_code == 500 and "服务器内部错误" in resp.content.decode()

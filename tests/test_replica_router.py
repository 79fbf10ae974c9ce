"""The read replica's routing (sanling.kernel.replica) on SQLite: which database a request
reads from, the fall-back to the primary, and the log of the replica's state. The real
streaming replica, and killing it under load: tests/integration/test_replica.py."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections, router
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sanling.kernel import replica
from tests.replica_alias import DATABASES, no_replica, replica_alias
from units.models import Region

ROOT = Path(__file__).resolve().parent.parent
LOGGER = "sanling.replica"
# every test that reads may use the alias (tests/replica_alias.py)
DB = pytest.mark.django_db(transaction=True, databases=DATABASES)


@pytest.fixture(autouse=True, scope="module")
def _replica(django_db_setup):
    """The replica: the test database through a connection of its own, so it has the rows
    the tests commit."""
    with replica_alias():
        yield


def _read_view(seen: list):
    """A marked view that reads, records where its reads went, and reads again."""

    @replica.reads_from_replica
    def view(request):
        seen.append(router.db_for_read(Region))
        return HttpResponse(str(Region.objects.count()))

    return view


def _get(view, method="get"):
    return view(getattr(RequestFactory(), method)("/reports/"))


def _measured(monkeypatch, *answers):
    """The health check answers these states in turn (then the last one, again)."""
    answers = list(answers)

    def measure(h, now):
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(replica, "_measure", measure)


# ---- the router, request by request ---------------------------------------------------------


@DB
def test_without_a_replica_the_router_has_no_opinion():
    with no_replica():
        seen = []
        assert _get(_read_view(seen)).status_code == 200
        assert seen == ["default"]
        ours = replica.ReplicaRouter()
        assert ours.db_for_read(Region) is None and ours.db_for_write(Region) is None  # Django's own choice
    assert ours.allow_migrate("replica", "units") is False and ours.allow_migrate("default", "units") is None


@DB
def test_reads_of_a_marked_get_go_to_the_replica(tree):
    # given a replica (here: the test database through a second connection, so it has the rows)
    with replica_alias():
        seen = []
        # when a marked view is asked with GET
        with (
            CaptureQueriesContext(connections["replica"]) as on_replica,
            CaptureQueriesContext(connections["default"]) as on_primary,
        ):
            resp = _get(_read_view(seen))
        # then it read from the replica, and nothing from the primary
        assert resp.status_code == 200 and resp.content == str(Region.objects.count()).encode()
        assert seen == ["replica"]
        assert any("units_region" in q["sql"] for q in on_replica.captured_queries)
        assert not on_primary.captured_queries
        # outside the request the router says the primary
        assert router.db_for_read(Region) == "default"


@DB
def test_unmarked_views_and_writes_methods_read_from_the_primary(tmp_path):
    with replica_alias(NAME=str(tmp_path / "replica.sqlite3")):
        seen = []

        def plain(request):
            seen.append(router.db_for_read(Region))
            return HttpResponse()

        _get(plain)
        _get(_read_view(seen), "post")
        _get(_read_view(seen), "options")
        assert seen == ["default", "default", "default"]


@DB
def test_after_a_write_the_request_reads_from_the_primary(tree):
    with replica_alias():
        seen = []

        @replica.reads_from_replica
        def view(request):
            seen.append(router.db_for_read(Region))
            Region.objects.filter(pk=tree.t1.pk).update(name="坞城街道（改）")
            seen.append(router.db_for_read(Region))
            # also for an object read from the replica (its _state.db says "replica")
            seen.append(router.db_for_read(Region, instance=Region.objects.using("replica").first()))
            return HttpResponse()

        _get(view)
        # the read before the write from the replica, every one after from the primary
        assert seen == ["replica", "default", "default"]
        assert Region.objects.using("default").get(pk=tree.t1.pk).name == "坞城街道（改）"
        # and the next request starts afresh
        again = []
        _get(_read_view(again))
        assert again == ["replica"]


@DB
def test_dashboard_and_attainment_api_read_from_the_replica_after_signing_in_on_the_primary(
    login, users, campaign, tree
):
    client = login(users.city)
    with replica_alias():
        for url, params in [
            (reverse("reports:dashboard"), {}),
            ("/api/v1/attainment/trend/", {"campaign": campaign.slug, "region_code": tree.city.code}),
            ("/api/v1/attainment/", {}),
        ]:
            with (
                CaptureQueriesContext(connections["replica"]) as on_replica,
                CaptureQueriesContext(connections["default"]) as on_primary,
            ):
                resp = client.get(url, params)
            assert resp.status_code == 200, (url, resp.status_code)
            replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
            primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
            assert "reports_attainmentsnapshot" in replica_sql or "standards_campaign" in replica_sql, url
            assert "reports_attainmentsnapshot" not in primary_sql, url
            # the session and the user: from the primary (one signed in a moment ago counts)
            assert "django_session" in primary_sql and "django_session" not in replica_sql, url
        # a POST of the same API goes to the primary only
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            client.post("/api/v1/attainment/recompute/", {}, content_type="application/json")
        assert not on_replica.captured_queries


# ---- the replica's health ----------------------------------------------------------------------


@DB
def test_a_lagging_replica_is_skipped_and_each_change_logged_once(tree, settings, monkeypatch, caplog):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0  # measure on every request
    caplog.set_level(logging.INFO, logger=LOGGER)
    with replica_alias():
        _measured(
            monkeypatch,
            (replica.HEALTHY, ""),
            (replica.LAGGING, "12.0 s behind the primary"),
            (replica.LAGGING, "13.0 s behind the primary"),
            (replica.HEALTHY, ""),
        )
        seen = []
        for _ in range(4):
            _get(_read_view(seen))
        assert seen == ["replica", "default", "default", "replica"]
        records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == LOGGER]
        assert records == [
            ("WARNING", "replica lagging (12.0 s behind the primary): reads fall back to the primary"),
            ("INFO", "replica healthy again: reads of the read-only views go to it"),
        ]


@DB
def test_the_health_is_measured_at_most_every_check_seconds(tree, settings, monkeypatch):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600
    with replica_alias():
        calls = []
        monkeypatch.setattr(replica, "_measure", lambda h, now: calls.append(now) or (replica.HEALTHY, ""))
        for _ in range(3):
            _get(_read_view([]))
        assert len(calls) == 1


@DB
def test_a_replica_that_does_not_answer_is_skipped(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    with replica_alias(NAME=str(tmp_path / "no-such-directory" / "replica.sqlite3")):
        seen = []
        resp = _get(_read_view(seen))
        assert resp.status_code == 200 and seen == ["default"]
        assert replica.health.state == replica.DOWN
        assert [r.levelname for r in caplog.records if r.name == LOGGER] == ["WARNING"]
        assert "unable to open database file" in caplog.records[-1].getMessage()
        # down until the next check: the following requests do not try it
        _get(_read_view(seen))
        assert seen == ["default", "default"]
        assert len([r for r in caplog.records if r.name == LOGGER]) == 1


@DB
def test_a_replica_failing_mid_request_is_marked_down_and_the_view_runs_again_on_the_primary(tree, tmp_path, caplog):
    # given a replica that answers (connects, SELECT 1) but fails the view's first query:
    # a database error raised by the driver, as when the server is killed between checks
    caplog.set_level(logging.INFO, logger=LOGGER)
    with replica_alias(NAME=str(tmp_path / "empty-replica.sqlite3")):
        seen = []
        # when a marked view reads
        resp = _get(_read_view(seen))
        # then the request did not fail: the second run read from the primary
        assert resp.status_code == 200
        assert resp.content == str(Region.objects.count()).encode()
        assert seen == ["replica", "default"]
        # the replica is marked down, its connection closed (not kept for the next request)
        assert replica.health.state == replica.DOWN
        assert connections["replica"].connection is None
        warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]
        assert len(warnings) == 1 and "no such table" in warnings[0]


@DB
def test_an_error_the_view_caught_still_sends_it_to_the_primary(tree, tmp_path):
    with replica_alias(NAME=str(tmp_path / "empty-replica.sqlite3")):
        runs = []

        @replica.reads_from_replica
        def view(request):
            runs.append(router.db_for_read(Region))
            try:
                return HttpResponse(str(Region.objects.count()))
            except Exception:  # noqa: BLE001 - a view that hides the error
                return HttpResponse("?")

        assert _get(view).content == str(Region.objects.count()).encode()
        assert runs == ["replica", "default"]


def test_lag_bounds():
    # caught up with the primary's current position: no lag, however old the last commit
    assert replica.lag_seconds(caught_up=True, since_mark=None, since_commit=3600.0) == 0
    # an idle primary: the last commit is old, but the previous position was replayed 5 s ago
    assert replica.lag_seconds(caught_up=False, since_mark=5.0, since_commit=3600.0) == 5.0
    # behind and the previous position not reached either: the time since the last commit
    assert replica.lag_seconds(caught_up=False, since_mark=None, since_commit=12.5) == 12.5
    # nothing replayed yet: unknown, so too far behind
    assert replica.lag_seconds(caught_up=False, since_mark=None, since_commit=None) == float("inf")


def test_drf_views_keep_what_as_view_attaches():
    from reports.api import AttainmentViewSet, UnitStatusView

    view = AttainmentViewSet.as_view({"get": "list"})
    assert view.cls is AttainmentViewSet and view.actions == {"get": "list"} and view.csrf_exempt
    assert UnitStatusView.as_view().cls is UnitStatusView


# ---- settings ------------------------------------------------------------------------------------


def _settings_of(module: str, **env) -> subprocess.CompletedProcess:
    drop = ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE")
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(env, DJANGO_SETTINGS_MODULE=module)
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES.get('replica')))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True)


def test_settings_define_the_replica_only_when_named():
    assert _settings_of("sanling.settings.test").stdout.strip() == "null"
    res = _settings_of("sanling.settings.test", DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/sanling")
    assert res.returncode == 0, res.stderr
    assert '"HOST": "replica.internal"' in res.stdout and '"MIRROR": "default"' in res.stdout
    assert '"connect_timeout": 2' in res.stdout and '"CONN_HEALTH_CHECKS": true' in res.stdout


def test_production_wants_a_postgresql_replica():
    res = _settings_of(
        "sanling.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="sanling.example.gov.cn",
        DATABASE_URL="postgres://sanling@127.0.0.1:1/sanling",
        REDIS_URL="redis://127.0.0.1:1/0",
        DATABASE_REPLICA_URL="sqlite:////tmp/replica.sqlite3",
    )
    assert res.returncode != 0 and "DATABASE_REPLICA_URL must name a PostgreSQL database" in res.stderr

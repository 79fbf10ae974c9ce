"""A real streaming replica of the test PostgreSQL (pg_basebackup -R, hot standby on a port
of its own): the read-only views read from it, a request that writes reads its own write
from the primary, a replica held behind beyond the bound is skipped, and killing it under
load fails no request."""

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sanling.kernel import replica
from tests.factories import UnitFactory
from tests.integration.conftest import wait_for
from tests.replica_alias import DATABASES, replica_alias
from tests.services import _as_postgres, _wait_port, free_port
from units.models import AuditEvent, Region, Unit

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)
LOGGER = "sanling.replica"


def _pg_ctl(data: Path, *args: str) -> subprocess.CompletedProcess:
    bindir = os.environ["SANLING_PG_BINDIR"]
    return subprocess.run(
        _as_postgres([f"{bindir}/pg_ctl", "-D", str(data), *args]), capture_output=True, text=True, timeout=60
    )


def _allow_replication(primary: Path) -> None:
    """initdb -A trust already lets local replication connections in; add the line if not."""
    hba = primary / "pg_hba.conf"
    lines = [line.split() for line in hba.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not any(
        len(f) >= 4 and f[0] == "host" and f[1] == "replication" and f[3].startswith("127.0.0.1") for f in lines
    ):
        with hba.open("a") as out:
            out.write("host replication all 127.0.0.1/32 trust\n")
        _pg_ctl(primary, "reload")


@pytest.fixture(scope="module")
def standby(django_db_setup):
    """A hot standby streaming from the test primary, copied after the test database was
    created (a physical copy is of the whole cluster), and stopped at the end, even when a
    test fails."""
    if not os.environ.get("SANLING_PG_BINDIR"):
        pytest.skip("needs the PostgreSQL started by tests.services")
    primary = Path(os.environ["SANLING_PG_DATA"])
    # SANLING_PG_BINDIR may hold only a link to pg_ctl: the other programs are beside its target
    bindir = Path(os.path.realpath(Path(os.environ["SANLING_PG_BINDIR"]) / "pg_ctl")).parent
    _allow_replication(primary)
    tmp = Path(tempfile.mkdtemp(prefix="sanling-replica-"))
    data, port = tmp / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    try:
        copied = subprocess.run(
            _as_postgres(
                [f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", os.environ["SANLING_PG_PORT"], "-U", "postgres"]
                + ["-D", str(data), "-R", "-X", "stream", "-c", "fast"]
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert copied.returncode == 0, copied.stderr
        # max_connections as high as the primary's (a hot standby refuses to start with fewer);
        # replay never waits long for a query on the standby
        opts = (
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 "
            f"-c hot_standby=on -c max_standby_streaming_delay=1s"
        )
        started = _pg_ctl(data, "-o", opts, "-l", str(tmp / "log"), "-w", "start")
        assert started.returncode == 0, started.stdout + started.stderr + (tmp / "log").read_text()
        _wait_port(port)
        yield {"port": port, "data": data}
    finally:
        _pg_ctl(data, "-m", "immediate", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _alias(standby):
    with replica_alias(HOST="127.0.0.1", PORT=str(standby["port"]), OPTIONS={"connect_timeout": 2}):
        yield


@pytest.fixture(autouse=True)
def _fresh_health():
    replica.health.reset()
    yield
    replica.health.reset()


def _scalar(alias: str, sql: str, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wait_replayed(timeout: float = 20) -> None:
    position = _scalar("default", "SELECT pg_current_wal_lsn()::text")
    assert wait_for(
        lambda: _scalar("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position]), timeout=timeout
    ), "the replica did not catch up"


def _sql(captured) -> str:
    return " ".join(q["sql"] for q in captured.captured_queries)


def _get(client, url, params=None):
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        resp = client.get(url, params or {})
    return resp, _sql(on_replica), _sql(on_primary)


def test_reads_go_to_the_replica_a_write_pins_the_request_and_a_lagging_replica_is_skipped(
    client, users, campaign, tree, settings, caplog
):
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0  # measure on every request
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60
    assert _scalar("replica", "SELECT pg_is_in_recovery()") is True
    # a write on the primary reaches the replica
    unit = UnitFactory(township=tree.t1)
    wait_replayed()
    assert Unit.objects.using("replica").filter(pk=unit.pk).exists()

    # the marked pages and endpoints read from the replica; the session from the primary
    client.force_login(users.city)
    for url, params, table in [
        (reverse("reports:dashboard"), {}, "standards_campaign"),
        (reverse("reports:unit", args=[unit.pk]), {}, "units_unit"),
        ("/api/v1/attainment/trend/", {"campaign": campaign.slug, "region_code": tree.city.code}, "standards_campaign"),
        (f"/api/v1/units/{unit.pk}/status/", {"campaign": campaign.slug}, "units_unit"),
    ]:
        resp, on_replica, on_primary = _get(client, url, params)
        assert resp.status_code == 200, (url, resp.status_code)
        assert table in on_replica and table not in on_primary, url
        assert "django_session" in on_primary and "django_session" not in on_replica, url

    # an export reads from the replica and writes its audit row to the primary
    resp, on_replica, on_primary = _get(client, reverse("reports:export_attainment", args=["csv"]))
    assert resp.status_code == 200 and "standards_campaign" in on_replica
    assert AuditEvent.objects.filter(action="export.attainment").count() == 1

    # a request that writes reads its own (not yet committed) write: from the primary
    seen = []

    @replica.reads_from_replica
    def write_then_read(request):
        seen.append(Region.objects.count())
        new = UnitFactory(township=tree.t2)
        seen.append(Unit.objects.filter(pk=new.pk).exists())
        return HttpResponse()

    with transaction.atomic():  # as ATOMIC_REQUESTS wraps a view
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            write_then_read(RequestFactory().get("/"))
        transaction.set_rollback(True)
    assert seen[1] is True
    assert "units_region" in _sql(on_replica) and "units_unit" not in _sql(on_replica)

    # the replica held behind (replay paused): within the bound it is still read — a unit
    # written since is not there yet ...
    _scalar("replica", "SELECT pg_wal_replay_pause()::text")
    try:
        later = UnitFactory(township=tree.t1)
        assert client.get(reverse("reports:unit", args=[later.pk])).status_code == 404
        assert client.get(f"/api/v1/units/{later.pk}/status/", {"campaign": campaign.slug}).status_code == 404
        # ... beyond it, the replica is skipped and the primary answers
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
        time.sleep(1.0)
        resp, on_replica, _ = _get(client, reverse("reports:unit", args=[later.pk]))
        assert resp.status_code == 200 and "units_unit" not in on_replica
        assert replica.health.state == replica.LAGGING
    finally:
        _scalar("replica", "SELECT pg_wal_replay_resume()::text")
    wait_replayed()
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 10
    resp, on_replica, _ = _get(client, reverse("reports:unit", args=[later.pk]))
    assert resp.status_code == 200 and "units_unit" in on_replica
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == LOGGER]
    assert [level for level, _ in logged] == ["WARNING", "INFO"], logged
    assert "replica lagging" in logged[0][1] and "healthy again" in logged[1][1]


def test_killing_the_replica_under_load_fails_no_request(users, campaign, tree, standby, settings, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0.5
    wait_replayed()
    urls = [
        (reverse("reports:dashboard"), {}),
        ("/api/v1/attainment/trend/", {"campaign": campaign.slug, "region_code": tree.city.code}),
    ]
    total, done, lock = 200, [], threading.Lock()
    results: list[dict] = []
    failures: list[BaseException] = []

    def load():
        client = Client()
        client.force_login(users.city)
        try:
            while True:
                with lock:
                    if len(done) >= total:
                        return
                    done.append(1)
                    n = len(done)
                run = {"ok": 0, "failed": 0}

                def count(execute, sql, params, many, context, run=run):
                    try:
                        result = execute(sql, params, many, context)
                    except Exception:
                        run["failed"] += 1
                        raise
                    run["ok"] += 1
                    return result

                url, params = urls[n % 2]
                started = time.monotonic()
                with connections["replica"].execute_wrapper(count):
                    status = client.get(url, params).status_code
                with lock:
                    results.append({"started": started, "ended": time.monotonic(), "status": status, **run})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        assert wait_for(lambda: len(results) >= 50, timeout=30), "the load did not start"
        killed_at = time.monotonic()
        stopped = _pg_ctl(standby["data"], "-m", "immediate", "stop")
        assert stopped.returncode == 0, stopped.stderr
        gone_at = time.monotonic()
    finally:
        for t in threads:
            t.join(60)
    connections["replica"].close()  # this thread's connection died with the server too

    assert not failures, failures
    statuses = [r["status"] for r in results]
    assert len(results) == total and statuses.count(200) == total, statuses  # no request failed
    before = [r for r in results if r["ended"] < killed_at]
    after = [r for r in results if r["started"] > gone_at]
    # the replica served the load before the kill, the primary every request after it
    assert before and all(r["ok"] > 0 for r in before)
    assert len(after) >= 20 and all(r["ok"] == 0 for r in after)
    # the dead replica was met (a query or a check that failed, the request answered anyway)
    assert sum(r["failed"] for r in results) >= 1
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]
    assert warnings and warnings[0].startswith("replica down"), warnings
    print(f"{len(before)} before the kill, {len(after)} after; logged: {warnings}")

"""Faults with the real services: Redis going away must not lose an approval's roll-up
nor take pages down."""

import os
import subprocess
import time

import pytest
import redis as redis_lib
from django.db import transaction

from inspections.models import Assessment, Status
from reports import tasks
from reports.models import AttainmentSnapshot, RollupState
from tests.factories import UnitFactory, make_assessment

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
YEAR = 2022


def redis_port() -> int:
    return int(os.environ["SANLING_REDIS_PORT"])


@pytest.fixture(scope="session")
def restarted_redis():
    """Redis servers this session started; stopped when the session ends, so nothing
    outlives the test run (tests/services.py only knows the original one)."""
    procs = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_outage(restarted_redis):
    """Shut the test Redis down; bring a fresh one up on the same port afterwards."""
    procs = restarted_redis

    def stop():
        redis_lib.Redis(port=redis_port()).shutdown(nosave=True)
        assert wait_for(lambda: not _up(), timeout=10)

    def start():
        procs.append(
            subprocess.Popen(
                [
                    os.environ["SANLING_REDIS_BINARY"],
                    "--port",
                    str(redis_port()),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        assert wait_for(_up, timeout=10)

    yield stop, start
    if not _up():
        start()  # later tests of this session need a broker


def _up() -> bool:
    try:
        return redis_lib.Redis(port=redis_port(), socket_connect_timeout=0.5).ping()
    except redis_lib.ConnectionError:
        return False


def test_redis_down_keeps_pages_and_loses_no_rollup(client, tree, users, campaign, celery_worker, redis_outage):
    stop_redis, start_redis = redis_outage
    # given: a snapshot computed through the worker
    unit = UnitFactory(township=tree.t1)
    a = make_assessment(unit=unit, campaign=campaign, status="submitted")
    tasks.rollup_campaign_year.delay(campaign.id, YEAR).get(timeout=60)
    client.force_login(users.city)
    stop_redis()

    # when: an approval is saved while Redis is down
    t = time.monotonic()
    with transaction.atomic():
        Assessment.objects.filter(pk=a.pk).update(status=Status.APPROVED)
        transaction.on_commit(lambda: tasks.schedule_unit_rollup(unit.id, campaign.id, YEAR))
    assert time.monotonic() - t < 10, "saving must not hang on the broker"
    # then: it is stored, the campaign-year is marked stale, and pages serve the last snapshot
    assert Assessment.objects.get(pk=a.pk).status == Status.APPROVED
    assert RollupState.objects.get(campaign=campaign, year=YEAR).dirty is True
    resp = client.get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200
    assert resp.context["cards"][0].attained_units == 0
    assert "数据可能滞后" in resp.content.decode()

    # when: Redis is back and the catch-up job runs (beat runs it every two minutes)
    start_redis()
    tasks.rollup_dirty.delay().get(timeout=60)

    # then: the approval's roll-up has happened
    def province():
        return AttainmentSnapshot.objects.get(
            campaign=campaign, year=YEAR, region=tree.province, category="village_community"
        ).attained_units

    assert wait_for(lambda: province() == 1, timeout=30)
    assert RollupState.objects.get(campaign=campaign, year=YEAR).dirty is False

"""Queues on real workers: a full roll-up that takes long (held here by a lock) occupies the
roll-up queue's worker, and an approval's incremental update still reaches the province
through the incremental queue's worker; a requested roll-up can be cancelled, running or
still queued, and leaves the previous snapshot as it was."""

import time

import psycopg2
import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.core.cache import cache

from reports import services, tasks
from reports.models import AttainmentSnapshot, RollupState
from tests.factories import UnitFactory, make_assessment

from .conftest import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_pools(transactional_db):
    rollups = start_worker(name="rollups", queues="rollup")
    others = start_worker(name="others", queues="default,incremental,mail")
    yield
    stop_worker(rollups)
    stop_worker(others)


@pytest.fixture
def held(transactional_db):
    """Hold the 2021 roll-up's state row, so a full roll-up of 2021 waits inside its run."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    cur = conn.cursor()

    def hold(campaign):
        cur.execute("BEGIN")
        cur.execute(
            "SELECT id FROM reports_rollupstate WHERE campaign_id = %s AND year = 2021 FOR UPDATE", [campaign.id]
        )
        return cur

    yield hold
    conn.rollback()
    conn.close()


def _blocked(cur) -> bool:
    cur.execute("SELECT pg_stat_clear_snapshot()")  # the view is read once per transaction otherwise
    cur.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%%reports_rollupstate%%'"
    )
    return cur.fetchone()[0] > 0


def _province(campaign, tree, year):
    return AttainmentSnapshot.objects.filter(
        campaign=campaign, year=year, region_id=tree.province.code, category="village_community"
    ).first()


def test_a_long_full_rollup_does_not_hold_up_an_approvals_update(tree, campaign, two_pools, held):
    unit = UnitFactory(township=tree.t1)
    for year in (2021, 2022):
        tasks.rollup_campaign_year.delay(campaign.id, year).get(timeout=60)
    # given: the roll-up worker busy with a full roll-up of 2021, and another queued behind it
    cur = held(campaign)
    long_run = tasks.rollup_campaign_year.delay(campaign.id, 2021)
    queued = tasks.rollup_campaign_year.delay(campaign.id, 2021)
    assert wait_for(lambda: _blocked(cur), timeout=20), "the full roll-up never started"
    # when: a unit is approved for 2022
    make_assessment(unit=unit, campaign=campaign, status="approved")
    started = time.monotonic()
    tasks.schedule_unit_rollup(unit.id, campaign.id, 2022)
    # then: the province figure changes while the full roll-ups are still running / waiting
    assert wait_for(lambda: (r := _province(campaign, tree, 2022)) and r.attained_units == 1, timeout=20)
    took = time.monotonic() - started
    assert long_run.state in ("PENDING", "STARTED", "PROGRESS") and queued.state == "PENDING"
    print(f"approval → province with the roll-up queue busy: {took:.2f}s")


def test_a_requested_rollup_is_cancelled_running_or_queued(tree, campaign, users, two_pools, held):
    UnitFactory(township=tree.t1)
    tasks.rollup_campaign_year.delay(campaign.id, 2021).get(timeout=60)
    before = RollupState.objects.get(campaign=campaign, year=2021).computed_at
    rows_before = sorted(
        AttainmentSnapshot.objects.filter(campaign=campaign, year=2021).values_list("region_id", "computed_at")
    )
    cur = held(campaign)
    running = services.rollup_request(campaign_slug=campaign.slug, year=2021, by=users.province)
    waiting = services.rollup_request(campaign_slug=campaign.slug, year=2021, by=users.province)
    assert wait_for(lambda: _blocked(cur), timeout=20)
    # when: both are cancelled, then the running one gets its lock
    services.rollup_cancel(task_id=running.task_id, by=users.province)
    services.rollup_cancel(task_id=waiting.task_id, by=users.province)
    cur.connection.rollback()
    # then: the running one stopped (at its next step, or — not yet past its lock, so still
    # PENDING to the worker — revoked), the queued one never ran; neither wrote anything
    ran = AsyncResult(running.task_id)
    assert wait_for(lambda: ran.state in ("SUCCESS", "REVOKED"), timeout=30), ran.state
    assert ran.state == "REVOKED" or ran.result["cancelled"] is True
    assert wait_for(lambda: AsyncResult(waiting.task_id).state == "REVOKED", timeout=20)
    assert RollupState.objects.get(campaign=campaign, year=2021).computed_at == before
    assert (
        sorted(AttainmentSnapshot.objects.filter(campaign=campaign, year=2021).values_list("region_id", "computed_at"))
        == rows_before
    )
    assert cache.get(tasks.cancel_key(running.task_id)) is True

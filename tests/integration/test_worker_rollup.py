"""The roll-up on real PostgreSQL, Redis and a Celery worker process."""

import os
import signal
import time
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings

from reports import tasks
from reports.models import AttainmentSnapshot, RollupState
from tests.factories import UnitFactory, make_assessment

from .conftest import start_worker, stop_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
YEAR = 2022


def province_row(campaign, tree):
    return AttainmentSnapshot.objects.filter(
        campaign=campaign, year=YEAR, region_id=tree.province.code, category="village_community"
    ).first()


def test_full_rollup_runs_on_a_real_worker(tree, campaign, celery_worker):
    # given: two villages, one approved at full marks
    make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    UnitFactory(township=tree.t2)
    # when: the task goes through Redis to the worker process
    result = tasks.rollup_campaign_year.delay(campaign.id, YEAR)
    assert result.get(timeout=60)["rows"] == 16
    # then: the worker wrote the snapshot into this PostgreSQL database
    row = province_row(campaign, tree)
    assert (row.total_units, row.attained_units, row.rate) == (2, 1, Decimal("0.5"))
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def test_incremental_update_after_commit_reaches_the_province(tree, campaign, celery_worker):
    unit = UnitFactory(township=tree.t1)
    tasks.rollup_campaign_year.delay(campaign.id, YEAR).get(timeout=60)
    assert province_row(campaign, tree).attained_units == 0
    make_assessment(unit=unit, campaign=campaign, status="approved")
    started = time.monotonic()
    tasks.schedule_unit_rollup(unit.id, campaign.id, YEAR)
    row = wait_for(lambda: (r := province_row(campaign, tree)) and r.attained_units == 1 and r, timeout=20)
    assert row and row.attained_units == 1, "province figure did not change within 20 s"
    print(f"approval → province figure: {time.monotonic() - started:.2f}s")


def test_worker_killed_mid_rollup_leaves_previous_snapshot(tree, campaign, celery_worker):
    # given: a computed snapshot with 0 attained, then an approval the snapshot does not yet show
    unit = UnitFactory(township=tree.t1)
    tasks.rollup_campaign_year.delay(campaign.id, YEAR).get(timeout=60)
    before = sorted(
        AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list(
            "region_id", "category", "attained_units", "computed_at"
        )
    )
    make_assessment(unit=unit, campaign=campaign, status="approved")
    # when: a roll-up is under way — held inside its transaction by a lock we hold — and
    # its worker process is killed
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    cur = conn.cursor()
    cur.execute("BEGIN; LOCK TABLE reports_attainmentsnapshot IN ACCESS EXCLUSIVE MODE")
    tasks.rollup_campaign_year.delay(campaign.id, YEAR)
    blocked = wait_for(lambda: _waiting_on_lock(cur), timeout=20)
    assert blocked, "the roll-up never reached the snapshot table"
    for pid in _child_pids(celery_worker.pid):
        os.kill(pid, signal.SIGKILL)
    os.kill(celery_worker.pid, signal.SIGKILL)
    celery_worker.wait(10)
    time.sleep(0.5)
    conn.rollback()
    conn.close()
    # then: the old snapshot is intact, row for row
    after = sorted(
        AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list(
            "region_id", "category", "attained_units", "computed_at"
        )
    )
    assert after == before
    # and the next roll-up on a fresh worker gives the exact result
    w2 = start_worker(name="w2")
    try:
        tasks.rollup_campaign_year.delay(campaign.id, YEAR).get(timeout=60)
    finally:
        stop_worker(w2)
    assert province_row(campaign, tree).attained_units == 1
    assert RollupState.objects.get(campaign=campaign, year=YEAR).dirty is False


def _waiting_on_lock(cur) -> bool:
    cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'reports_attainmentsnapshot'::regclass")
    return cur.fetchone()[0] > 0


def _child_pids(pid: int) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def test_approval_through_the_web_changes_county_city_and_province(client, tree, users, campaign, celery_worker):
    # given: a computed snapshot and a submitted, full-score assessment
    from inspections.models import Status

    unit = UnitFactory(township=tree.t1)
    a = make_assessment(unit=unit, campaign=campaign, status="submitted")
    tasks.rollup_campaign_year.delay(campaign.id, YEAR).get(timeout=60)
    # when: the county reviewer approves it in the browser
    client.force_login(users.reviewer)
    started = time.monotonic()
    resp = client.post(f"/assessments/{a.pk}/review/", {"action": "approve", "lock_version": a.lock_version})
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.status == Status.APPROVED

    # then: within seconds the worker has updated the county, city and province figures
    def figures():
        rows = AttainmentSnapshot.objects.filter(
            campaign=campaign,
            year=YEAR,
            category="village_community",
            region__in=[tree.county, tree.city, tree.province],
        )
        return sorted(r.attained_units for r in rows) == [1, 1, 1]

    assert wait_for(figures, timeout=15), "figures did not change within 15 s"
    print(f"web approval → county/city/province: {time.monotonic() - started:.2f}s")

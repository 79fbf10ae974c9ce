"""Celery tasks of the roll-up. They take ids, call one service, and are idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from standards.models import Campaign

from . import rollup
from .models import RollupState

log = logging.getLogger(__name__)

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(bind=True, **RETRY)
def rollup_campaign_year(self, campaign_id: int, year: int) -> dict:
    def progress(phase, done, total):
        if not self.request.called_directly and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"phase": phase, "done": done, "total": total})

    rows = rollup.run(campaign_id=campaign_id, year=year, progress=progress)
    return {"campaign_id": campaign_id, "year": year, "rows": rows}


@shared_task(**RETRY)
def rollup_township(campaign_id: int, year: int, township_code: str) -> None:
    rollup.run_for_township(campaign_id=campaign_id, year=year, township_code=township_code)


@shared_task(acks_late=True)
def rollup_all() -> int:
    """Nightly: every active campaign-year. Each is its own task so one failure does not
    stop the rest and the work spreads over the workers."""
    n = 0
    for c in Campaign.objects.filter(active=True):
        for y in c.years:
            rollup_campaign_year.delay(c.pk, y)
            n += 1
    return n


@shared_task(acks_late=True)
def rollup_dirty() -> int:
    """Catch up on updates that could not be queued while the broker was down."""
    n = 0
    for state in RollupState.objects.filter(dirty=True):
        rollup_campaign_year.delay(state.campaign_id, state.year)
        n += 1
    return n


def schedule_unit_rollup(unit_id: int, campaign_id: int | None = None, year: int | None = None) -> None:
    """Queue the incremental update after a change to a unit's assessment or incidents.
    Call it from transaction.on_commit. If the broker is unreachable the change is not
    lost: the campaign-year is marked dirty and the catch-up or nightly job recomputes."""
    for c_id, y, township in rollup.unit_rollup_targets(unit_id, year):
        if campaign_id is not None and c_id != campaign_id:
            continue
        try:
            rollup_township.delay(c_id, y, township)
        except (BrokerError, RedisError, ConnectionError, OSError) as exc:
            log.warning("roll-up for campaign %s year %s not queued (%s); marked dirty", c_id, y, exc)
            rollup.mark_dirty(campaign_id=c_id, year=y)

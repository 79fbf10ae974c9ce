"""Celery tasks of the roll-up. They take ids, call one service, and are idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from standards.models import Campaign

from . import rollup
from .models import RollupState

log = logging.getLogger(__name__)

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


def cancel_key(task_id: str) -> str:
    return f"rollup:cancel:{task_id}"


@shared_task(bind=True, **RETRY)
def rollup_campaign_year(self, campaign_id: int, year: int) -> dict:
    """A full roll-up. It reports its progress (state PROGRESS, phase and step) and stops
    at the next step once asked to (reports.services.rollup_cancel): rolled back, the
    previous snapshot unchanged."""

    def progress(phase, done, total):
        if self.request.id and cache.get(cancel_key(self.request.id)):
            raise rollup.Cancelled
        if not self.request.called_directly and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"phase": phase, "done": done, "total": total})

    try:
        rows = rollup.run(campaign_id=campaign_id, year=year, progress=progress)
    except rollup.Cancelled:
        log.info("roll-up of campaign %s %s cancelled", campaign_id, year)
        return {"campaign_id": campaign_id, "year": year, "rows": 0, "cancelled": True}
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


def schedule_rollups(targets: list[tuple[int, int, str]]) -> None:
    """Queue the incremental update of each (campaign, year, township). Called after commit.
    If the broker is unreachable the change is not lost: the campaign-year is marked dirty
    and the catch-up or nightly job recomputes it."""
    broker_down = False
    for c_id, y, township in dict.fromkeys(targets):
        if not broker_down:
            try:
                rollup_township.delay(c_id, y, township)
                continue
            except (BrokerError, RedisError, ConnectionError, OSError) as exc:
                # once the broker has failed, the rest is recorded without trying again:
                # the request must not wait out one connection timeout per target
                log.warning("roll-ups not queued (%s); campaign-years marked dirty", exc)
                broker_down = True
        rollup.mark_dirty(campaign_id=c_id, year=y)


def schedule_unit_rollup(unit_id: int, campaign_id: int | None = None, year: int | None = None) -> None:
    """Queue the incremental update after a change to a unit's assessment or incidents."""
    schedule_rollups(
        [t for t in rollup.unit_rollup_targets(unit_id, year) if campaign_id is None or t[0] == campaign_id]
    )


# --- what the lower apps announce (connected in ReportsConfig.ready) ----------------


def on_assessment_decided(sender, *, unit_id: int, campaign_id: int, year: int, **kwargs) -> None:
    schedule_unit_rollup(unit_id, campaign_id, year)


def on_incident_changed(sender, *, unit_id: int, years: list[int], **kwargs) -> None:
    for year in years:
        schedule_unit_rollup(unit_id, None, year)


def on_condition_changed(sender, *, unit_id: int, year: int, **kwargs) -> None:
    schedule_unit_rollup(unit_id, None, year)


def on_units_changed(sender, *, action: str, townships: list[str], effective_on=None, **kwargs) -> None:
    """A unit registered, archived, restored, re-kinded, moved or imported: the years of
    every campaign covering its townships from the year the change took effect (the years
    before keep the unit as it was, units.history). A change of name or contact changes
    no figure."""
    if action == "updated":
        return
    schedule_rollups(rollup.townships_rollup_targets(townships, from_year=effective_on.year if effective_on else None))


def on_campaign_changed(sender, *, campaign_id: int, **kwargs) -> None:
    """A campaign's scope, categories, pass mark or targets changed: each of its years in full."""
    campaign = Campaign.objects.filter(pk=campaign_id, active=True).first()
    if campaign is None:
        return
    for i, year in enumerate(campaign.years):
        try:
            rollup_campaign_year.delay(campaign.pk, year)
        except (BrokerError, RedisError, ConnectionError, OSError) as exc:
            log.warning("roll-ups of campaign %s not queued (%s); marked dirty", campaign_id, exc)
            for y in campaign.years[i:]:
                rollup.mark_dirty(campaign_id=campaign.pk, year=y)
            return


def on_tree_changed(sender, *, effective_on, regions: list[str], **kwargs) -> None:
    """A merge, split, move or recode: every year from its day, of every campaign whose
    scope overlaps the regions, counted anew in full (the tree itself changed)."""
    for campaign in Campaign.objects.filter(active=True).select_related("scope"):
        if not any(campaign.covers_region(code) for code in regions):
            continue
        for year in [y for y in campaign.years if y >= effective_on.year]:
            try:
                rollup_campaign_year.delay(campaign.pk, year)
            except (BrokerError, RedisError, ConnectionError, OSError) as exc:
                log.warning("roll-up of campaign %s %s not queued (%s); marked dirty", campaign.pk, year, exc)
                rollup.mark_dirty(campaign_id=campaign.pk, year=year)

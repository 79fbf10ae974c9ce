"""The writes of reports: asking for a roll-up now (the dashboard's button and the API's
recompute use the same service, with the same validation and the same fallback when the
task queue is down)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from sanling.kernel.errors import ServiceError
from standards import selectors as campaign_selectors
from units import access
from units.audit import audit
from units.models import User

from . import rollup, tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollupRequest:
    task_id: str | None  # None: not queued (the broker is down), recorded to catch up
    campaign_id: int
    year: int

    @property
    def queued(self) -> bool:
        return self.task_id is not None


def year_error(campaign) -> str:
    return _("年度必须是本次创建活动的年度之一：%(start)s–%(end)s。") % {
        "start": campaign.start_year,
        "end": campaign.last_year,
    }


def rollup_request(*, campaign_slug: str, year, by: User, ip: str | None = None) -> RollupRequest:
    """Queue a full roll-up of one campaign-year for a staff user of its jurisdiction. An
    unknown or foreign campaign is a 404; a year outside the campaign a ServiceError. With
    the broker down, the campaign-year is marked dirty: the catch-up job recomputes it."""
    if not access.is_staff_reader(by):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    campaign = campaign_selectors.campaigns_for(by).filter(slug=campaign_slug or "").first()
    if campaign is None:
        raise Http404
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ServiceError({"year": [year_error(campaign)]}) from None
    if not campaign.covers_year(year):
        raise ServiceError({"year": [year_error(campaign)]})
    try:
        result = tasks.rollup_campaign_year.delay(campaign.id, year)
    except (BrokerError, RedisError, ConnectionError, OSError) as exc:
        log.warning("roll-up of %s %s not queued (%s); marked dirty", campaign.slug, year, exc)
        rollup.mark_dirty(campaign_id=campaign.id, year=year)
        audit(actor=by, action="rollup.deferred", target=campaign, detail={"year": year}, ip=ip)
        return RollupRequest(None, campaign.id, year)
    audit(actor=by, action="rollup.requested", target=campaign, detail={"year": year}, ip=ip)
    cache.set(_task_key(result.id), [campaign.id, year], TASK_MEMORY)
    return RollupRequest(result.id, campaign.id, year)


TASK_MEMORY = 24 * 3600  # how long a requested roll-up can be cancelled by its id


def _task_key(task_id: str) -> str:
    return f"rollup:task:{task_id}"


def rollup_cancel(*, task_id: str, by: User, ip: str | None = None) -> None:
    """Stop a requested full roll-up: taken off the queue if not started, stopped at its
    next step (rolled back) if running. Staff of the campaign's jurisdiction only; a task
    id that is not a roll-up they asked for in their jurisdiction is a 404."""
    if not access.is_staff_reader(by):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    known = cache.get(_task_key(task_id))
    campaign = campaign_selectors.campaigns_for(by).filter(pk=known[0]).first() if known else None
    if campaign is None:
        raise Http404
    cache.set(tasks.cancel_key(task_id), True, TASK_MEMORY)
    try:
        tasks.rollup_campaign_year.app.control.revoke(task_id)  # not started yet: never starts
    except (BrokerError, RedisError, ConnectionError, OSError) as exc:
        log.warning("revoke of %s not sent (%s); the running task stops at its next step", task_id, exc)
    audit(actor=by, action="rollup.cancelled", target=campaign, detail={"year": known[1], "task": task_id}, ip=ip)

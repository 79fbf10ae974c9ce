"""Writes of campaigns outside the Django admin, for the staff who run a campaign: opening
its next year and setting a year's targets. Atomic, audited; the roll-up recomputes the
campaign's years after commit (standards.events.campaign_changed)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit
from units import access
from units.audit import audit
from units.models import Region, User

from .events import campaign_changed
from .models import Campaign, Target


def can_run(user: User, campaign: Campaign) -> bool:
    """The staff of the campaign's own region (the province's for Shanxi's, the city's for
    Jinzhong's) and administrators over it — not the levels below, not API clients."""
    if not access.can_appraise(user):
        return False
    prefix = access.region_prefix(user)
    return prefix is not None and campaign.scope.prefix.startswith(prefix)


def _require(user: User, campaign: Campaign) -> None:
    if not can_run(user, campaign):
        raise PermissionDenied(_("只有创建活动所在地区的政法委工作人员可以设置年度和目标。"))


@transaction.atomic
def campaign_year_open(*, campaign: Campaign, year: int, by: User, ip: str | None = None) -> Campaign:
    """Open the year after the campaign's last (at most next year): its units may then be
    assessed for it; its targets carry on from the last year that set them until set."""
    _require(by, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    this_year = timezone.localdate().year
    if year != campaign.last_year + 1:
        raise ServiceError({"year": [_("只能开启紧接最后一年的年度：%(y)s 年。") % {"y": campaign.last_year + 1}]})
    if year > this_year + 1:
        raise ServiceError({"year": [_("最多提前开启下一年度（%(y)s 年）。") % {"y": this_year + 1}]})
    before = campaign.end_year
    campaign.end_year = year
    campaign.active = True
    campaign.save(update_fields=["end_year", "active"])
    audit(actor=by, action="campaign.year_opened", target=campaign, detail={"year": year, "end_before": before}, ip=ip)
    send_after_commit(campaign_changed, sender=Campaign, campaign_id=campaign.pk)
    return campaign


def parse_rate(raw) -> Decimal:
    """A target typed as a percentage (80, 80%, 85.5) → 0.8; refused with a reason."""
    text = str(raw or "").strip().rstrip("%％").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ServiceError(_("目标达标率“%(v)s”不是数字，请填写百分比，如 80。") % {"v": raw}) from None
    if not (0 <= value <= 100) or not value.is_finite():
        raise ServiceError(_("目标达标率必须在 0 到 100 之间，填的是 %(v)s。") % {"v": raw})
    return (value / 100).quantize(Decimal("0.0001"))


@transaction.atomic
def targets_set(
    *, campaign: Campaign, year: int, region: Region, rates: dict[str, object], by: User, ip: str | None = None
) -> list[Target]:
    """Set a year's target rates (percentages, by category) for a region of the campaign
    in the user's jurisdiction. A blank rate leaves that category as it was. All or nothing."""
    _require(by, campaign)
    access.require_region(by, region)
    errors = {}
    if not campaign.covers_year(year):
        errors["year"] = [campaign.year_refusal(year)]
    if not campaign.covers_region(region.code):
        errors["region"] = [_("“%(r)s”不在活动范围“%(s)s”内。") % {"r": region.name, "s": campaign.scope.name}]
    parsed = {}
    for category, raw in rates.items():
        if category not in campaign.categories:
            errors.setdefault("category", []).append(_("本活动不含类别“%(c)s”。") % {"c": category})
            continue
        if str(raw or "").strip() == "":
            continue
        try:
            parsed[category] = parse_rate(raw)
        except ServiceError as exc:
            errors.setdefault(category, []).extend(exc.messages)
    if errors:
        raise ServiceError(errors)
    if not parsed:
        raise ServiceError(_("请至少填写一个类别的目标达标率。"))
    out = []
    for category, rate in parsed.items():
        target, created = Target.objects.update_or_create(
            campaign=campaign, region=region, category=category, year=year, defaults={"rate": rate}
        )
        out.append(target)
        audit(
            actor=by,
            action="target.set",
            target=campaign,
            detail={"year": year, "region": region.code, "category": category, "rate": str(rate), "new": created},
            ip=ip,
        )
    send_after_commit(campaign_changed, sender=Campaign, campaign_id=campaign.pk)
    return out

"""Region-level indicators (县级以上文明村镇创建率): the region's staff enter the figures
for their region (of the indicator's level) and year; the latest entry counts. Audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from standards.models import RegionIndicator
from units import access
from units.audit import audit
from units.models import Region, User

from . import scoring
from .models import RegionIndicatorValue


class _Labels:
    """What scoring's figure checks need of an item: code, labels, unit."""

    def __init__(self, ind: RegionIndicator):
        self.code, self.indicator_numerator, self.indicator_denominator = ind.name, ind.numerator, ind.denominator
        self.indicator_unit = ind.unit


@transaction.atomic
def region_indicator_record(
    *, indicator: RegionIndicator, region: Region, year: int, numerator, denominator, by: User
) -> RegionIndicatorValue:
    if not access.is_staff_reader(by) or access.is_api_client(by):
        raise PermissionDenied(_("只有县级及以上工作人员可以填报区域指标。"))
    access.require_region(by, region)
    errors: dict[str, list[str]] = {}
    if region.level != indicator.level:
        errors["region"] = [
            _("“%(i)s”按%(l)s填报，%(r)s不是。")
            % {"i": indicator.name, "l": indicator.get_level_display(), "r": region.name}
        ]
    if not indicator.campaign.covers_region(region.code) or not indicator.campaign.covers_year(year):
        errors["year"] = [
            _("%(r)s %(y)s 年不在“%(c)s”之内。") % {"r": region.name, "y": year, "c": indicator.campaign.name}
        ]
    try:
        num, den = scoring.parse_figures(numerator, denominator, _Labels(indicator))
        if num is None:
            errors["numerator"] = [_("请填写%(n)s和%(d)s。") % {"n": indicator.numerator, "d": indicator.denominator}]
    except ServiceError as exc:
        errors["numerator"] = exc.messages
    if errors:
        raise ServiceError(errors)
    v = RegionIndicatorValue.objects.create(
        indicator=indicator, region=region, year=year, numerator=num, denominator=den, recorded_by=by
    )
    audit(
        actor=by,
        action="region_indicator.recorded",
        target=v,
        detail={"indicator": indicator.code, "region": region.code, "year": year, "num": str(num), "den": str(den)},
    )
    return v


def latest(campaign, region: Region, year: int) -> list[tuple[RegionIndicator, RegionIndicatorValue | None]]:
    """The campaign's indicators of the region's level, each with its latest figures."""
    out = []
    for ind in campaign.region_indicators.filter(level=region.level):
        out.append((ind, ind.values.filter(region=region, year=year).order_by("-recorded_at", "-id").first()))
    return out

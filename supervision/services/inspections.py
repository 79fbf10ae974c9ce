"""Inspections: planned or ad hoc, and random samples drawn against falsification with a
recorded seed, so anyone can redraw and compare."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import secrets
import sys
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from inspections.models import Assessment, Status
from sanling.kernel.errors import ServiceError
from standards.models import Campaign
from units import access
from units.audit import audit
from units.models import Region, Unit, User

from .. import selectors
from ..models import Inspection, InspectionKind, InspectionMode, SpotCheck
from ._common import in_jurisdiction, may

MAX_SAMPLE = 2000


def sample_pool(region: Region, campaign: Campaign, year: int) -> list[str]:
    """The units a sample is drawn from: active units of the region with an approved
    assessment for the campaign and year, by unit code (a stable order for the seed)."""
    return list(
        Assessment.objects.filter(
            campaign=campaign,
            year=year,
            status=Status.APPROVED,
            unit__active=True,
            unit__township__code__startswith=region.prefix,
        )
        .order_by("unit__code")
        .values_list("unit__code", flat=True)
    )


def pool_digest(codes: list[str]) -> str:
    return hashlib.sha256("\n".join(codes).encode()).hexdigest()


def draw(codes: list[str], k: int, seed: int) -> list[str]:
    """The sample: a pure function of the ordered pool, the size and the seed."""
    # A seeded PRNG on purpose: the draw must be reproducible by auditors from the recorded
    # seed; unpredictability comes from the seed itself (secrets.randbelow when not given).
    return sorted(random.Random(seed).sample(codes, k))  # noqa: S311


def sample_size(pool: int, *, percent: Decimal | None, count: int | None) -> int:
    if count is not None:
        return min(count, pool)
    return min(pool, max(1, math.ceil(pool * percent / 100))) if pool else 0


def _check_common(*, region, campaign, year, kind, mode, planned_on, inspectors, by) -> dict:
    may(access.can_inspect(by), _("只有县级及以上政法委工作人员可以安排检查。"))
    in_jurisdiction(by, region)
    errors = {}
    if year not in campaign.years:
        errors["year"] = [campaign.year_refusal(year)]
    if kind not in InspectionKind.values:
        errors["kind"] = [_("未知的检查类型“%(k)s”。") % {"k": kind}]
    if mode not in InspectionMode.values:
        errors["mode"] = [_("未知的检查方式“%(m)s”。") % {"m": mode}]
    if not (inspectors or "").strip():
        errors["inspectors"] = [_("请填写检查人员。")]
    if planned_on is None:
        errors["planned_on"] = [_("请填写检查日期。")]
    return errors


def _add_checks(inspection: Inspection, units: list[Unit]) -> None:
    assessments = dict(
        Assessment.objects.filter(campaign=inspection.campaign, year=inspection.year, unit__in=units).values_list(
            "unit_id", "pk"
        )
    )
    SpotCheck.objects.bulk_create(
        [SpotCheck(inspection=inspection, unit=u, assessment_id=assessments.get(u.pk)) for u in units]
    )


@transaction.atomic
def inspection_plan(
    *,
    region: Region,
    campaign: Campaign,
    year: int,
    kind: str,
    mode: str,
    planned_on: dt.date,
    inspectors: str,
    unit_codes: list[str],
    by: User,
    findings: str = "",
) -> Inspection:
    """A scheduled or ad-hoc inspection of named units of the region."""
    errors = _check_common(
        region=region,
        campaign=campaign,
        year=year,
        kind=kind,
        mode=mode,
        planned_on=planned_on,
        inspectors=inspectors,
        by=by,
    )
    if kind == InspectionKind.SAMPLE:
        errors["kind"] = [_("随机抽样请使用“抽样”功能，以便记录种子。")]
    codes = sorted({c.strip() for c in unit_codes if c and c.strip()})
    if not codes:
        errors["unit_codes"] = [_("请至少填写一个被检查单位的代码。")]
    units = list(access.visible_units(by).filter(code__in=codes, township__code__startswith=region.prefix))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        errors["unit_codes"] = [
            _("这些单位代码不存在或不在“%(r)s”范围内：%(c)s") % {"r": region.name, "c": "、".join(missing[:20])}
        ]
    if errors:
        raise ServiceError(errors)
    ins = Inspection.objects.create(
        region=region,
        campaign=campaign,
        year=year,
        kind=kind,
        mode=mode,
        planned_on=planned_on,
        inspectors=inspectors.strip(),
        findings=(findings or "").strip(),
        created_by=by,
    )
    _add_checks(ins, units)
    audit(actor=by, action="inspection.planned", target=ins, detail={"units": codes})
    return ins


@transaction.atomic
def inspection_draw_sample(
    *,
    region: Region,
    campaign: Campaign,
    year: int,
    mode: str,
    planned_on: dt.date,
    inspectors: str,
    by: User,
    percent=None,
    count=None,
    seed=None,
) -> Inspection:
    """Draw a random sample of the region's approved units to spot-check. The seed is
    recorded (a fresh one is generated when none is given) with the pool's size and
    fingerprint, so the draw can be reproduced and audited."""
    errors = _check_common(
        region=region,
        campaign=campaign,
        year=year,
        kind=InspectionKind.SAMPLE,
        mode=mode,
        planned_on=planned_on,
        inspectors=inspectors,
        by=by,
    )
    if (percent is None) == (count is None):
        errors["size"] = [_("请填写抽样比例或抽样数量（二选一）。")]
    try:
        percent = None if percent is None else Decimal(str(percent))
        if percent is not None and not (Decimal(0) < percent <= 100):
            errors["percent"] = [_("抽样比例应在 0–100 之间（不含 0）。")]
    except (InvalidOperation, ValueError):
        errors["percent"] = [_("抽样比例“%(v)s”不是数字。") % {"v": percent}]
    if count is not None and (not isinstance(count, int) or count < 1):
        errors["count"] = [_("抽样数量应为正整数。")]
    if seed is not None and (not isinstance(seed, int) or not 0 <= seed < 2**62):
        errors["seed"] = [_("种子应为非负整数。")]
    if errors:
        raise ServiceError(errors)
    pool = sample_pool(region, campaign, year)
    if not pool:
        raise ServiceError(
            {"region": [_("“%(r)s”%(y)s 年没有审核通过的单位可供抽样。") % {"r": region.name, "y": year}]}
        )
    k = sample_size(len(pool), percent=percent, count=count)
    if k > MAX_SAMPLE:
        raise ServiceError(
            {
                "size": [
                    _("一次最多抽取 %(m)s 个单位（本次为 %(k)s 个），请缩小范围或比例。") % {"m": MAX_SAMPLE, "k": k}
                ]
            }
        )
    seed = secrets.randbelow(2**62) if seed is None else seed
    codes = draw(pool, k, seed)
    ins = Inspection.objects.create(
        region=region,
        campaign=campaign,
        year=year,
        kind=InspectionKind.SAMPLE,
        mode=mode,
        planned_on=planned_on,
        inspectors=inspectors.strip(),
        sample_seed=seed,
        sample_percent=percent,
        sample_size=k,
        pool_size=len(pool),
        pool_digest=pool_digest(pool),
        pool_codes="\n".join(pool),
        created_by=by,
    )
    _add_checks(ins, list(Unit.objects.filter(code__in=codes)))
    audit(
        actor=by,
        action="inspection.sampled",
        target=ins,
        detail={
            "seed": seed,
            "pool": len(pool),
            "k": k,
            "units": codes,
            "algorithm": f"sorted(random.Random(seed).sample(pool, k)), Python {sys.version.split()[0]}",
        },
    )
    return ins


def sample_verify(inspection: Inspection) -> tuple[bool, str]:
    """Redraw a sample from its seed and the pool as it was at the draw (kept with the
    inspection, its fingerprint checked first): the sample's own checks — an overturn —
    change today's pool, not that one. A sample drawn before the pool was kept is
    redrawn from today's pool when that one still matches the fingerprint."""
    drawn = sorted(inspection.checks.values_list("unit__code", flat=True))
    pool = inspection.pool_codes.split("\n") if inspection.pool_codes else None
    if pool is None:
        pool = sample_pool(inspection.region, inspection.campaign, inspection.year)
        if pool_digest(pool) != inspection.pool_digest:
            return False, _("抽样总体已变化（当时 %(a)s 个，现在 %(b)s 个审核通过的单位），无法按原总体复核。") % {
                "a": inspection.pool_size,
                "b": len(pool),
            }
    elif pool_digest(pool) != inspection.pool_digest or len(pool) != inspection.pool_size:
        return False, _("保存的抽样总体与其指纹不符，记录可能被改动。")
    if draw(pool, inspection.sample_size, inspection.sample_seed) == drawn:
        return True, _("按种子 %(s)s 从抽样时的总体（%(n)s 个单位）重新抽取，结果与记录一致（%(k)s 个单位）。") % {
            "s": inspection.sample_seed,
            "n": len(pool),
            "k": len(drawn),
        }
    return False, _("按种子重新抽取的结果与记录不一致。")


@transaction.atomic
def inspection_update(*, inspection: Inspection, findings: str, by: User) -> Inspection:
    inspection = selectors.inspection_for(by, inspection.pk)  # not theirs: 404, like a missing one
    may(selectors.can_act_on_inspection(by, inspection), _("检查发现由安排检查的单位填写。"))
    ins = Inspection.objects.select_for_update().get(pk=inspection.pk)
    ins.findings = (findings or "").strip()
    ins._history_user = by
    ins.save(update_fields=["findings"])
    return ins

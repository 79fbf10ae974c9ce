"""Progress of special actions: recorded by the departments that lead or cooperate in
an action, for a county of their region, with evidence (supervision.actions reads it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspections.evidence import check_all as check_uploads
from inspections.evidence import store as store_upload
from sanling.kernel.errors import ServiceError
from units import access
from units.audit import audit
from units.models import Level, Region, User

from ..models import ActionProgress, ActionTarget, Measure, ProgressEvidence
from ._common import may

# what ActionProgress.value and .denominator hold (12 digits, 2 after the point)
MOST = Decimal("9999999999.99")


def _number(raw, label: str, errors: dict, field: str) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors[field] = [_("%(f)s“%(v)s”不是数字。") % {"f": label, "v": raw}]
        return None
    if value < 0:
        errors[field] = [_("%(f)s不能为负数。") % {"f": label}]
        return None
    if value > MOST:
        errors[field] = [_("%(f)s %(v)s 过大（最多 %(m)s）。") % {"f": label, "v": raw, "m": MOST}]
        return None
    if value != value.quantize(Decimal("0.01")):
        errors[field] = [_("%(f)s最多保留两位小数。") % {"f": label}]
        return None
    return value


@transaction.atomic
def progress_record(
    *,
    target: ActionTarget,
    region: Region,
    as_of: dt.date,
    value,
    by: User,
    denominator=None,
    note: str = "",
    uploads=(),
) -> ActionProgress:
    """A department's figure for a county as of a date: a count so far this year, or a
    rate's numerator and denominator. Refused, with nothing stored, for a department
    that neither leads nor cooperates in the action, a county outside its region, a date
    outside the action's period or in the future, or figures that do not add up."""
    may(access.is_department_staff(by) and by.department_id, _("只有行业部门工作人员可以填报专项行动进展。"))
    dept = by.department
    action = target.action
    if not action.involves(dept.kind):
        raise ServiceError(
            {"target": [_("%(d)s不是专项行动“%(a)s”的牵头或配合部门。") % {"d": dept.name, "a": action.name}]}
        )
    errors: dict[str, list[str]] = {}
    if region.level != Level.COUNTY or not region.code.startswith(dept.region.prefix):
        errors["region"] = [
            _("进展按县（市、区）填报，且须在%(r)s之内：%(c)s 不是。") % {"r": dept.region.name, "c": region.name}
        ]
    elif not region.code.startswith(action.campaign.scope.prefix):
        errors["region"] = [_("%(c)s不在活动“%(a)s”的范围内。") % {"c": region.name, "a": action.campaign.name}]
    if as_of is None:
        errors["as_of"] = [_("请填写截至日期。")]
    elif as_of > timezone.localdate():
        errors["as_of"] = [_("截至日期 %(d)s 晚于今天。") % {"d": as_of.isoformat()}]
    elif not action.starts_on <= as_of <= action.ends_on:
        errors["as_of"] = [
            _("截至日期 %(d)s 不在行动期内（%(s)s 至 %(e)s）。")
            % {"d": as_of.isoformat(), "s": action.starts_on.isoformat(), "e": action.ends_on.isoformat()}
        ]
    number = _number(value, _("数值"), errors, "value")
    base = _number(denominator, _("基数"), errors, "denominator")
    if "value" not in errors and number is None:
        errors["value"] = [_("请填写数值。")]
    if target.measure == Measure.RATE:
        if "denominator" not in errors and not base:
            errors["denominator"] = [_("比率指标须填写大于 0 的基数（如出租房屋总数）。")]
        elif number is not None and base and number > base:
            errors["value"] = [_("数值 %(v)s 大于基数 %(d)s。") % {"v": number, "d": base}]
    elif base is not None:
        errors["denominator"] = [_("数量指标不填基数。")]
    if not uploads:
        errors["file"] = [_("请上传佐证材料。")]
    checked, refused = check_uploads(uploads)
    if refused:
        errors["file"] = [refused]
    if errors:
        raise ServiceError(errors)
    p = ActionProgress.objects.create(
        target=target,
        region=region,
        department=dept,
        as_of=as_of,
        value=number,
        denominator=base if target.measure == Measure.RATE else None,
        note=(note or "").strip(),
        recorded_by=by,
    )
    for upload, ctype in checked:
        store_upload(ProgressEvidence, upload, ctype, by, progress=p)
    audit(
        actor=by,
        action="action.progress",
        target=p,
        detail={
            "action": action.code,
            "target": target.code,
            "region": region.code,
            "as_of": str(as_of),
            "value": str(number),
            "denominator": str(base) if base is not None else None,
        },
    )
    return p

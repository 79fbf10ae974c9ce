"""Zeros that are conditions (零盲区): the township confirms, for a unit and year, that
grid management covers it — with evidence; a spot check (county staff and above, who
inspect) revokes it with a reason. A unit of a campaign naming the condition attains only
with it confirmed and standing (reports.attainment). Announced after commit with
inspections.events.condition_changed."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit
from standards.models import ConditionKind
from units import access
from units.audit import audit
from units.models import Unit, User

from . import evidence
from .events import condition_changed
from .models import ConditionEvidence, ConditionStatus, UnitCondition


def _changed(c: UnitCondition, action: str) -> None:
    send_after_commit(
        condition_changed, sender=UnitCondition, unit_id=c.unit_id, year=c.year, kind=c.kind, action=action
    )


@transaction.atomic
def condition_confirm(*, unit: Unit, kind: str, year: int, uploads, by: User, note: str = "") -> UnitCondition:
    """The township confirms a unit's condition for a year (again after a revocation),
    with at least one evidence file."""
    if not (access.is_township_officer(by) or access.can_judge_incident(by)):
        raise PermissionDenied(_("只有乡镇/街道或县级审核人员可以确认“零”条件。"))
    unit = access.unit_for(by, unit.pk, for_update=True)
    errors: dict[str, list[str]] = {}
    if kind not in ConditionKind.values:
        errors["kind"] = [_("未知的“零”条件“%(k)s”。") % {"k": kind}]
    if not isinstance(year, int) or year > timezone.localdate().year or year < 2000:
        errors["year"] = [_("年度 %(y)s 不是可以确认的年度。") % {"y": year}]
    if not uploads:
        errors["file"] = [_("请上传佐证材料（如网格划分图、网格员名册）。")]
    checked, refused = evidence.check_all(uploads)
    if refused:
        errors["file"] = [refused]
    if errors:
        raise ServiceError(errors)
    c, _created = UnitCondition.objects.select_for_update().get_or_create(
        unit=unit,
        kind=kind,
        year=year,
        defaults={"status": ConditionStatus.CONFIRMED, "confirmed_by": by, "confirmed_at": timezone.now()},
    )
    c.status, c.confirmed_by, c.confirmed_at, c.note = (
        ConditionStatus.CONFIRMED,
        by,
        timezone.now(),
        (note or "").strip(),
    )
    c.revoked_by, c.revoked_at, c.revoke_reason = None, None, ""
    c._history_user = by
    c.save()
    for upload, ctype in checked:
        evidence.store(ConditionEvidence, upload, ctype, by, condition=c)
    audit(actor=by, action="condition.confirmed", target=c, detail={"unit": unit.code, "kind": kind, "year": year})
    _changed(c, "confirmed")
    return c


@transaction.atomic
def condition_revoke(*, condition: UnitCondition | int, reason: str, by: User) -> UnitCondition:
    """A spot check finds blind spots: the condition no longer stands for the year."""
    if not access.can_inspect(by):
        raise PermissionDenied(_("只有督导检查人员可以撤销“零”条件。"))
    pk = condition.pk if isinstance(condition, UnitCondition) else condition
    c = access.object_for(by, UnitCondition.objects.select_related("unit"), pk, for_update=True)
    if c.status == ConditionStatus.REVOKED:
        raise ServiceError(_("该条件已被撤销。"))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": [_("撤销时必须说明抽查发现的问题。")]})
    c.status, c.revoked_by, c.revoked_at, c.revoke_reason = ConditionStatus.REVOKED, by, timezone.now(), reason
    c._history_user = by
    c.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
    audit(actor=by, action="condition.revoked", target=c, detail={"reason": reason})
    _changed(c, "revoked")
    return c

"""Incidents: recorded by township officers and county staff, confirmed or dismissed by
the county. Every incident not dismissed breaks its kind's zero for its calendar year in
each campaign that names the kind; the roll-up is updated after commit."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from standards.models import IncidentKind
from units import access
from units.audit import audit
from units.models import Unit, User

from .models import Incident, IncidentStatus
from .services import ServiceError


def _schedule(unit_id: int, year: int) -> None:
    from reports.tasks import schedule_unit_rollup

    transaction.on_commit(lambda: schedule_unit_rollup(unit_id, None, year))


@transaction.atomic
def incident_record(*, unit: Unit, kind: str, occurred_on: dt.date, description: str, by: User) -> Incident:
    if not access.can_record_incident(by):
        raise PermissionDenied(_("您的角色不能登记事件。"))
    errors = {}
    if kind not in IncidentKind.values:
        errors["kind"] = [_("未知的事件类型“%(k)s”。") % {"k": kind}]
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = [_("发生日期 %(d)s 晚于今天，不能登记未来的事件。") % {"d": occurred_on.isoformat()}]
    if not (description or "").strip():
        errors["description"] = [_("请填写情况描述。")]
    if errors:
        raise ServiceError(errors)
    incident = Incident.objects.create(
        unit=unit, kind=kind, occurred_on=occurred_on, description=description.strip(), recorded_by=by
    )
    audit(actor=by, action="incident.recorded", target=incident, detail={"kind": kind, "unit": unit.code})
    _schedule(unit.pk, occurred_on.year)
    return incident


@transaction.atomic
def incident_judge(*, incident: Incident, status: str, reason: str, by: User) -> Incident:
    if not access.can_judge_incident(by):
        raise PermissionDenied(_("只有县级审核人员可以确认或排除事件。"))
    if status not in (IncidentStatus.CONFIRMED, IncidentStatus.DISMISSED):
        raise ServiceError({"status": [_("只能确认（confirmed）或排除（dismissed）。")]})
    reason = (reason or "").strip()
    if status == IncidentStatus.DISMISSED and not reason:
        raise ServiceError({"reason": [_("排除事件时必须说明理由。")]})
    inc = Incident.objects.select_for_update().get(pk=incident.pk)
    inc.status, inc.reason, inc.judged_by, inc.judged_at = status, reason, by, timezone.now()
    inc._history_user = by
    inc.save(update_fields=["status", "reason", "judged_by", "judged_at"])
    audit(actor=by, action=f"incident.{status}", target=inc, detail={"reason": reason})
    _schedule(inc.unit_id, inc.occurred_on.year)
    return inc

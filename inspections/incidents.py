"""Incidents: recorded by township officers and county staff, confirmed or dismissed by
the county (inspections.workflow.INCIDENT). Every incident not dismissed breaks its
kind's zero for its calendar year in each campaign that names the kind; a change is
announced with inspections.events.incident_changed after commit."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit
from standards import kinds
from standards.models import IncidentKind
from units import access
from units.audit import audit
from units.models import DepartmentKind, Unit, User

from .events import incident_changed
from .models import DisputeResolution, Incident, IncidentSource, IncidentStatus, Severity
from .workflow import INCIDENT, INCIDENT_ACTION_FOR


def _changed(inc: Incident, action: str) -> None:
    send_after_commit(
        incident_changed,
        sender=Incident,
        incident_id=inc.pk,
        unit_id=inc.unit_id,
        years=[inc.occurred_on.year],
        action=action,
    )


# a department's incidents carry its kind as their source
DEPARTMENT_SOURCE = {
    DepartmentKind.PETITION: IncidentSource.PETITION,
    DepartmentKind.PUBLIC_SECURITY: IncidentSource.PUBLIC_SECURITY,
    DepartmentKind.EMERGENCY: IncidentSource.EMERGENCY,
}


def _source(by: User, asked: str | None) -> tuple[str, object]:
    """A department's staff record as their department; townships report; the county may
    name a spot check as the source of what it records."""
    if access.is_department_staff(by):
        return DEPARTMENT_SOURCE[by.department.kind], by.department
    if asked == IncidentSource.SPOT_CHECK and not access.is_township_officer(by):
        return IncidentSource.SPOT_CHECK, None
    if asked not in (None, "", IncidentSource.TOWNSHIP):
        raise ServiceError({"source": [_("来源“%(s)s”只能由相应部门登记时自动记录。") % {"s": asked}]})
    return IncidentSource.TOWNSHIP, None


@transaction.atomic
def incident_record(
    *,
    unit: Unit,
    kind: str,
    occurred_on: dt.date,
    description: str,
    by: User,
    severity: str | None = None,
    source: str | None = None,
) -> Incident:
    if not access.can_record_incident(by):
        raise PermissionDenied(_("您的角色不能登记事件。"))
    unit = access.incident_unit_for(by, unit.pk)
    errors = {}
    if kind not in IncidentKind.values:
        errors["kind"] = [_("未知的事件类型“%(k)s”。") % {"k": kind}]
    if not severity:
        errors["severity"] = [_("请选择事件等级（一般、较大、重大、特别重大）。")]
    elif severity not in Severity.values:
        errors["severity"] = [_("未知的事件等级“%(s)s”。") % {"s": severity}]
    if occurred_on > timezone.localdate():
        errors["occurred_on"] = [_("发生日期 %(d)s 晚于今天，不能登记未来的事件。") % {"d": occurred_on.isoformat()}]
    if not (description or "").strip():
        errors["description"] = [_("请填写情况描述。")]
    if errors:
        raise ServiceError(errors)
    src, department = _source(by, source)
    incident = Incident.objects.create(
        unit=unit,
        kind=kind,
        occurred_on=occurred_on,
        description=description.strip(),
        severity=severity,
        source=src,
        department=department,
        recorded_by=by,
    )
    audit(
        actor=by,
        action="incident.recorded",
        target=incident,
        detail={"kind": kind, "unit": unit.code, "severity": severity, "source": src},
    )
    _changed(incident, "recorded")
    return incident


def _for_update(by: User, incident) -> Incident:
    pk = incident.pk if isinstance(incident, Incident) else incident
    return access.object_for(
        by, Incident.objects.select_related("unit"), pk, department_field="department", for_update=True
    )


@transaction.atomic
def incident_refer_up(*, incident: Incident | int, reason: str, by: User) -> Incident:
    """零上访 exempts what only a higher level can decide (“除必须由上级部门解决的”): the
    county marks such a petition, with its reason; it then breaks no zero."""
    inc = _for_update(by, incident)
    if not access.can_judge_incident(by):
        raise PermissionDenied(_("只有县级审核人员可以认定须由上级部门解决的信访事项。"))
    if inc.kind not in kinds.subtree([IncidentKind.PETITION]):
        raise ServiceError(
            {"kind": [_("只有上访事项可以认定为须由上级部门解决，本事件为“%(k)s”。") % {"k": inc.get_kind_display()}]}
        )
    if inc.status == IncidentStatus.DISMISSED:
        raise ServiceError(_("已排除的事件不需要再认定。"))
    if inc.higher_level:
        raise ServiceError(_("该信访事项已认定为须由上级部门解决。"))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"higher_level_reason": [_("请说明须由上级部门解决的理由。")]})
    inc.higher_level, inc.higher_level_reason = True, reason
    inc._history_user = by
    inc.save(update_fields=["higher_level", "higher_level_reason"])
    audit(actor=by, action="incident.referred_up", target=inc, detail={"reason": reason})
    _changed(inc, "referred_up")
    return inc


@transaction.atomic
def dispute_resolve(
    *, incident: Incident | int, resolution: str, by: User, resolved_on: dt.date | None = None
) -> Incident:
    """A dispute's outcome: resolved inside the jurisdiction on a date (then it breaks no
    zero), escalated, or unresolved at the year's end. The township or the county."""
    inc = _for_update(by, incident)
    if not (access.is_township_officer(by) or access.can_judge_incident(by)):
        raise PermissionDenied(_("只有乡镇/街道或县级审核人员可以登记矛盾纠纷的化解情况。"))
    if inc.kind not in kinds.subtree([IncidentKind.DISPUTE]):
        raise ServiceError({"kind": [_("只有矛盾纠纷有化解情况，本事件为“%(k)s”。") % {"k": inc.get_kind_display()}]})
    if inc.status == IncidentStatus.DISMISSED:
        raise ServiceError(_("已排除的事件不需要登记化解情况。"))
    if resolution not in DisputeResolution.values:
        raise ServiceError({"resolution": [_("未知的化解情况“%(r)s”。") % {"r": resolution}]})
    if resolution == DisputeResolution.RESOLVED:
        if resolved_on is None:
            raise ServiceError({"resolved_on": [_("请填写化解日期。")]})
        if resolved_on < inc.occurred_on:
            raise ServiceError(
                {
                    "resolved_on": [
                        _("化解日期 %(r)s 早于纠纷发生日期 %(o)s。")
                        % {"r": resolved_on.isoformat(), "o": inc.occurred_on.isoformat()}
                    ]
                }
            )
        if resolved_on > timezone.localdate():
            raise ServiceError({"resolved_on": [_("化解日期 %(r)s 晚于今天。") % {"r": resolved_on.isoformat()}]})
    else:
        resolved_on = None
    inc.resolution, inc.resolved_on = resolution, resolved_on
    inc._history_user = by
    inc.save(update_fields=["resolution", "resolved_on"])
    audit(
        actor=by,
        action="incident.resolution",
        target=inc,
        detail={"resolution": resolution, "resolved_on": str(resolved_on) if resolved_on else None},
    )
    _changed(inc, f"resolution:{resolution}")
    return inc


@transaction.atomic
def incident_judge(*, incident: Incident | int, status: str, reason: str, by: User) -> Incident:
    """Confirm or dismiss (with a reason), as the incident's state allows."""
    pk = incident.pk if isinstance(incident, Incident) else incident
    inc = access.object_for(
        by, Incident.objects.select_related("unit"), pk, department_field="department", for_update=True
    )
    action = INCIDENT_ACTION_FOR.get(status)
    if action is None:
        if not access.can_judge_incident(by):
            raise PermissionDenied(str(INCIDENT.refusals["confirm"]))
        raise ServiceError({"status": [_("只能确认（confirmed）或排除（dismissed）。")]})
    to = INCIDENT.require(inc, action, by)
    reason = (reason or "").strip()
    if action == "dismiss" and not reason:
        raise ServiceError({"reason": [_("排除事件时必须说明理由。")]})
    inc.status, inc.reason, inc.judged_by, inc.judged_at = to, reason, by, timezone.now()
    inc._history_user = by
    inc.save(update_fields=["status", "reason", "judged_by", "judged_at"])
    audit(actor=by, action=f"incident.{to}", target=inc, detail={"reason": reason})
    _changed(inc, to)
    return inc

"""Rectification tasks (整改任务): opened from findings or hazard screening, worked by the
responsible township, verified closed (销号) by the level that opened them; the states are
supervision.workflow.TASK. And the daily job that marks overdue tasks."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspections.evidence import EvidenceError
from inspections.evidence import check as sniff_upload
from sanling.kernel.errors import ServiceError
from units import access
from units.audit import audit
from units.models import Region, Role, Unit, User

from .. import selectors
from ..models import Rectification, SpotCheck, TaskEvidence, TaskSource
from ..workflow import TASK
from ._common import may
from .notifications import notify, township_officers


def _lock_task(task: Rectification, by: User) -> Rectification:
    """The task, row-locked, if `by` may see it (the same 404 as a missing one otherwise)."""
    qs = Rectification.objects.select_related("unit__township", "opened_region")
    return access.object_for(by, qs, task.pk, for_update=True)


def _save_task(t: Rectification, by: User, *fields: str) -> None:
    t.lock_version += 1
    t._history_user = by
    t.save(update_fields=[*fields, "lock_version"])


def _task_link(t: Rectification) -> str:
    return reverse("supervision:task", args=[t.pk])


def _opening_region(by: User, unit: Unit) -> Region:
    """The level that verifies the task and may reopen it. A township's own task (hazard
    screening) is verified by its county — a township does not close what it must fix;
    staff verify what they opened; an administrator without a region stands for the
    province."""
    if access.is_township_officer(by):
        return Region.objects.get(pk=unit.township.parent_id)
    if by.region_id:
        return by.region
    return Region.objects.get(pk=unit.township_id[:2] + "0" * 10)


@transaction.atomic
def task_open(
    *,
    unit: Unit,
    title: str,
    leader: str,
    lead_department: str,
    deadline: dt.date,
    by: User,
    description: str = "",
    cooperating_departments: str = "",
    source: str = TaskSource.INSPECTION,
    spot_check: SpotCheck | None = None,
) -> Rectification:
    may(access.can_open_task(by), _("您的角色不能交办整改任务。"))
    if not access.visible_units(by).filter(pk=unit.pk).exists():
        raise ServiceError({"unit": [_("单位不存在或不在您的管辖范围内。")]})
    errors = {}
    for field, value, label in (
        ("title", title, _("整改事项")),
        ("leader", leader, _("包案领导")),
        ("lead_department", lead_department, _("牵头部门")),
    ):
        if not (value or "").strip():
            errors[field] = [_("请填写%(f)s。") % {"f": label}]
    if deadline is None:
        errors["deadline"] = [_("请填写整改期限。")]
    elif deadline < timezone.localdate():
        errors["deadline"] = [_("整改期限 %(d)s 早于今天，请填写今天或以后的日期。") % {"d": deadline.isoformat()}]
    if source not in TaskSource.values:
        errors["source"] = [_("未知的来源“%(s)s”。") % {"s": source}]
    if source == TaskSource.INSPECTION and not access.can_inspect(by):
        errors["source"] = [_("检查发现的问题由检查单位交办；乡镇/街道请选择“隐患排查”或“其他”。")]
    if spot_check is not None:
        visible = selectors.visible_checks(by).filter(pk=spot_check.pk)
        # one answer for missing, not yours and not an inspector: nothing to probe
        if not visible.exists() or spot_check.unit_id != unit.pk:
            errors["spot_check"] = [_("来源检查不存在，或不是该单位的抽查。")]
    if errors:
        raise ServiceError(errors)
    t = Rectification.objects.create(
        unit=unit,
        title=title.strip(),
        description=(description or "").strip(),
        source=source,
        spot_check=spot_check,
        leader=leader.strip(),
        lead_department=lead_department.strip(),
        cooperating_departments=(cooperating_departments or "").strip(),
        deadline=deadline,
        opened_region=_opening_region(by, unit),
        opened_by=by,
    )
    audit(actor=by, action="rectification.opened", target=t, detail={"unit": unit.code, "deadline": str(deadline)})
    notify(
        township_officers(unit.township_id),
        key=f"task:{t.pk}:opened",
        message=_("新交办整改任务：%(u)s —— %(t)s，期限 %(d)s。") % {"u": unit.name, "t": t.title, "d": deadline},
        link=_task_link(t),
    )
    return t


def task_for(user: User, pk) -> Rectification:
    return access.object_for(user, Rectification.objects.select_related("unit__township", "opened_region"), pk)


@transaction.atomic
def task_start(*, task: Rectification, by: User) -> Rectification:
    t = _lock_task(task, by)
    t.status = TASK.require(t, "start", by)
    _save_task(t, by, "status")
    audit(actor=by, action="rectification.started", target=t)
    return t


@transaction.atomic
def task_add_evidence(*, task: Rectification, upload, by: User) -> TaskEvidence:
    t = _lock_task(task, by)
    TASK.require(t, "evidence", by)
    try:
        ctype = sniff_upload(upload)
    except EvidenceError as exc:
        raise ServiceError({"file": [str(exc)]}) from exc
    ev = TaskEvidence(task=t, original_name=upload.name[:200], content_type=ctype, size=upload.size, uploaded_by=by)
    ev.file.save(upload.name, upload, save=False)
    ev.save()
    audit(actor=by, action="rectification.evidence", target=t, detail={"file": ev.original_name})
    return ev


@transaction.atomic
def task_report(*, task: Rectification, note: str, by: User) -> Rectification:
    t = _lock_task(task, by)
    to = TASK.require(t, "report", by)
    errors = {}
    if not (note or "").strip():
        errors["note"] = [_("请填写整改情况。")]
    if not t.evidence.exists():
        errors["file"] = [_("报告整改完成前须上传整改佐证材料（照片、文件等）。")]
    if errors:
        raise ServiceError(errors)
    t.status, t.report_note, t.reported_at = to, note.strip(), timezone.now()
    _save_task(t, by, "status", "report_note", "reported_at")
    audit(actor=by, action="rectification.reported", target=t)
    notify(
        [u for u in [t.opened_by] if u and access.can_see_region(u, t.unit.township_id)],
        key=f"task:{t.pk}:reported:{t.lock_version}",
        message=_("整改任务已报告完成，待验收销号：%(u)s —— %(t)s。") % {"u": t.unit.name, "t": t.title},
        link=_task_link(t),
    )
    return t


@transaction.atomic
def task_verify(*, task: Rectification, by: User) -> Rectification:
    t = _lock_task(task, by)
    to = TASK.require(t, "verify", by)
    if not t.evidence.exists():
        raise ServiceError(_("没有整改佐证材料，不能销号。"))
    t.status, t.closed_at, t.closed_by = to, timezone.now(), by
    _save_task(t, by, "status", "closed_at", "closed_by")
    audit(actor=by, action="rectification.closed", target=t)
    return t


@transaction.atomic
def task_reopen(*, task: Rectification, reason: str, by: User) -> Rectification:
    t = _lock_task(task, by)
    to = TASK.require(t, "reopen", by)
    if not (reason or "").strip():
        raise ServiceError({"reason": [_("退回重整时必须说明原因。")]})
    t.status, t.reopen_reason, t.closed_at, t.closed_by = to, reason.strip(), None, None
    _save_task(t, by, "status", "reopen_reason", "closed_at", "closed_by")
    audit(actor=by, action="rectification.reopened", target=t, detail={"reason": t.reopen_reason})
    notify(
        township_officers(t.unit.township_id),
        key=f"task:{t.pk}:reopened:{t.lock_version}",
        message=_("整改任务被退回重整：%(u)s —— %(t)s。原因：%(r)s")
        % {"u": t.unit.name, "t": t.title, "r": t.reopen_reason},
        link=_task_link(t),
    )
    return t


@transaction.atomic
def mark_overdue(today: dt.date | None = None) -> int:
    """Mark unclosed tasks past their deadline as overdue and notify the responsible
    township's officers and the task's creator (portal + e-mail). Only tasks not yet
    marked are touched, so a second run the same day changes nothing."""
    today = today or timezone.localdate()
    due = list(
        Rectification.objects.select_for_update(skip_locked=True, of=("self",))
        .due_for_marking(today)
        .select_related("unit", "opened_by")
    )
    if not due:
        return 0
    Rectification.objects.filter(pk__in=[t.pk for t in due]).update(overdue=True, overdue_since=today)
    officers: dict[str, list[User]] = {}
    for u in User.objects.filter(
        region_id__in={t.unit.township_id for t in due}, role=Role.TOWNSHIP_OFFICER, is_active=True
    ):
        officers.setdefault(u.region_id, []).append(u)
    subject = _("【三零创建】整改任务已逾期")
    for t in due:
        msg = _("整改任务已逾期：%(u)s —— %(t)s，期限 %(d)s，包案领导 %(l)s。") % {
            "u": t.unit.name,
            "t": t.title,
            "d": t.deadline.isoformat(),
            "l": t.leader,
        }
        opener = [t.opened_by] if t.opened_by and access.can_see_region(t.opened_by, t.unit.township_id) else []
        notify(
            [*officers.get(t.unit.township_id, []), *opener],
            key=f"task:{t.pk}:overdue",
            message=msg,
            link=_task_link(t),
            email_subject=subject,
        )
    audit(actor=None, action="rectification.overdue", detail={"tasks": [t.pk for t in due], "date": str(today)})
    return len(due)

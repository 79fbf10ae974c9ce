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
from inspections.evidence import store as store_upload
from sanling.kernel.errors import ServiceError
from units import access
from units.audit import audit
from units.models import Department, Level, Region, Role, Unit, User

from .. import selectors
from ..models import Milestone, Rectification, SpecialAction, SpotCheck, TaskEvidence, TaskSource
from ..workflow import TASK
from ._common import may
from .notifications import notify, township_officers


def _lock_task(task: Rectification, by: User) -> Rectification:
    """The task, row-locked, if `by` may see it (the same 404 as a missing one otherwise)."""
    return selectors.task_for(by, task.pk, for_update=True)


def _save_task(t: Rectification, by: User, *fields: str) -> None:
    t.lock_version += 1
    t._history_user = by
    t.save(update_fields=[*fields, "lock_version"])


def _task_link(t: Rectification) -> str:
    return reverse("supervision:task", args=[t.pk])


def _opening_region(by: User, township: Region) -> Region:
    """The level that verifies the task and may reopen it. A township's own task (hazard
    screening) is verified by its county — a township does not close what it must fix;
    staff verify what they opened; an administrator without a region stands for the
    province."""
    if access.is_township_officer(by):
        return Region.objects.get(pk=township.parent_id)
    if by.region_id:
        return by.region
    return Region.objects.get(pk=township.code[:2] + "0" * 10)


def _department_errors(township: Region, lead, cooperating) -> dict:
    """A task's departments must be of the task's region — the township's county, city or
    province — active, and the lead not among the cooperating ones."""
    errors: dict[str, list[str]] = {}

    def outside(d) -> bool:
        return not township.code.startswith(d.region.prefix) or d.region.level == Level.TOWNSHIP

    if lead is None:
        errors["lead_department"] = [_("请选择牵头部门。")]
    elif outside(lead):
        errors["lead_department"] = [
            _("牵头部门“%(d)s”属于%(r)s，不在任务所在区域（%(t)s）之内。")
            % {"d": lead.name, "r": lead.region.name, "t": township.name}
        ]
    elif not lead.active:
        errors["lead_department"] = [_("牵头部门“%(d)s”已停用。") % {"d": lead.name}]
    coop_errors = []
    for d in cooperating:
        if lead is not None and d.pk == lead.pk:
            coop_errors.append(_("配合部门不能与牵头部门相同（%(d)s）。") % {"d": d.name})
        elif outside(d):
            coop_errors.append(
                _("配合部门“%(d)s”属于%(r)s，不在任务所在区域（%(t)s）之内。")
                % {"d": d.name, "r": d.region.name, "t": township.name}
            )
        elif not d.active:
            coop_errors.append(_("配合部门“%(d)s”已停用。") % {"d": d.name})
    if coop_errors:
        errors["cooperating_departments"] = coop_errors
    return errors


def _milestone_errors(milestones, deadline) -> list[str]:
    out = []
    for title, due in milestones:
        if not (title or "").strip():
            out.append(_("进度节点 %(d)s 缺少内容。") % {"d": due})
        elif due is None:
            out.append(_("进度节点“%(t)s”缺少日期。") % {"t": title})
        elif deadline is not None and due > deadline:
            out.append(
                _("进度节点“%(t)s”的日期 %(d)s 晚于整改期限 %(l)s。")
                % {"t": title.strip(), "d": due.isoformat(), "l": deadline.isoformat()}
            )
    return out


def department_staff(department_ids) -> list[User]:
    return list(User.objects.filter(department_id__in=list(department_ids), is_active=True))


@transaction.atomic
def task_open(
    *,
    title: str,
    leader: str,
    lead_department: Department | None,
    deadline: dt.date,
    by: User,
    unit: Unit | None = None,
    township: Region | None = None,
    description: str = "",
    cooperating_departments=(),
    milestones=(),
    action: SpecialAction | None = None,
    source: str = TaskSource.INSPECTION,
    spot_check: SpotCheck | None = None,
) -> Rectification:
    """A task for one unit, or for a township as a whole (unit=None, township=…), with a
    lead department and cooperating ones, dated milestones and optionally the special
    action it belongs to."""
    may(access.can_open_task(by), _("您的角色不能交办整改任务。"))
    if unit is not None:
        if not access.visible_units(by).filter(pk=unit.pk).exists():
            raise ServiceError({"unit": [_("单位不存在或不在您的管辖范围内。")]})
        township = unit.township
    elif township is None or township.level != Level.TOWNSHIP or not access.can_see_region(by, township):
        raise ServiceError({"unit": [_("请填写责任单位，或整改所在的乡镇/街道（在您的管辖范围内）。")]})
    cooperating = list({d.pk: d for d in cooperating_departments}.values())
    errors = _department_errors(township, lead_department, cooperating)
    for field, value, label in (
        ("title", title, _("整改事项")),
        ("leader", leader, _("包案领导")),
    ):
        if not (value or "").strip():
            errors[field] = [_("请填写%(f)s。") % {"f": label}]
    if deadline is None:
        errors["deadline"] = [_("请填写整改期限。")]
    elif deadline < timezone.localdate():
        errors["deadline"] = [_("整改期限 %(d)s 早于今天，请填写今天或以后的日期。") % {"d": deadline.isoformat()}]
    if m_errors := _milestone_errors(milestones, deadline):
        errors["milestones"] = m_errors
    if action is not None and not township.code.startswith(action.campaign.scope.prefix):
        errors["action"] = [
            _("专项行动“%(a)s”属于%(r)s的活动，不含%(t)s。")
            % {"a": action.name, "r": action.campaign.scope.name, "t": township.name}
        ]
    if source not in TaskSource.values:
        errors["source"] = [_("未知的来源“%(s)s”。") % {"s": source}]
    if source == TaskSource.INSPECTION and not access.can_inspect(by):
        errors["source"] = [_("检查发现的问题由检查单位交办；乡镇/街道请选择“隐患排查”或“其他”。")]
    if spot_check is not None:
        visible = selectors.visible_checks(by).filter(pk=spot_check.pk)
        # one answer for missing, not yours and not an inspector: nothing to probe
        if not visible.exists() or unit is None or spot_check.unit_id != unit.pk:
            errors["spot_check"] = [_("来源检查不存在，或不是该单位的抽查。")]
    if errors:
        raise ServiceError(errors)
    t = Rectification.objects.create(
        unit=unit,
        township=township,
        title=title.strip(),
        description=(description or "").strip(),
        source=source,
        spot_check=spot_check,
        leader=leader.strip(),
        lead_department=lead_department,
        action=action,
        deadline=deadline,
        opened_region=_opening_region(by, township),
        opened_by=by,
    )
    t.cooperating_departments.set(cooperating)
    Milestone.objects.bulk_create([Milestone(task=t, title=m.strip(), due_on=d) for m, d in milestones])
    audit(
        actor=by,
        action="rectification.opened",
        target=t,
        detail={
            "unit": unit.code if unit else "",
            "township": township.code,
            "deadline": str(deadline),
            "lead": lead_department.pk,
            "cooperating": [d.pk for d in cooperating],
            "milestones": [[m.strip(), str(d)] for m, d in milestones],
        },
    )
    notify(
        [*township_officers(township.code), *department_staff([lead_department.pk])],
        key=f"task:{t.pk}:opened",
        message=_("新交办整改任务：%(u)s —— %(t)s，牵头部门 %(l)s，期限 %(d)s。")
        % {"u": t.responsible_name, "t": t.title, "l": lead_department.name, "d": deadline},
        link=_task_link(t),
        email_subject=_("【三零创建】新交办整改任务"),
    )
    return t


@transaction.atomic
def task_milestone_done(*, task: Rectification, milestone: int, by: User, done_on: dt.date | None = None) -> Milestone:
    """Mark one of the task's milestones done (today, or a date not in the future)."""
    t = _lock_task(task, by)
    TASK.require(t, "milestone", by)
    m = t.milestones.filter(pk=milestone).first() if str(milestone).isdigit() else None
    if m is None:
        raise ServiceError({"milestone": [_("该任务没有这个进度节点。")]})
    if m.done_on is not None:
        raise ServiceError({"milestone": [_("进度节点“%(t)s”已于 %(d)s 完成。") % {"t": m.title, "d": m.done_on}]})
    done_on = done_on or timezone.localdate()
    if done_on > timezone.localdate():
        raise ServiceError({"done_on": [_("完成日期不能晚于今天。")]})
    m.done_on, m.done_by = done_on, by
    m._history_user = by
    m.save(update_fields=["done_on", "done_by"])
    _save_task(t, by)
    audit(actor=by, action="rectification.milestone", target=t, detail={"milestone": m.pk, "done_on": str(done_on)})
    return m


def task_for(user: User, pk) -> Rectification:
    return selectors.task_for(user, pk)


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
    ev = store_upload(TaskEvidence, upload, ctype, by, task=t)
    audit(actor=by, action="rectification.evidence", target=t, detail={"file": ev.original_name})
    return ev


def _three_nots_errors(root_cause: str, lasting_measure: str) -> dict:
    """三不放过: no task is closed without the cause analysed and a lasting measure."""
    errors = {}
    if not (root_cause or "").strip():
        errors["root_cause"] = [_("请填写剖析原因（三不放过：原因未查清不放过）。")]
    if not (lasting_measure or "").strip():
        errors["lasting_measure"] = [_("请填写建立的长效机制（三不放过：整改措施未落实不放过）。")]
    return errors


@transaction.atomic
def task_report(
    *, task: Rectification, note: str, by: User, root_cause: str = "", lasting_measure: str = ""
) -> Rectification:
    t = _lock_task(task, by)
    to = TASK.require(t, "report", by)
    errors = _three_nots_errors(root_cause, lasting_measure)
    if not (note or "").strip():
        errors["note"] = [_("请填写整改情况。")]
    if not t.evidence.exists():
        errors["file"] = [_("报告整改完成前须上传整改佐证材料（照片、文件等）。")]
    open_steps = [m.title for m in t.milestones.all() if m.done_on is None]
    if open_steps:
        errors["milestones"] = [_("尚有进度节点未完成：%(m)s。") % {"m": "、".join(open_steps)}]
    if errors:
        raise ServiceError(errors)
    t.status, t.report_note, t.reported_at = to, note.strip(), timezone.now()
    t.root_cause, t.lasting_measure = root_cause.strip(), lasting_measure.strip()
    _save_task(t, by, "status", "report_note", "reported_at", "root_cause", "lasting_measure")
    audit(actor=by, action="rectification.reported", target=t)
    notify(
        [u for u in [t.opened_by] if u and access.can_see_region(u, t.township_id)],
        key=f"task:{t.pk}:reported:{t.lock_version}",
        message=_("整改任务已报告完成，待验收销号：%(u)s —— %(t)s。") % {"u": t.responsible_name, "t": t.title},
        link=_task_link(t),
        email_subject=_("【三零创建】整改任务待验收"),
    )
    return t


@transaction.atomic
def task_verify(*, task: Rectification, by: User) -> Rectification:
    t = _lock_task(task, by)
    to = TASK.require(t, "verify", by)
    if not t.evidence.exists():
        raise ServiceError(_("没有整改佐证材料，不能销号。"))
    if errors := _three_nots_errors(t.root_cause, t.lasting_measure):
        raise ServiceError(errors)
    t.status, t.closed_at, t.closed_by = to, timezone.now(), by
    _save_task(t, by, "status", "closed_at", "closed_by")
    audit(actor=by, action="rectification.closed", target=t)
    notify(
        [*township_officers(t.township_id), *department_staff([t.lead_department_id])],
        key=f"task:{t.pk}:closed:{t.lock_version}",
        message=_("整改任务已验收销号：%(u)s —— %(t)s。") % {"u": t.responsible_name, "t": t.title},
        link=_task_link(t),
        email_subject=_("【三零创建】整改任务已销号"),
    )
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
        [*township_officers(t.township_id), *department_staff([t.lead_department_id])],
        key=f"task:{t.pk}:reopened:{t.lock_version}",
        message=_("整改任务被退回重整：%(u)s —— %(t)s。原因：%(r)s")
        % {"u": t.responsible_name, "t": t.title, "r": t.reopen_reason},
        link=_task_link(t),
        email_subject=_("【三零创建】整改任务被退回重整"),
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
        .select_related("unit", "township", "opened_by")
    )
    if not due:
        return 0
    Rectification.objects.filter(pk__in=[t.pk for t in due]).update(overdue=True, overdue_since=today)
    officers: dict[str, list[User]] = {}
    for u in User.objects.filter(
        region_id__in={t.township_id for t in due}, role=Role.TOWNSHIP_OFFICER, is_active=True
    ):
        officers.setdefault(u.region_id, []).append(u)
    staff: dict[int, list[User]] = {}
    for u in department_staff({t.lead_department_id for t in due}):
        staff.setdefault(u.department_id, []).append(u)
    subject = _("【三零创建】整改任务已逾期")
    for t in due:
        msg = _("整改任务已逾期：%(u)s —— %(t)s，期限 %(d)s，包案领导 %(l)s。") % {
            "u": t.responsible_name,
            "t": t.title,
            "d": t.deadline.isoformat(),
            "l": t.leader,
        }
        opener = [t.opened_by] if t.opened_by and access.can_see_region(t.opened_by, t.township_id) else []
        notify(
            [*officers.get(t.township_id, []), *staff.get(t.lead_department_id, []), *opener],
            key=f"task:{t.pk}:overdue",
            message=msg,
            link=_task_link(t),
            email_subject=subject,
        )
    audit(actor=None, action="rectification.overdue", detail={"tasks": [t.pk for t in due], "date": str(today)})
    return len(due)

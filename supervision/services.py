"""Inspections, spot checks, sampling and rectification tasks: the rules, for the web
pages and the API alike. Atomic, keyword-only, audited; refusals are ServiceError (a
message for the user, nothing stored) or PermissionDenied (the role may not act)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import secrets
import sys
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspections import scoring
from inspections import services as assessment_services
from inspections.evidence import EvidenceError
from inspections.evidence import check as sniff_upload
from inspections.models import Assessment, Status
from inspections.services import ServiceError
from standards.models import Campaign
from units import access
from units.audit import audit
from units.models import Region, Role, Unit, User

from .models import (
    CheckStatus,
    Inspection,
    InspectionKind,
    InspectionMode,
    InspectorScore,
    Notification,
    Rectification,
    SpotCheck,
    TaskEvidence,
    TaskSource,
    TaskStatus,
)

MAX_SAMPLE = 2000


def _may(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _in_jurisdiction(user: User, region: Region) -> None:
    if not access.can_see_region(user, region):
        raise ServiceError({"region": [_("“%(r)s”不在您的管辖范围内。") % {"r": region.name}]})


# --- sampling ----------------------------------------------------------------------


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
    _may(access.can_inspect(by), _("只有县级及以上政法委工作人员可以安排检查。"))
    _in_jurisdiction(by, region)
    errors = {}
    if year not in campaign.years:
        errors["year"] = [
            _("%(name)s 的年度为 %(a)s–%(b)s，不含 %(y)s 年。")
            % {"name": campaign.name, "a": campaign.start_year, "b": campaign.end_year, "y": year}
        ]
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
    """Redraw a sample from its seed. Reproducible as long as the pool is unchanged
    (the fingerprint tells); the answer says which."""
    pool = sample_pool(inspection.region, inspection.campaign, inspection.year)
    drawn = sorted(inspection.checks.values_list("unit__code", flat=True))
    if pool_digest(pool) != inspection.pool_digest:
        return False, _("抽样总体已变化（当时 %(a)s 个，现在 %(b)s 个审核通过的单位），无法按原总体复核。") % {
            "a": inspection.pool_size,
            "b": len(pool),
        }
    if draw(pool, inspection.sample_size, inspection.sample_seed) == drawn:
        return True, _("按种子 %(s)s 重新抽取，结果与记录一致（%(k)s 个单位）。") % {
            "s": inspection.sample_seed,
            "k": len(drawn),
        }
    return False, _("按种子重新抽取的结果与记录不一致。")


@transaction.atomic
def inspection_update(*, inspection: Inspection, findings: str, by: User) -> Inspection:
    _may(access.can_act_on_inspection(by, inspection), _("检查发现由安排检查的单位填写。"))
    ins = Inspection.objects.select_for_update().get(pk=inspection.pk)
    ins.findings = (findings or "").strip()
    ins._history_user = by
    ins.save(update_fields=["findings"])
    return ins


# --- spot checks ------------------------------------------------------------------


def _parse_scores(items, raw: dict) -> dict:
    """raw: item code -> score. Every applicable item must be scored."""
    by_code = {i.code: i for i in items}
    errors, parsed = [], {}
    unknown = sorted(set(raw) - set(by_code))
    if unknown:
        errors.append(_("这些条目不适用于该单位：%(c)s") % {"c": "、".join(unknown)})
    for code, item in by_code.items():
        try:
            value = assessment_services._parse_score(raw.get(code), item)
        except ServiceError as exc:
            errors.extend(exc.messages)
            continue
        if value is None:
            errors.append(_("%(code)s：请填写检查分。") % {"code": code})
        parsed[item.id] = value
    if errors:
        raise ServiceError({"scores": errors})
    return parsed


@transaction.atomic
def spot_check_record(*, check: SpotCheck, scores: dict, outcome: str, reason: str, by: User) -> SpotCheck:
    """The inspector's scores for the same items, and the conclusion: confirm the approved
    assessment, or overturn it (with reasons), which revokes the unit's attainment."""
    _may(access.can_inspect(by), _("只有检查人员可以录入抽查结果。"))
    # Callers look the check up through the jurisdiction already; this holds without them.
    c = access.object_for(
        by,
        SpotCheck.objects.select_for_update(of=("self",)).select_related(
            "unit", "inspection__campaign", "inspection__created_by"
        ),
        check.pk,
    )
    _may(access.can_act_on_inspection(by, c.inspection), _("该检查由上级安排，抽查结论由安排检查的单位录入。"))
    if c.status != CheckStatus.PENDING:
        raise ServiceError(_("该单位的抽查结论已录入（%(s)s），不能重复录入。") % {"s": c.get_status_display()})
    if outcome not in (CheckStatus.CONFIRMED, CheckStatus.OVERTURNED):
        raise ServiceError({"outcome": [_("结论只能是“抽查确认”或“抽查否定”。")]})
    reason = (reason or "").strip()
    if outcome == CheckStatus.OVERTURNED and not reason:
        raise ServiceError({"reason": [_("抽查否定时必须填写原因。")]})
    a = (
        Assessment.objects.select_for_update()
        .filter(unit=c.unit, campaign=c.inspection.campaign, year=c.inspection.year)
        .first()
    )
    if a is None or a.status != Status.APPROVED:
        raise ServiceError(
            _("“%(u)s”%(y)s 年的自评不是“已审核通过”状态，没有可确认或否定的结果。")
            % {"u": c.unit.name, "y": c.inspection.year}
        )
    items = list(scoring.applicable_items(a.standard, c.unit.category))
    parsed = _parse_scores(items, {str(k): v for k, v in (scores or {}).items()})
    own = {s.item_id: s.self_score for s in a.scores.all()}
    InspectorScore.objects.bulk_create([InspectorScore(spot_check=c, item_id=i, score=v) for i, v in parsed.items()])
    c.assessment = a
    c.self_final = scoring.compute(items, own).final
    c.reviewer_final = a.final_score
    c.inspector_final = scoring.compute(items, parsed).final
    c.status, c.reason, c.checked_by, c.checked_at = outcome, reason, by, timezone.now()
    c._history_user = by
    c.save()
    if outcome == CheckStatus.OVERTURNED:
        assessment_services.assessment_overturn(assessment=a, reason=reason, by=by)
    audit(
        actor=by,
        action=f"spot_check.{outcome}",
        target=c,
        detail={
            "unit": c.unit.code,
            "self": str(c.self_final),
            "reviewer": str(c.reviewer_final),
            "inspector": str(c.inspector_final),
        },
    )
    return c


# --- notifications ----------------------------------------------------------------


def notify(users, *, key: str, message: str, link: str = "", email_subject: str = "") -> int:
    """In-portal notifications (one per user and event, however often called) and, with a
    subject, e-mail through Django's mail settings after commit. Returns how many were new."""
    users = [u for u in {u.pk: u for u in users if u is not None and u.is_active}.values()]
    existing = set(Notification.objects.filter(key=key, user__in=users).values_list("user_id", flat=True))
    fresh = [u for u in users if u.pk not in existing]
    Notification.objects.bulk_create(
        [Notification(user=u, key=key, message=message[:300], link=link) for u in fresh], ignore_conflicts=True
    )
    mails = [(email_subject, message, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in fresh if u.email]
    if email_subject and mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return len(fresh)


def township_officers(township_code: str):
    return User.objects.filter(region_id=township_code, role=Role.TOWNSHIP_OFFICER, is_active=True)


def notifications_mark_read(*, user: User, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- rectification tasks -----------------------------------------------------------

# (from, action) -> to
TASK_TRANSITIONS = {
    (TaskStatus.OPEN, "start"): TaskStatus.IN_PROGRESS,
    (TaskStatus.OPEN, "report"): TaskStatus.REPORTED,
    (TaskStatus.IN_PROGRESS, "report"): TaskStatus.REPORTED,
    (TaskStatus.REPORTED, "verify"): TaskStatus.CLOSED,
    (TaskStatus.REPORTED, "reopen"): TaskStatus.OPEN,
    (TaskStatus.CLOSED, "reopen"): TaskStatus.OPEN,
}
TASK_ACTIONS = {
    "start": gettext_lazy("开始整改"),
    "report": gettext_lazy("报告完成"),
    "verify": gettext_lazy("验收销号"),
    "reopen": gettext_lazy("退回重整"),
}


def _task_transition(task: Rectification, action: str) -> str:
    to = TASK_TRANSITIONS.get((task.status, action))
    if to is None:
        raise ServiceError(
            _("整改任务当前为“%(s)s”，不能“%(a)s”。") % {"s": TaskStatus(task.status).label, "a": TASK_ACTIONS[action]}
        )
    return to


def _lock_task(task: Rectification, by: User) -> Rectification:
    """The task, row-locked, if `by` may see it (the same 404 as a missing one otherwise)."""
    return access.object_for(
        by,
        Rectification.objects.select_for_update(of=("self",)).select_related("unit__township", "opened_region"),
        task.pk,
    )


def _save_task(t: Rectification, by: User, *fields: str) -> None:
    t.lock_version += 1
    t._history_user = by
    t.save(update_fields=[*fields, "lock_version"])


def _task_link(t: Rectification) -> str:
    return reverse("supervision:task", args=[t.pk])


def _opening_region(by: User, unit: Unit) -> Region:
    if by.region_id:
        return by.region
    return Region.objects.get(pk=unit.township_id[:2] + "0" * 10)  # an administrator: the province


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
    _may(access.can_open_task(by), _("您的角色不能交办整改任务。"))
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
        visible = access.scope(
            by,
            SpotCheck.objects.filter(
                pk=spot_check.pk, inspection__in=access.visible_inspections(by, Inspection.objects.all())
            ),
        )
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
    _may(access.can_work_task(by), _("只有责任乡镇/街道可以开始整改。"))
    t = _lock_task(task, by)
    t.status = _task_transition(t, "start")
    _save_task(t, by, "status")
    audit(actor=by, action="rectification.started", target=t)
    return t


@transaction.atomic
def task_add_evidence(*, task: Rectification, upload, by: User) -> TaskEvidence:
    _may(access.can_work_task(by), _("只有责任乡镇/街道可以上传整改佐证。"))
    t = _lock_task(task, by)
    if t.status in (TaskStatus.REPORTED, TaskStatus.CLOSED):
        raise ServiceError(_("“%(s)s”的任务不能再上传佐证。") % {"s": TaskStatus(t.status).label})
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
    _may(access.can_work_task(by), _("只有责任乡镇/街道可以报告整改完成。"))
    t = _lock_task(task, by)
    to = _task_transition(t, "report")
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


def _may_verify(t: Rectification, by: User) -> None:
    _may(
        access.can_verify_task(by, t), _("只有交办单位（%(r)s）可以验收销号或退回重整。") % {"r": t.opened_region.name}
    )


@transaction.atomic
def task_verify(*, task: Rectification, by: User) -> Rectification:
    t = _lock_task(task, by)
    _may_verify(t, by)
    to = _task_transition(t, "verify")
    if not t.evidence.exists():
        raise ServiceError(_("没有整改佐证材料，不能销号。"))
    t.status, t.closed_at, t.closed_by = to, timezone.now(), by
    _save_task(t, by, "status", "closed_at", "closed_by")
    audit(actor=by, action="rectification.closed", target=t)
    return t


@transaction.atomic
def task_reopen(*, task: Rectification, reason: str, by: User) -> Rectification:
    t = _lock_task(task, by)
    _may_verify(t, by)
    to = _task_transition(t, "reopen")
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
        .filter(~Q(status=TaskStatus.CLOSED), overdue=False, deadline__lt=today)
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

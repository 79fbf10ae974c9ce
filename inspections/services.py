"""The self-assessment workflow: atomic, keyword-only, audited writes.

States: draft → submitted → approved, or → returned (with a reason) → submitted …;
approved → overturned by a spot check. Field changes are kept by simple-history; state
changes also write an AuditEvent. Saves carry the lock_version they were edited from,
so a second editor's stale save is refused instead of overwriting the first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from standards.models import Campaign
from units import access
from units.audit import audit
from units.models import Unit, User

from . import evidence as evidence_check
from . import scoring
from .models import Assessment, Evidence, ItemScore, Status


class ServiceError(ValidationError):
    """A refused action, with a message for the user in their language."""


# (from, action) -> to. The whole state machine.
TRANSITIONS = {
    (Status.DRAFT, "submit"): Status.SUBMITTED,
    (Status.RETURNED, "submit"): Status.SUBMITTED,
    (Status.SUBMITTED, "approve"): Status.APPROVED,
    (Status.SUBMITTED, "return"): Status.RETURNED,
    (Status.APPROVED, "overturn"): Status.OVERTURNED,
    (Status.APPROVED, "return"): Status.RETURNED,
}
ACTION_LABELS = {
    "submit": gettext_lazy("提交"),
    "approve": gettext_lazy("审核通过"),
    "return": gettext_lazy("退回"),
    "overturn": gettext_lazy("抽查否定"),
}


def _transition(assessment: Assessment, action: str) -> Status:
    to = TRANSITIONS.get((assessment.status, action))
    if to is None:
        raise ServiceError(
            _("当前状态为“%(state)s”，不能执行“%(action)s”。")
            % {"state": Status(assessment.status).label, "action": ACTION_LABELS[action]}
        )
    return to


def _may(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _lock(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().select_related("unit", "standard", "campaign").get(pk=assessment.pk)


def _save(a: Assessment, by: User, *fields: str) -> None:
    """Save changed fields as a new version of the assessment, recording who changed it."""
    a.lock_version += 1
    a._history_user = by
    a.save(update_fields=[*fields, "lock_version", "updated_at"])


def _schedule_rollup(assessment: Assessment) -> None:
    from reports.tasks import schedule_unit_rollup

    unit_id, campaign_id, year = assessment.unit_id, assessment.campaign_id, assessment.year
    transaction.on_commit(lambda: schedule_unit_rollup(unit_id, campaign_id, year))


@transaction.atomic
def assessment_start(*, unit: Unit, campaign: Campaign, year: int, by: User) -> Assessment:
    _may(access.can_self_assess(by), _("只有乡镇/街道工作人员可以填报自评。"))
    if year not in campaign.years:
        raise ServiceError(
            _("%(name)s 的年度为 %(a)s–%(b)s，不含 %(y)s 年。")
            % {"name": campaign.name, "a": campaign.start_year, "b": campaign.end_year, "y": year}
        )
    if not unit.township_id.startswith(campaign.scope.prefix) or unit.category not in campaign.categories:
        raise ServiceError(
            _("单位“%(unit)s”不在“%(campaign)s”的创建范围内。") % {"unit": unit.name, "campaign": campaign.name}
        )
    if not unit.active:
        raise ServiceError(_("单位“%(unit)s”已归档，不能开展自评。") % {"unit": unit.name})
    existing = Assessment.objects.filter(unit=unit, campaign=campaign, year=year).first()
    if existing:
        return existing
    a = Assessment.objects.create(unit=unit, campaign=campaign, year=year, standard=campaign.standard, created_by=by)
    ItemScore.objects.bulk_create(
        [ItemScore(assessment=a, item=i) for i in scoring.applicable_items(campaign.standard, unit.category)]
    )
    scoring.rescore(a)
    audit(actor=by, action="assessment.started", target=a)
    return a


def _parse_score(raw, item) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(_("%(code)s：“%(raw)s”不是数字。") % {"code": item.code, "raw": raw}) from None
    if not value.is_finite():
        raise ServiceError(_("%(code)s：“%(raw)s”不是数字。") % {"code": item.code, "raw": raw})
    if value < 0:
        raise ServiceError(_("%(code)s：得分不能小于 0。") % {"code": item.code})
    if value > item.max_score:
        raise ServiceError(
            _("%(code)s：得分 %(v)s 超过该项满分 %(max)s。")
            % {"code": item.code, "v": value, "max": f"{item.max_score.normalize():f}"}
        )
    if value.as_tuple().exponent < -1:
        raise ServiceError(_("%(code)s：得分最多保留一位小数。") % {"code": item.code})
    return value


@transaction.atomic
def assessment_save_scores(
    *, assessment: Assessment, scores: dict, lock_version: int, by: User, reviewer: bool = False
) -> Assessment:
    """scores: {item_id: (score, note)}. All valid or nothing saved. `reviewer=True` writes
    the reviewer's adjusted scores beside the self-scores (while submitted)."""
    if reviewer:
        _may(access.can_review(by), _("只有县级审核人员可以调整审核分。"))
    else:
        _may(access.can_self_assess(by), _("只有乡镇/街道工作人员可以填报自评。"))
    a = _lock(assessment)
    if int(lock_version) != a.lock_version:
        raise ServiceError(
            _("该自评已被他人修改（%(when)s），您的修改未保存。请刷新页面后重新填写。")
            % {"when": timezone.localtime(a.updated_at).strftime("%H:%M:%S")}
        )
    if reviewer:
        if a.status != Status.SUBMITTED:
            raise ServiceError(_("只能在审核时调整得分。"))
    elif not a.editable:
        raise ServiceError(
            _("“%(state)s”状态的自评不能修改；已审核通过的自评只有退回后才能修改。") % {"state": Status(a.status).label}
        )
    rows = {s.item_id: s for s in a.scores.select_related("item")}
    unknown = set(map(int, scores)) - set(rows)
    if unknown:
        raise ServiceError(_("提交了不属于本自评的条目。"))
    errors, parsed = [], {}
    for item_id, (raw, note) in scores.items():
        row = rows[int(item_id)]
        try:
            parsed[row.item_id] = (_parse_score(raw, row.item), (note or "").strip())
        except ServiceError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ServiceError(errors)
    for item_id, (value, note) in parsed.items():
        row = rows[item_id]
        if reviewer:
            changed = row.reviewer_score != value or row.reviewer_note != note
            row.reviewer_score, row.reviewer_note = value, note
            fields = ["reviewer_score", "reviewer_note"]
        else:
            changed = row.self_score != value or row.note != note
            row.self_score, row.note = value, note
            fields = ["self_score", "note"]
        if changed:
            row._history_user = by
            row.save(update_fields=fields)
    _save(a, by)
    scoring.rescore(a)
    return a


@transaction.atomic
def assessment_submit(*, assessment: Assessment, by: User) -> Assessment:
    _may(access.can_self_assess(by), _("只有乡镇/街道工作人员可以提交自评。"))
    a = _lock(assessment)
    to = _transition(a, "submit")
    result = scoring.rescore(a)
    if result.missing_codes:
        raise ServiceError(_("以下条目尚未评分，不能提交：%(codes)s") % {"codes": "、".join(result.missing_codes)})
    a.status, a.submitted_at = to, timezone.now()
    _save(a, by, "status", "submitted_at")
    audit(actor=by, action="assessment.submitted", target=a, detail={"final_score": str(a.final_score)})
    return a


@transaction.atomic
def assessment_approve(*, assessment: Assessment, by: User) -> Assessment:
    _may(access.can_review(by), _("只有县级审核人员可以审核。"))
    a = _lock(assessment)
    to = _transition(a, "approve")
    result = scoring.rescore(a)
    a.status, a.approved_at, a.reviewed_by, a.return_reason = to, timezone.now(), by, ""
    _save(a, by, "status", "approved_at", "reviewed_by", "return_reason")
    audit(
        actor=by,
        action="assessment.approved",
        target=a,
        detail={"final_score": str(result.final), "veto_failed": result.veto_failed},
    )
    _schedule_rollup(a)
    return a


@transaction.atomic
def assessment_return(*, assessment: Assessment, reason: str, by: User) -> Assessment:
    _may(access.can_review(by), _("只有县级审核人员可以退回。"))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("退回时必须填写原因。"))
    a = _lock(assessment)
    was_approved = a.status == Status.APPROVED
    to = _transition(a, "return")
    a.status, a.return_reason, a.reviewed_by, a.approved_at = to, reason, by, None
    _save(a, by, "status", "return_reason", "reviewed_by", "approved_at")
    audit(actor=by, action="assessment.returned", target=a, detail={"reason": reason})
    if was_approved:
        _schedule_rollup(a)  # the unit loses its attainment
    return a


@transaction.atomic
def assessment_overturn(*, assessment: Assessment, reason: str, by: User) -> Assessment:
    _may(access.can_inspect(by), _("只有检查人员可以抽查否定。"))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("抽查否定时必须填写原因。"))
    a = _lock(assessment)
    a.status, a.overturn_reason = _transition(a, "overturn"), reason
    _save(a, by, "status", "overturn_reason")
    audit(actor=by, action="assessment.overturned", target=a, detail={"reason": reason})
    _schedule_rollup(a)
    return a


def check_evidence(upload) -> str:
    try:
        return evidence_check.check(upload)
    except evidence_check.EvidenceError as exc:
        raise ServiceError(str(exc)) from exc


@transaction.atomic
def evidence_add(*, assessment: Assessment, item_id: int, upload, by: User) -> Evidence:
    _may(access.can_self_assess(by), _("只有乡镇/街道工作人员可以上传佐证材料。"))
    a = _lock(assessment)
    if not a.editable:
        raise ServiceError(_("“%(state)s”状态的自评不能再上传佐证材料。") % {"state": Status(a.status).label})
    score = a.scores.filter(item_id=item_id).first()
    if score is None:
        raise ServiceError(_("该条目不属于本自评。"))
    ctype = check_evidence(upload)
    ev = Evidence(score=score, original_name=upload.name[:200], content_type=ctype, size=upload.size, uploaded_by=by)
    ev.file.save(upload.name, upload, save=False)
    ev.save()
    audit(actor=by, action="evidence.uploaded", target=a, detail={"item": score.item.code, "file": ev.original_name})
    return ev


def for_user(user: User, pk) -> Assessment:
    """An assessment the user may see (same 404 for missing and not-yours)."""
    return access.object_for(user, Assessment.objects.select_related("unit__township", "campaign", "standard"), pk)

"""The self-assessment workflow: atomic, keyword-only, audited writes.

The states and who may move them are inspections.workflow.ASSESSMENT. Every service
looks the assessment up through the acting user's jurisdiction (units.access), row-locked,
so a caller outside it gets the same 404 as for a missing one, whichever view called.
Field changes are kept by simple-history; state changes also write an AuditEvent; a
decision that can change attainment is announced with inspections.events after commit.
Saves carry the lock_version they were edited from, so a second editor's stale save is
refused instead of overwriting the first.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit
from standards.models import Campaign
from units import access, history
from units.audit import audit
from units.models import Unit, User

from . import carry, scoring
from . import evidence as evidence_check
from .events import assessment_decided
from .models import Assessment, Decision, Evidence, ItemScore, LevelScore, ReviewDecision, Status
from .workflow import ASSESSMENT

__all__ = ["ServiceError"]


def _lock(assessment: Assessment | int, by: User) -> Assessment:
    """The assessment, row-locked, if `by` may see it (the same 404 as a missing one)."""
    pk = assessment.pk if isinstance(assessment, Assessment) else assessment
    qs = Assessment.objects.select_related("unit", "standard", "campaign", "derived_from__campaign")
    a = access.object_for(by, qs, pk, for_update=True)
    if a.derived_from_id:
        raise ServiceError(
            _("此评估由“%(c)s”的评估按对应关系转换而来，不能在此修改；请在“%(c)s”中办理。")
            % {"c": a.derived_from.campaign.name}
        )
    return a


def _save(a: Assessment, by: User, *fields: str) -> None:
    """Save changed fields as a new version of the assessment, recording who changed it."""
    a.lock_version += 1
    a._history_user = by
    a.save(update_fields=[*fields, "lock_version", "updated_at"])


def _follow(a: Assessment, action: str) -> None:
    """One assessment, two campaigns: the wider campaign's derived assessment follows
    (inspections.carry), and is announced like the local one, with the same action."""
    if a.campaign.implements_id:
        derived = carry.sync(a, getattr(a, "_history_user", None))
        if derived is not None:
            _decided(derived, action)


def _decided(a: Assessment, action: str) -> None:
    _follow(a, action)
    send_after_commit(
        assessment_decided,
        sender=Assessment,
        assessment_id=a.pk,
        unit_id=a.unit_id,
        campaign_id=a.campaign_id,
        year=a.year,
        action=action,
    )


def _check_version(a: Assessment, lock_version) -> None:
    try:
        version = int(lock_version)
    except (TypeError, ValueError):
        version = None
    if version != a.lock_version:
        raise ServiceError(
            _("该自评已被他人修改（%(when)s），您的修改未保存。请刷新页面后重新填写。")
            % {"when": timezone.localtime(a.updated_at).strftime("%H:%M:%S")}
        )


def reseat(sender, *, campaign_id: int, **kwargs) -> None:
    """After a campaign's review chain was edited: assessments waiting at a level it no
    longer has wait at the level that now decides for them (Campaign.seat), so that they
    stay in a queue."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return
    waiting = Assessment.objects.filter(campaign=campaign, status=Status.SUBMITTED).exclude(
        review_level__in=campaign.review_levels
    )
    for level in set(waiting.values_list("review_level", flat=True)):
        waiting.filter(review_level=level).update(review_level=campaign.seat(level))


@transaction.atomic
def assessment_start(*, unit: Unit, campaign: Campaign, year: int, by: User) -> Assessment:
    if not access.can_self_assess(by):
        raise PermissionDenied(_("只有乡镇/街道工作人员可以填报自评。"))
    unit = access.unit_for(by, unit.pk)
    if not campaign.covers_year(year):
        raise ServiceError(campaign.year_refusal(year))
    if not unit.active:
        raise ServiceError(_("单位“%(unit)s”已归档，不能开展自评。") % {"unit": unit.name})
    # in scope as the unit stood at the year's end (units.history): a unit registered
    # later, or elsewhere then, is not that year's to assess
    then = history.units_as_of(history.year_end(year), Unit.objects.filter(pk=unit.pk))
    if not then.filter(campaign.unit_q(as_of=True)).exists():
        if not then.exists():
            raise ServiceError(
                _("单位“%(unit)s”自 %(d)s 起登记，%(y)s 年尚不在创建范围内。")
                % {"unit": unit.name, "d": unit.state_since, "y": year}
            )
        raise ServiceError(
            _("单位“%(unit)s”不在“%(campaign)s”的创建范围内。") % {"unit": unit.name, "campaign": campaign.name}
        )
    existing = Assessment.objects.filter(unit=unit, campaign=campaign, year=year).select_related("derived_from").first()
    if existing and not existing.derived_from_id:
        return existing
    for local in campaign.implementations.filter(active=True):
        if local.covers_year(year) and then.filter(local.unit_q(as_of=True)).exists():
            raise ServiceError(
                _("“%(u)s”参加“%(l)s”：其审核通过的评估按对应关系计入“%(c)s”，无需重复自评。")
                % {"u": unit.name, "l": local.name, "c": campaign.name}
            )
    if existing:  # carried over from a local campaign that no longer runs that year
        raise ServiceError(
            _("此评估由“%(c)s”的评估按对应关系转换而来，不能在此修改；请在“%(c)s”中办理。")
            % {"c": existing.derived_from.campaign.name}
        )
    a = Assessment.objects.create(unit=unit, campaign=campaign, year=year, standard=campaign.standard, created_by=by)
    ItemScore.objects.bulk_create(
        [ItemScore(assessment=a, item=i) for i in scoring.applicable_items(campaign.standard, unit.category)]
    )
    scoring.rescore(a)
    audit(actor=by, action="assessment.started", target=a)
    return a


@transaction.atomic
def assessment_save_scores(
    *, assessment: Assessment | int, scores: dict, lock_version, by: User, reviewer: bool = False
) -> Assessment:
    """scores: {item_id: (score, note)} or {item_id: (score, note, (numerator, denominator))}
    — for a measured item the figures, from which the self-score is computed (a score typed
    for it is ignored). All valid or nothing saved. `reviewer=True` writes the reviewer's
    adjusted scores beside the self-scores (while submitted)."""
    a = _lock(assessment, by)
    action = "adjust" if reviewer else "edit"
    ASSESSMENT.require_role(a, action, by)
    _check_version(a, lock_version)  # a stale edit is told so, whatever happened meanwhile
    ASSESSMENT.require(a, action, by)
    rows = {s.item_id: s for s in a.scores.select_related("item").prefetch_related("level_scores")}
    try:
        asked = {int(k): v for k, v in scores.items()}
    except (TypeError, ValueError):
        raise ServiceError(_("提交了不属于本自评的条目。")) from None
    if set(asked) - set(rows):
        raise ServiceError(_("提交了不属于本自评的条目。"))
    errors, parsed, figures = [], {}, {}
    for item_id, entry in asked.items():
        raw, note, *rest = entry
        row = rows[item_id]
        try:
            if row.item.measured and not reviewer:
                sent = rest[0] if rest else None
                if sent is None:  # figures not sent (a note only): the stored ones stand
                    if raw not in (None, "") and str(raw).strip() != str(row.self_score or ""):
                        raise ServiceError(
                            _("%(code)s：该项按%(n)s和%(d)s计算得分，请填写这两个数字，不能直接填分。")
                            % {
                                "code": row.item.code,
                                "n": row.item.indicator_numerator,
                                "d": row.item.indicator_denominator,
                            }
                        )
                    parsed[item_id] = (row.self_score, (note or "").strip())
                    continue
                num, den = scoring.parse_figures(*sent, row.item)
                figures[item_id] = (num, den)
                value = None if num is None else scoring.measure(row.item, num, den)[1]
                parsed[item_id] = (value, (note or "").strip())
            else:
                parsed[item_id] = (scoring.parse_score(raw, row.item), (note or "").strip())
        except ServiceError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ServiceError(errors)
    if reviewer:
        _adjust(a, rows, parsed, by)
    else:
        changed = []
        for item_id, (value, note) in parsed.items():
            row = rows[item_id]
            num, den = figures.get(item_id, (row.numerator, row.denominator))
            if row.self_score != value or row.note != note or (row.numerator, row.denominator) != (num, den):
                row.self_score, row.note, row.numerator, row.denominator = value, note, num, den
                changed.append(row)
        # the changed rows in one statement, and their history rows in one more (a save per
        # row cost two statements and a history manager built per row: ~0.5 ms each)
        bulk_update_with_history(
            changed, ItemScore, ["self_score", "note", "numerator", "denominator"], default_user=by
        )
    _save(a, by)
    scoring.rescore(a)
    return a


def _received(row: ItemScore, level: str, chain: list[str]) -> Decimal | None:
    """The score an item reaches `level` with: the adjustment of the nearest level below
    that made one, else the self-score."""
    below = chain[: chain.index(level)]
    adjusted = {ls.level: ls.value for ls in row.level_scores.all() if ls.level in below}
    for lower in reversed(below):
        if lower in adjusted:
            return adjusted[lower]
    return row.self_score


def _counting(row: ItemScore, chain: list[str]) -> tuple[Decimal | None, str]:
    """The adjustment that counts: the highest level's that made one."""
    by_level = {ls.level: ls for ls in row.level_scores.all()}
    for level in reversed(chain):
        if level in by_level:
            return by_level[level].value, by_level[level].reason
    return None, ""


def _adjust(a: Assessment, rows: dict, parsed: dict, by: User) -> None:
    """The deciding level's scores: a value other than the one the item reached this level
    with is an adjustment and needs its reason; a blank or the same value is none (an
    earlier adjustment of this level is withdrawn). All or nothing."""
    level, chain = a.deciding_level, a.campaign.review_levels
    errors, changes = [], []
    for item_id, (value, note) in parsed.items():
        row = rows[item_id]
        received = _received(row, level, chain)
        if value is None or value == received:
            changes.append((row, None, ""))
        elif not note:
            errors.append(
                _("%(code)s：把 %(a)s 分调整为 %(b)s 分须填写理由。")
                % {"code": row.item.code, "a": "—" if received is None else received, "b": value}
            )
        else:
            changes.append((row, value, note))
    if errors:
        raise ServiceError(errors)
    for row, value, note in changes:
        mine = next((ls for ls in row.level_scores.all() if ls.level == level), None)
        if value is None:
            if mine is not None:
                mine._history_user = by
                mine.delete()
        elif mine is None:
            LevelScore.objects.create(score=row, level=level, value=value, reason=note, by=by)
        elif (mine.value, mine.reason) != (value, note):
            mine.value, mine.reason, mine.by, mine._history_user = value, note, by, by
            mine.save()
        row_counting = _counting(ItemScore.objects.prefetch_related("level_scores").get(pk=row.pk), chain)
        if (row.reviewer_score, row.reviewer_note) != row_counting:
            row.reviewer_score, row.reviewer_note = row_counting
            row._history_user = by
            row.save(update_fields=["reviewer_score", "reviewer_note"])


def _clear_adjustments(a: Assessment, by: User) -> None:
    """A resubmission after a return (or a re-opening) starts the review over from the
    self-assessment: every level's adjustments go (kept in their history and the
    decisions' record)."""
    for ls in LevelScore.objects.filter(score__assessment=a):
        ls._history_user = by
        ls.delete()
    for row in a.scores.exclude(reviewer_score=None):
        row.reviewer_score, row.reviewer_note, row._history_user = None, "", by
        row.save(update_fields=["reviewer_score", "reviewer_note"])


def _record(a: Assessment, level: str, decision: str, by: User, reason: str = "") -> ReviewDecision:
    return ReviewDecision.objects.create(
        assessment=a,
        level=level,
        decision=decision,
        final_score=a.final_score,
        veto_failed=a.veto_failed,
        adjusted=LevelScore.objects.filter(score__assessment=a, level=level).count() if level else 0,
        reason=reason,
        by=by,
    )


@transaction.atomic
def assessment_submit(*, assessment: Assessment | int, by: User) -> Assessment:
    a = _lock(assessment, by)
    to = ASSESSMENT.require(a, "submit", by)
    result = scoring.rescore(a)
    if result.missing_codes:
        raise ServiceError(_("以下条目尚未评分，不能提交：%(codes)s") % {"codes": "、".join(result.missing_codes)})
    if a.status == Status.RETURNED:
        _clear_adjustments(a, by)  # the review starts over from what the township now says
        result = scoring.rescore(a)
    a.status, a.submitted_at = to, timezone.now()
    a.review_level, a.waiting_since = a.campaign.review_levels[0], a.submitted_at
    _save(a, by, "status", "submitted_at", "review_level", "waiting_since")
    audit(actor=by, action="assessment.submitted", target=a, detail={"final_score": str(a.final_score)})
    return a


@transaction.atomic
def assessment_save(
    *, assessment: Assessment | int, scores: dict, lock_version, by: User, uploads=(), submit: bool = False
) -> Assessment:
    """The entry page's use case: scores and notes, evidence files ((item_id, file) pairs)
    and, if asked, the submission — standing or falling together: a refused file or a
    refused submit leaves nothing of it stored."""
    for _item, f in uploads:
        check_evidence(f)  # before any write: a bad file refuses the whole save
    a = assessment_save_scores(assessment=assessment, scores=scores, lock_version=lock_version, by=by)
    for item_id, f in uploads:
        evidence_add(assessment=a, item_id=item_id, upload=f, by=by)
    if submit:
        a = assessment_submit(assessment=a, by=by)
    return a


@transaction.atomic
def assessment_approve(*, assessment: Assessment | int, by: User) -> Assessment:
    """The deciding level approves: below the last level of the campaign's chain that
    passes it up (still submitted, the next level waits); at the last it is approved —
    the approval that counts for attainment."""
    a = _lock(assessment, by)
    to = ASSESSMENT.require(a, "approve", by)
    result = scoring.rescore(a)
    level = a.deciding_level
    above = a.campaign.next_review_level(level)
    detail = {"level": level, "final_score": str(result.final), "veto_failed": result.veto_failed}
    if above is not None:
        _record(a, level, Decision.PASSED, by)
        a.review_level, a.waiting_since = above, timezone.now()
        _save(a, by, "review_level", "waiting_since")
        audit(actor=by, action="assessment.passed", target=a, detail={**detail, "to": above})
        return a
    _record(a, level, Decision.APPROVED, by)
    a.status, a.approved_at, a.reviewed_by, a.return_reason = to, timezone.now(), by, ""
    a.review_level, a.waiting_since = "", None
    _save(a, by, "status", "approved_at", "reviewed_by", "return_reason", "review_level", "waiting_since")
    audit(actor=by, action="assessment.approved", target=a, detail=detail)
    _decided(a, "approved")
    return a


BULK_MOST = 500


@transaction.atomic
def assessment_approve_many(*, ids, by: User, confirmed: bool) -> list[Assessment]:
    """Bulk approval at the user's level, with one confirmation: only assessments whose
    deciding level has adjusted no score (an adjusted one is reviewed on its own page).
    All or nothing: refused whole, naming each one that cannot be approved."""
    if not confirmed:
        raise ServiceError(_("请勾选确认：批量审核通过所选自评。"))
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ServiceError(_("所选自评编号有误。")) from None
    if not ids:
        raise ServiceError(_("请选择要审核通过的自评。"))
    if len(ids) > BULK_MOST:
        raise ServiceError(_("一次最多批量审核 %(n)s 份自评。") % {"n": BULK_MOST})
    errors, done = [], []
    for pk in ids:
        try:
            a = _lock(pk, by)
        except Http404:
            errors.append(_("编号 %(id)s 的自评不存在或不在您的管辖范围内。") % {"id": pk})
            continue
        if LevelScore.objects.filter(score__assessment=a, level=a.deciding_level).exists():
            errors.append(_("“%(u)s”的自评已调整得分，请逐份审核。") % {"u": a.unit.name})
            continue
        try:
            done.append(assessment_approve(assessment=a, by=by))
        except (ServiceError, PermissionDenied) as exc:
            errors.extend(f"{a.unit.name}：{m}" for m in getattr(exc, "messages", [str(exc)]))
    if errors:
        raise ServiceError(errors)
    return done


@transaction.atomic
def assessment_return(*, assessment: Assessment | int, reason: str, by: User) -> Assessment:
    a = _lock(assessment, by)
    ASSESSMENT.require_role(a, "return", by)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("退回时必须填写原因。"))
    to = ASSESSMENT.require(a, "return", by)
    level = a.deciding_level
    _record(a, level, Decision.RETURNED, by, reason)
    # the levels' adjustments stay in sight while the township corrects (with the return
    # reason); they go when it resubmits, and the review starts over
    a.status, a.return_reason, a.reviewed_by, a.approved_at = to, reason, by, None
    a.review_level, a.waiting_since = "", None
    _save(a, by, "status", "return_reason", "reviewed_by", "approved_at", "review_level", "waiting_since")
    audit(actor=by, action="assessment.returned", target=a, detail={"reason": reason, "level": level})
    # announced either way: the township is told (supervision notifies), and an approved
    # one loses its attainment
    _decided(a, "returned")
    return a


@transaction.atomic
def assessment_review(
    *,
    assessment: Assessment | int,
    decision: str,
    by: User,
    adjusted: dict | None = None,
    lock_version=None,
    reason: str = "",
) -> Assessment:
    """The review page's use case: approve (with the reviewer's adjusted scores, saved in
    the same transaction) or return with a reason."""
    if decision == "approve":
        a = assessment
        if adjusted is not None:
            a = assessment_save_scores(assessment=a, scores=adjusted, reviewer=True, by=by, lock_version=lock_version)
        return assessment_approve(assessment=a, by=by)
    if decision == "return":
        return assessment_return(assessment=assessment, reason=reason, by=by)
    raise ServiceError(_("未知的审核结论“%(d)s”。") % {"d": decision})


@transaction.atomic
def assessment_overturn(*, assessment: Assessment | int, reason: str, by: User) -> Assessment:
    a = _lock(assessment, by)
    to = ASSESSMENT.require(a, "overturn", by)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("抽查否定时必须填写原因。"))
    a.status, a.overturn_reason = to, reason
    _save(a, by, "status", "overturn_reason")
    audit(actor=by, action="assessment.overturned", target=a, detail={"reason": reason})
    _decided(a, "overturned")
    return a


@transaction.atomic
def assessment_reopen(*, assessment: Assessment | int, reason: str, by: User) -> Assessment:
    """An upheld appeal (申诉) re-opens the assessment for review: submitted again, from
    the first level of the chain, the self-assessment as the township left it; every
    level decides anew. Called by the campaign's level (reports.results)."""
    a = _lock(assessment, by)
    to = ASSESSMENT.require(a, "reopen", by)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("申诉复核须说明理由。"))
    was_approved = a.status == Status.APPROVED
    _record(a, "", Decision.REOPENED, by, reason)
    _clear_adjustments(a, by)
    a.status, a.approved_at, a.submitted_at = to, None, timezone.now()
    a.review_level, a.waiting_since = a.campaign.review_levels[0], a.submitted_at
    _save(a, by, "status", "approved_at", "submitted_at", "review_level", "waiting_since")
    scoring.rescore(a)
    audit(actor=by, action="assessment.reopened", target=a, detail={"reason": reason})
    if was_approved:
        _decided(a, "reopened")  # no longer approved: the live figures follow
    else:
        _follow(a, "reopened")
    return a


def check_evidence(upload) -> str:
    try:
        return evidence_check.check(upload)
    except evidence_check.EvidenceError as exc:
        raise ServiceError(str(exc)) from exc


@transaction.atomic
def evidence_add(*, assessment: Assessment | int, item_id: int, upload, by: User) -> Evidence:
    a = _lock(assessment, by)
    if not access.can_self_assess(by):
        raise PermissionDenied(_("只有乡镇/街道工作人员可以上传佐证材料。"))
    if "edit" not in ASSESSMENT.actions_from(a.status):
        raise ServiceError(_("“%(state)s”状态的自评不能再上传佐证材料。") % {"state": a.get_status_display()})
    score = a.scores.filter(item_id=item_id).first()
    if score is None:
        raise ServiceError(_("该条目不属于本自评。"))
    ctype = check_evidence(upload)
    ev = evidence_check.store(Evidence, upload, ctype, by, score=score)
    audit(actor=by, action="evidence.uploaded", target=a, detail={"item": score.item.code, "file": ev.original_name})
    return ev


@transaction.atomic
def evidence_remove(*, evidence: Evidence, by: User) -> None:
    """Remove a wrong file while the assessment may still be edited (draft or returned);
    audited with the file's name; the stored file goes after commit."""
    a = _lock(evidence.score.assessment_id, by)
    if not access.can_self_assess(by):
        raise PermissionDenied(_("只有乡镇/街道工作人员可以删除佐证材料。"))
    if "edit" not in ASSESSMENT.actions_from(a.status):
        raise ServiceError(_("“%(state)s”状态的自评不能再删除佐证材料。") % {"state": a.get_status_display()})
    ev = Evidence.objects.select_related("score__item").get(pk=evidence.pk, score__assessment=a)
    name, stored = ev.original_name, ev.file.name
    ev.delete()
    audit(actor=by, action="evidence.removed", target=a, detail={"item": ev.score.item.code, "file": name})
    transaction.on_commit(lambda: Evidence.file.field.storage.delete(stored))


def for_user(user: User, pk) -> Assessment:
    """An assessment the user may see (same 404 for missing and not-yours)."""
    return access.object_for(user, Assessment.objects.select_related("unit__township", "campaign", "standard"), pk)

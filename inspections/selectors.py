from __future__ import annotations

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from standards import selectors as campaign_selectors
from standards.models import Campaign
from units import access
from units.models import AuditEvent, Unit, User

from .models import REVIEW_LEVEL_CHOICES, Assessment, LevelScore, Status

WORKLIST_STATES = ("not_started", "draft", "submitted", "returned", "approved", "overturned")


def worklist_units(*, user: User, campaign: Campaign, year: int, state: str = "", q: str = "", region: str = ""):
    """The user's in-scope units, filtered by this year's assessment state, a name or code
    and a region (any level): a queryset, for a paginated page — never cut silently."""
    units = access.visible_units(user).filter(campaign.unit_q()).select_related("township").order_by("code")
    if region:
        units = units.filter(township__code__startswith=region)
    if q:
        units = units.filter(Q(name__icontains=q) | Q(code__startswith=q))
    of_year = Assessment.objects.filter(campaign=campaign, year=year)
    if state == "not_started":
        units = units.exclude(pk__in=of_year.values("unit_id"))
    elif state in WORKLIST_STATES:
        units = units.filter(pk__in=of_year.filter(status=state).values("unit_id"))
    return units


def worklist(*, units, campaign: Campaign, year: int) -> list[tuple[Unit, Assessment | None]]:
    """A page of units with this year's assessment (one more query; with its campaign,
    which the actions read)."""
    units = list(units)
    of_page = Assessment.objects.filter(campaign=campaign, year=year, unit__in=units).select_related("campaign")
    by_unit = {a.unit_id: a for a in of_page}
    return [(u, by_unit.get(u.id)) for u in units]


def review_queue(*, user: User) -> QuerySet[Assessment]:
    """What waits for the user's level of the review chain inside their jurisdiction
    (every level for an administrator without a region; staff who review at no level see
    everything submitted), the oldest waiting first."""
    qs = access.scope(user, Assessment.objects.filter(status=Status.SUBMITTED))
    level = access.review_level_of(user)
    if level is not None:
        qs = qs.filter(review_level=level)
    return qs.select_related("unit__township", "campaign__scope").order_by(
        F("waiting_since").asc(nulls_last=True), "submitted_at", "id"
    )


def queue_by_township(queue: QuerySet[Assessment]) -> list[dict]:
    """How many wait per township, and since when: the longest waiting first."""
    return list(
        queue.order_by()
        .values("unit__township_id", "unit__township__name")
        .annotate(n=Count("id"), oldest=Min("waiting_since"))
        .order_by(F("oldest").asc(nulls_last=True), "unit__township_id")
    )


def unadjusted(assessments) -> set[int]:
    """The ids among these whose deciding level has adjusted no score (bulk approval)."""
    ids = [a.pk for a in assessments]
    adjusted = set(
        LevelScore.objects.filter(score__assessment_id__in=ids, level=F("score__assessment__review_level"))
        .values_list("score__assessment_id", flat=True)
        .distinct()
    )
    return set(ids) - adjusted


def decisions(assessment: Assessment) -> list:
    """The review chain's record of this assessment, oldest first."""
    labels = dict(REVIEW_LEVEL_CHOICES)
    out = list(assessment.decisions.select_related("by"))
    for d in out:
        d.level_label = labels.get(d.level, "—")
    return out


FIELD_LABELS = {
    "status": _("状态"),
    "return_reason": _("退回原因"),
    "overturn_reason": _("抽查否定原因"),
    "self_score": _("自评分"),
    "reviewer_score": _("审核分"),
    "note": _("说明"),
}
ACTION_LABELS = {
    "assessment.started": _("开始自评"),
    "assessment.passed": _("审核通过，报上级"),
    "assessment.reopened": _("申诉复核"),
    "assessment.submitted": _("提交审核"),
    "assessment.approved": _("审核通过"),
    "assessment.returned": _("退回"),
    "assessment.overturned": _("抽查否定"),
    "evidence.uploaded": _("上传佐证材料"),
}


def _label(value):
    return Status(value).label if value in Status.values else value


def history(assessment: Assessment) -> list[dict]:
    """Every change of a state or score, newest first: who, when, from what to what."""
    out = []
    records = list(assessment.history.select_related("history_user").order_by("history_date"))
    prev = None
    for rec in records:
        if prev is not None:
            for change in rec.diff_against(
                prev, included_fields=["status", "return_reason", "overturn_reason"]
            ).changes:
                out.append(
                    {
                        "at": rec.history_date,
                        "who": rec.history_user,
                        "what": FIELD_LABELS[change.field],
                        "old": _label(change.old),
                        "new": _label(change.new),
                    }
                )
        prev = rec
    for score in assessment.scores.select_related("item"):
        recs = list(score.history.select_related("history_user").order_by("history_date"))
        for before, after in zip(recs, recs[1:], strict=False):
            for change in after.diff_against(before, included_fields=["self_score", "reviewer_score", "note"]).changes:
                out.append(
                    {
                        "at": after.history_date,
                        "who": after.history_user,
                        "what": f"{score.item.code} {FIELD_LABELS[change.field]}",
                        "old": change.old,
                        "new": change.new,
                    }
                )
    for ev in AuditEvent.objects.filter(
        target_type="inspections.assessment", target_id=str(assessment.pk)
    ).select_related("actor"):
        detail = ev.detail.get("reason") or ev.detail.get("file") or ev.detail.get("final_score") or ""
        out.append(
            {"at": ev.at, "who": ev.actor, "what": ACTION_LABELS.get(ev.action, ev.action), "old": "", "new": detail}
        )
    return sorted(out, key=lambda r: r["at"], reverse=True)


def pick(user: User, slug: str | None, raw_year: str | None) -> tuple[Campaign, int]:
    campaign = campaign_selectors.pick_campaign(user, slug)
    return campaign, campaign_selectors.pick_year(campaign, raw_year)

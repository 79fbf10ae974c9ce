from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from standards import selectors as campaign_selectors
from standards.models import Campaign
from units import access
from units.models import AuditEvent, Unit, User

from .models import Assessment, Status


def worklist(*, user: User, campaign: Campaign, year: int) -> list[tuple[Unit, Assessment | None]]:
    """The user's in-scope units with this year's assessment (two queries)."""
    units = list(
        access.visible_units(user).filter(campaign.unit_q()).select_related("township").order_by("code")[:2000]
    )
    by_unit = {a.unit_id: a for a in Assessment.objects.filter(campaign=campaign, year=year, unit__in=units)}
    return [(u, by_unit.get(u.id)) for u in units]


def review_queue(*, user: User) -> QuerySet[Assessment]:
    return (
        access.scope(user, Assessment.objects.filter(status=Status.SUBMITTED))
        .select_related("unit__township", "campaign")
        .order_by("submitted_at")
    )


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

"""Supervision follows what units announces: a unit task lives where its unit lives.
When units move (a unit moved or re-imported into another township, a change of the
tree), their tasks' township — which places a task in the tree for jurisdiction, the
ledger and the appraisal — follows in one UPDATE, right after the move commits."""

from __future__ import annotations

from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .models import Rectification


def follow_units(unit_ids=None) -> int:
    """Re-point unit tasks whose township is no longer their unit's (of `unit_ids`, or all)."""
    stale = Rectification.objects.filter(unit__isnull=False).exclude(township=F("unit__township"))
    if unit_ids is not None:
        stale = stale.filter(unit_id__in=list(unit_ids))
    township = Unit.objects.filter(pk=OuterRef("unit_id")).values("township_id")[:1]
    return Rectification.objects.filter(pk__in=stale.values("pk")).update(township=Subquery(township))


def on_units_changed(sender, *, action: str, unit_ids=(), **kwargs) -> None:
    if action in ("moved", "imported", "updated"):
        follow_units(unit_ids)


def on_tree_changed(sender, **kwargs) -> None:
    follow_units()


DECISION_MESSAGES = {
    "returned": _("自评被退回：%(u)s（%(c)s %(y)s 年度）。原因：%(r)s"),
    "approved": _("自评已审核通过：%(u)s（%(c)s %(y)s 年度）。"),
    "overturned": _("自评被抽查否定：%(u)s（%(c)s %(y)s 年度）。原因：%(r)s"),
}


def on_assessment_decided(sender, *, assessment_id: int, action: str, **kwargs) -> None:
    """The township's officers hear of a return, the final approval and an overturn of
    their unit's assessment, in the portal (the same notifications as tasks)."""
    from inspections.models import Assessment

    from .services.notifications import notify, township_officers

    if action not in DECISION_MESSAGES:
        return
    a = Assessment.objects.filter(pk=assessment_id).select_related("unit", "campaign").first()
    if a is None or a.derived_from_id or (action == "approved" and a.status != "approved"):
        return  # a carried-over one is its source's news; a pass to the next level is not final
    reason = a.return_reason if action == "returned" else a.overturn_reason
    notify(
        township_officers(a.unit.township_id),
        key=f"assessment:{a.pk}:{action}:{a.lock_version}",
        message=DECISION_MESSAGES[action] % {"u": a.unit.name, "c": a.campaign.name, "y": a.year, "r": reason or "—"},
        link=reverse("inspections:detail", args=[a.pk]),
        email_subject=_("【三零创建】自评被退回") if action == "returned" else "",
    )

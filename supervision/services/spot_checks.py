"""Spot checks: the inspector scores the same items as the unit did, then confirms the
approved assessment or overturns it (through the assessment workflow, which announces it
to the roll-up)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspections import scoring
from inspections import services as assessment_services
from inspections.models import Assessment, Decision, Status
from sanling.kernel.errors import ServiceError
from units import access
from units.audit import audit
from units.models import User

from .. import selectors
from ..models import CheckStatus, InspectorScore, SpotCheck
from ._common import may


def _parse_scores(items, raw: dict) -> dict:
    """raw: item code -> score. Every applicable item must be scored."""
    by_code = {i.code: i for i in items}
    errors, parsed = [], {}
    unknown = sorted(set(raw) - set(by_code))
    if unknown:
        errors.append(_("这些条目不适用于该单位：%(c)s") % {"c": "、".join(unknown)})
    for code, item in by_code.items():
        try:
            value = scoring.parse_score(raw.get(code), item)
        except ServiceError as exc:
            errors.extend(exc.messages)
            continue
        if value is None:
            errors.append(_("%(code)s：请填写检查分。") % {"code": code})
        parsed[item.id] = value
    if errors:
        raise ServiceError({"scores": errors})
    return parsed


def _level_finals(a: Assessment) -> dict:
    """Each level's final score as it passed the assessment on in its latest round of
    review (the decisions since the last return or re-opening)."""
    out = {}
    for d in a.decisions.order_by("at", "id"):
        if d.decision in (Decision.RETURNED, Decision.REOPENED):
            out = {}
        elif d.level:
            out[d.level] = d.final_score
    return out


@transaction.atomic
def spot_check_record(*, check: SpotCheck, scores: dict, outcome: str, reason: str, by: User) -> SpotCheck:
    """The inspector's scores for the same items, and the conclusion: confirm the approved
    assessment, or overturn it (with reasons), which revokes the unit's attainment."""
    may(access.can_inspect(by), _("只有检查人员可以录入抽查结果。"))
    # Callers look the check up through the jurisdiction already; this holds without them.
    c = access.object_for(
        by,
        SpotCheck.objects.select_for_update(of=("self",)).select_related(
            "unit", "inspection__campaign", "inspection__created_by"
        ),
        check.pk,
    )
    may(selectors.can_act_on_inspection(by, c.inspection), _("该检查由上级安排，抽查结论由安排检查的单位录入。"))
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
    for level, final in _level_finals(a).items():
        setattr(c, f"{level}_final", final)
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

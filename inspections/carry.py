"""One assessment, two campaigns: a campaign declared the local implementation of a wider
one (Jinzhong's of Shanxi's, standards.Campaign.implements) carries each unit's assessment
over through its item mapping (standards.ItemMapping) into a derived assessment of the
wider campaign — shown as such, never edited, never a second self-assessment. Called by
the assessment services whenever the local assessment's standing changes (approved,
returned after approval, overturned, re-opened), in the same transaction, so both
campaigns' figures follow together.

    wider item score = its maximum × Σ (weight × local score ÷ local maximum) ÷ Σ weight,
                       over the mapped local items that apply to the unit (one decimal,
                       rounded down); full marks for a zero judged by the incident ledger
                       in both campaigns; 0 for a wider item nothing maps to."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from standards.models import Campaign, ItemMapping
from units import history
from units.audit import audit
from units.models import Unit

from . import scoring
from .models import Assessment, ItemScore, Status


def wider_scores(local: Assessment, wider: Campaign) -> dict[int, Decimal]:
    """The wider standard's applicable items' scores from the local assessment's."""
    local_scores = {s.item_id: (s.effective_score, s.item.max_score) for s in local.scores.select_related("item").all()}
    by_wider: dict[int, list[ItemMapping]] = {}
    for m in ItemMapping.objects.filter(campaign=local.campaign).select_related("wider_item", "local_item"):
        by_wider.setdefault(m.wider_item_id, []).append(m)
    out = {}
    for item in scoring.applicable_items(wider.standard, local.unit.category):
        rows = by_wider.get(item.id, [])
        if any(m.full for m in rows):
            out[item.id] = item.max_score
            continue
        share = weight = Decimal(0)
        for m in rows:
            if m.local_item_id not in local_scores:
                continue  # not applicable to the unit's category
            value, local_max = local_scores[m.local_item_id]
            share += m.weight * (Decimal(value or 0) / local_max)
            weight += m.weight
        out[item.id] = (item.max_score * share / weight).quantize(Decimal("0.1"), ROUND_DOWN) if weight else Decimal(0)
    return out


def sync(local: Assessment, by=None) -> Assessment | None:
    """Bring the derived assessment of the wider campaign in line with `local`."""
    wider = local.campaign.implements
    if wider is None or not wider.covers_year(local.year):
        return None
    derived = Assessment.objects.filter(unit=local.unit, campaign=wider, year=local.year).first()
    if derived is not None and derived.derived_from_id != local.pk:
        return None  # the unit assessed under the wider campaign itself: that one counts
    if derived is None:
        # in the wider campaign's scope as the unit stood at the year's end (units.history)
        then = history.units_as_of(history.year_end(local.year), Unit.objects.filter(pk=local.unit_id))
        if not then.filter(wider.unit_q(as_of=True)).exists():
            return None
        derived = Assessment.objects.create(
            unit=local.unit, campaign=wider, year=local.year, standard=wider.standard, derived_from=local
        )
    scores = wider_scores(local, wider)
    existing = {s.item_id: s for s in derived.scores.all()}
    for item_id, value in scores.items():
        row = existing.get(item_id) or ItemScore(assessment=derived, item_id=item_id)
        row.self_score, row.reviewer_score = value, None
        row.note = _("由“%(c)s”的评估按对应关系转换") % {"c": local.campaign.name}
        row.save()
    approved = local.status == Status.APPROVED
    derived.status = local.status if local.status in (Status.APPROVED, Status.OVERTURNED) else Status.DRAFT
    derived.approved_at = local.approved_at if approved else None
    derived.overturn_reason = local.overturn_reason
    derived.lock_version += 1
    derived._history_user = by
    derived.save()
    scoring.rescore(derived)
    audit(
        actor=by,
        action="assessment.carried_over",
        target=derived,
        detail={"from": local.pk, "status": derived.status, "at": timezone.now().isoformat()},
    )
    return derived

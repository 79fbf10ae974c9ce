"""Supervision follows what units announces: a unit task lives where its unit lives.
When units move (a unit moved or re-imported into another township, a change of the
tree), their tasks' township — which places a task in the tree for jurisdiction, the
ledger and the appraisal — follows in one UPDATE, right after the move commits."""

from __future__ import annotations

from django.db.models import F, OuterRef, Subquery

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

"""Which incidents break a campaign's zeros — the incident half of the attainment rule
(reports.attainment uses it; so do the official result's revocations), as a filter and for
one incident, kept equal by tests/inspections/test_zeros.py:

  - its kind is in the subtree of one of the campaign's zero-kinds (a homicide is a
    criminal case: a campaign naming 刑事案件 is broken by a 命案);
  - it is not dismissed (不属实);
  - a petition (上访 or below) the county marked as one only a higher level can decide does
    not break 零上访;
  - a dispute (矛盾纠纷 or below) resolved inside the jurisdiction by the year's end does not
    break 零纠纷 — escalated, unresolved or still open at the year's end, it does.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.db.models.functions import ExtractYear

from standards import kinds

from .models import DisputeResolution, Incident, IncidentStatus


def _families(tree=None):
    tree = kinds.parents() if tree is None else tree
    return tree, kinds.subtree(["petition"], tree), kinds.subtree(["dispute"], tree)


def breaking_q(zero_kinds, *, year_end: dt.date | None = None, tree=None) -> Q:
    """Incidents that break these zero-kinds; a dispute counts as resolved when it was by
    `year_end` — by default, the end of the incident's own year."""
    tree, petitions, disputes = _families(tree)
    resolved = Q(kind__in=disputes, resolution=DisputeResolution.RESOLVED, resolved_on__isnull=False)
    if year_end is not None:
        resolved &= Q(resolved_on__lte=year_end)
    else:
        resolved &= Q(resolved_on__year__lte=ExtractYear("occurred_on"))
    return (
        Q(kind__in=kinds.subtree(zero_kinds, tree))
        & ~Q(status=IncidentStatus.DISMISSED)
        & ~Q(kind__in=petitions, higher_level=True)
        & ~resolved
    )


def breaks(incident: Incident, zero_kinds, *, year_end: dt.date | None = None, tree=None) -> bool:
    """breaking_q for one incident in hand."""
    tree, petitions, disputes = _families(tree)
    year_end = year_end or dt.date(incident.occurred_on.year, 12, 31)
    if incident.kind not in kinds.subtree(zero_kinds, tree) or incident.status == IncidentStatus.DISMISSED:
        return False
    if incident.kind in petitions and incident.higher_level:
        return False
    return not (
        incident.kind in disputes
        and incident.resolution == DisputeResolution.RESOLVED
        and incident.resolved_on is not None
        and incident.resolved_on <= year_end
    )

"""The test oracle of the roll-up: every snapshot row of a campaign-year computed the slow,
obvious way in Python, straight from the raw rows — units, item scores, incidents,
targets, the region tree by its parent links.

It is written independently of the code it checks: it does not use scoring.compute,
applicable_items, reports.attainment, Campaign.unit_q/covers, KIND_CATEGORY or the
roll-up's prefix matching; each rule is restated here from docs/attainment.md. So a
mistake in any of those shows up as a difference, field by field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from inspections.models import Assessment, Incident, ItemScore
from reports.models import AttainmentSnapshot
from standards.models import Item, Target
from units.models import Region, Unit, UnitState

# restated from docs/attainment.md, not imported
VILLAGE_KINDS = {"village", "community"}
PREFIX = {"province": 2, "city": 4, "county": 6, "township": 9}
FIELDS = ["level", "total_units", "attained_units", "rate", "target_rate", "met", "gap_units", "by_kind"]


def category(kind: str) -> str:
    return "village_community" if kind in VILLAGE_KINDS else "enterprise_institution"


def rate_of(total: int, attained: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(attained) / Decimal(total)).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def gap_units(target: Decimal | None, total: int, attained: int) -> int:
    """How many more units must attain: max(0, ceil(target × total) − attained)."""
    if target is None:
        return 0
    return max(0, math.ceil(target * total) - attained)


def _applies(item: Item, cat: str) -> bool:
    return item.for_village_community if cat == "village_community" else item.for_enterprise_institution


def unit_attains(unit: Unit, campaign, year: int, cat: str) -> bool:
    a = Assessment.objects.filter(unit=unit, campaign=campaign, year=year).first()
    if a is None or a.status != "approved":
        return False
    scores = {s.item_id: s for s in ItemScore.objects.filter(assessment=a)}
    total = maximum = Decimal(0)
    veto_failed = False
    for item in Item.objects.filter(standard=a.standard):
        if not _applies(item, cat):
            continue
        s = scores.get(item.id)
        value = None if s is None else (s.reviewer_score if s.reviewer_score is not None else s.self_score)
        value = Decimal(0) if value is None else value
        total += value
        maximum += item.max_score
        if item.veto and value < item.max_score:
            veto_failed = True
    final = (total / maximum * 100).quantize(Decimal("0.01"), ROUND_HALF_UP) if maximum else Decimal(0)
    breaking = any(_breaks(i, campaign, year) for i in Incident.objects.filter(unit=unit))
    from inspections.models import UnitCondition

    held = {c.kind for c in UnitCondition.objects.filter(unit=unit, year=year) if c.status == "confirmed"}
    conditions_met = all(k in held for k in campaign.conditions or [])
    return final >= campaign.pass_mark and not veto_failed and not breaking and conditions_met


def _lineage(kind: str) -> list[str]:
    """The kind and its ancestors in the kind tree, read node by node."""
    from standards.models import IncidentKindNode

    out = []
    node = IncidentKindNode.objects.filter(code=kind).first()
    while node is not None:
        out.append(node.code)
        node = node.parent
    return out


def _breaks(i, campaign, year: int) -> bool:
    if i.occurred_on.year != year or i.status == "dismissed":
        return False
    lineage = _lineage(i.kind)
    if not set(lineage) & set(campaign.zero_kinds):
        return False
    if "petition" in lineage and i.higher_level:
        return False
    resolved_in_year = i.resolution == "resolved" and i.resolved_on is not None and i.resolved_on.year <= year
    return not ("dispute" in lineage and resolved_in_year)


def _ancestors(region: Region) -> list[Region]:
    out = []
    while region is not None:
        out.append(region)
        region = region.parent
    return out


def _in_force(row, day) -> bool:
    return (row.valid_from is None or row.valid_from <= day) and (row.valid_to is None or day <= row.valid_to)


def state_at(unit: Unit, day):
    """(township code, kind, active) of the unit at the end of `day`, or None if it did not
    exist: a recorded past state covering the day, else its current one if that had begun."""
    for s in UnitState.objects.filter(unit=unit):
        if _in_force(s, day):
            return s.township_id, s.kind, s.active
    if unit.state_since is None or unit.state_since <= day:
        return unit.township_id, unit.kind, unit.active
    return None


def expected(campaign, year: int) -> dict[tuple[str, str], dict]:
    """(region code, category) -> the snapshot fields, for every region of the scope as the
    tree stood at the end of the year, counting each unit as it stood then."""
    day = dt.date(year, 12, 31)
    scope_prefix = campaign.scope.code[: PREFIX[campaign.scope.level]]
    everything = {r.code: r for r in Region.objects.all()}
    regions = [r for r in everything.values() if r.code.startswith(scope_prefix) and _in_force(r, day)]
    counts: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for unit in Unit.objects.all():
        state = state_at(unit, day)
        if state is None:
            continue
        township, kind, active = state
        cat = category(kind)
        if not (active and township.startswith(scope_prefix) and cat in campaign.categories):
            continue
        ok = unit_attains(unit, campaign, year, cat)
        # the township and every ancestor by the tree's parent links
        node = everything.get(township)
        while node is not None:
            k = counts[(node.code, cat)][kind]
            k[0] += 1
            k[1] += int(ok)
            node = everything.get(node.parent_id) if node.parent_id else None
    # a target carries on from the last year that set it (for each region and category)
    targets = {}
    for t in Target.objects.filter(campaign=campaign, year__lte=year).order_by("year"):
        targets[(t.region_id, t.category)] = t.rate
    out = {}
    for region in regions:
        for cat in dict.fromkeys(campaign.categories):
            by_kind = {kind: list(v) for kind, v in counts[(region.code, cat)].items() if v[0]}
            total = sum(v[0] for v in by_kind.values())
            attained = sum(v[1] for v in by_kind.values())
            target = next((targets[(r.code, cat)] for r in _ancestors(region) if (r.code, cat) in targets), None)
            gap = gap_units(target, total, attained)
            out[(region.code, cat)] = {
                "level": region.level,
                "total_units": total,
                "attained_units": attained,
                "rate": rate_of(total, attained),
                "target_rate": target,
                "met": None if target is None else gap == 0,
                "gap_units": gap,
                "by_kind": by_kind,
            }
    return out


def stored(campaign, year: int) -> dict[tuple[str, str], dict]:
    return {
        (r["region_id"], r["category"]): {f: r[f] for f in FIELDS}
        for r in AttainmentSnapshot.objects.filter(campaign=campaign, year=year).values(
            "region_id", "category", *FIELDS
        )
    }


def assert_snapshot_matches(campaign, year: int) -> dict[tuple[str, str], dict]:
    """Every row of the stored snapshot equals the oracle's, field for field, and there is
    exactly one row per region of the scope and category."""
    want, got = expected(campaign, year), stored(campaign, year)
    assert got.keys() == want.keys(), sorted(set(got) ^ set(want))
    for key, row in want.items():
        assert got[key] == row, (key, {f: (got[key][f], row[f]) for f in FIELDS if got[key][f] != row[f]})
    return want

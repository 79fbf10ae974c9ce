"""The tree and the units as they stood on a day.

A region is valid from `valid_from` to `valid_to`; a unit's township, kind (so category)
and active state are its current ones since `state_since`, and before that the UnitState
rows. A past year is counted with the state in force at its end (reports), so a merge,
a move, an archive or a new kind in a later year leaves that year's figures as they were.

`units_as_of(day)` annotates every unit with AS_OF fields — its township code, kind,
category and active state on that day — and keeps only the units that existed then.
When no change reaches back to the day (the current year, nearly always), the annotations
are the unit's own columns and no history is joined at all.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField as BoolField
from django.db.models import CharField, F, FilteredRelation, Q, QuerySet
from django.db.models.functions import Coalesce

from .models import Region, RegionChange, RegionName, Unit, UnitState, valid_q

# the annotation names units_as_of() gives; Campaign.unit_q(as_of=True) filters on them
AS_OF = {"township": "as_of_township", "kind": "as_of_kind", "category": "as_of_category", "active": "as_of_active"}


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def history_reaches(day: dt.date) -> bool:
    """Does any unit's state on `day` differ from its current one? (two indexed lookups)"""
    return UnitState.objects.filter(valid_to__gte=day).exists() or Unit.objects.filter(state_since__gt=day).exists()


OWN = {"township": "township_id", "kind": "kind", "category": "category", "active": "active"}


def _own(qs: QuerySet[Unit]) -> QuerySet[Unit]:
    return qs.annotate(**{AS_OF[k]: F(col) for k, col in OWN.items()})


def units_as_of(day: dt.date, qs: QuerySet[Unit] | None = None) -> QuerySet[Unit]:
    qs = Unit.objects.all() if qs is None else qs
    if not history_reaches(day):
        return _own(qs)
    # one join of the state in force on the day (its id annotated in the same call, so
    # the existence filter reuses the join instead of adding a second one)
    qs = qs.annotate(was=FilteredRelation("states", condition=valid_q(day, "states")))
    qs = qs.annotate(
        as_of_state=F("was__id"),
        **{
            AS_OF["township"]: Coalesce("was__township_id", "township_id", output_field=CharField()),
            AS_OF["kind"]: Coalesce("was__kind", "kind", output_field=CharField()),
            AS_OF["category"]: Coalesce("was__category", "category", output_field=CharField()),
            AS_OF["active"]: Coalesce("was__active", "active", output_field=BoolField()),
        },
    )
    return qs.filter(Q(as_of_state__isnull=False) | Q(state_since__isnull=True) | Q(state_since__lte=day))


def units_as_of_parts(day: dt.date, qs: QuerySet[Unit] | None = None) -> list[QuerySet[Unit]]:
    """The same units with the same AS_OF fields as units_as_of(), as disjoint querysets
    whose filters are plain columns — for statements over every unit (the roll-up), where
    filters on COALESCE(…) leave PostgreSQL guessing their selectivity (it guessed one
    row of a million and chose nested loops). Each part is grouped on its own and the
    results added. One part when no history reaches the day, else two:

    - units whose current state had begun by the day (`state_since` null or not later):
      their own columns — no join at all;
    - units whose current state began after it: the state in force on the day (an inner
      join of the few UnitState rows; none for a unit registered later).

    It rests on the states of a unit never overlapping: each UnitState ends the day
    before the next one, or the current one, begins (units.services, units.changes)."""
    qs = Unit.objects.all() if qs is None else qs
    if not history_reaches(day):
        return [_own(qs)]
    own = _own(qs.filter(Q(state_since__isnull=True) | Q(state_since__lte=day)))
    past = qs.filter(state_since__gt=day).annotate(was=FilteredRelation("states", condition=valid_q(day, "states")))
    past = past.annotate(as_of_state=F("was__id"), **{AS_OF[k]: F(f"was__{col}") for k, col in OWN.items()}).filter(
        as_of_state__isnull=False
    )
    return [own, past]


def township_on(unit: Unit, day: dt.date) -> str | None:
    """The unit's township code on `day` (None if the unit did not exist then)."""
    past = unit.states.filter(valid_q(day)).values_list("township_id", flat=True).first()
    if past is not None:
        return past
    if unit.state_since is None or unit.state_since <= day:
        return unit.township_id
    return None


def regions_as_of(day: dt.date, qs: QuerySet[Region] | None = None) -> QuerySet[Region]:
    return (Region.objects.all() if qs is None else qs).filter(valid_q(day))


def names_as_of(codes, day: dt.date) -> dict[str, str]:
    """Each region's name on `day` (its current name unless it was renamed since)."""
    codes = list(codes)
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    names.update(RegionName.objects.filter(valid_q(day), region_id__in=codes).values_list("region_id", "name"))
    return names


def successors(codes, after: dt.date) -> dict[str, list[Region]]:
    """What became of regions that ended after `day`: the targets of the changes that
    ended them (“已撤并入 …”)."""
    out: dict[str, list[Region]] = {}
    for change in (
        RegionChange.objects.filter(sources__code__in=list(codes), effective_on__gt=after)
        .prefetch_related("sources", "targets")
        .distinct()
    ):
        for src in change.sources.all():
            if src.code in codes and src.valid_to is not None:
                out.setdefault(src.code, []).extend(t for t in change.targets.all() if t.code != src.code)
    return out


def predecessors(code: str) -> list[str]:
    """Every region that became this one, however many changes back (merged, split, recoded
    or moved into it): its successor sees its past."""
    seen, todo = set(), [code]
    while todo:
        current = todo.pop()
        for src in RegionChange.objects.filter(targets__code=current).values_list("sources__code", flat=True):
            if src and src != current and src not in seen:
                seen.add(src)
                todo.append(src)
    return sorted(seen)


def labels_on(regions, day: dt.date) -> dict[str, dict]:
    """For regions shown for a past day: each one's name on that day and, for one that has
    ended since, the regions it became (“已撤并入 …”). No query unless one of them was
    renamed or ended after the day."""
    regions = list(regions)
    codes = [r.code for r in regions if r.renamed_on is not None and r.renamed_on > day]
    renamed = {}
    if codes:
        renamed = dict(RegionName.objects.filter(valid_q(day), region_id__in=codes).values_list("region_id", "name"))
    ended = [r.code for r in regions if r.valid_to is not None and r.valid_to >= day]
    became = successors(ended, day) if ended else {}
    return {r.code: {"name": renamed.get(r.code, r.name), "became": became.get(r.code, [])} for r in regions}

"""Special actions (专项行动): shipped as data (supervision/data/*-actions.json, Jinzhong's
八项行动), their targets measured per county and year, and the progress each county has
made — read set-wise in the database and compared with the share of the year's action
period that has passed, so laggards stand out.

A target is annual and per county: a count to reach in the year (cumulative figures: the
latest of the year counts) or a rate (numerator over denominator, the latest of the year).
Each department reports its own part, and a county's figure is the sum of its departments'
latest. A region above the county adds its counties: the counts (and the target, once per
county), or the numerators and denominators."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from standards.models import Campaign
from units.models import PREFIX_LENGTH, Level, Region, child_level, valid_q

from .models import ActionProgress, ActionTarget, Measure, SpecialAction

DATA = Path(__file__).parent / "data"
ACTION_FILES = ["jinzhong-actions.json"]


@transaction.atomic
def load_actions() -> int:
    """Create the shipped actions of campaigns that exist; an action already there is left
    as the administrators have it. Returns how many were created."""
    created = 0
    for name in ACTION_FILES:
        data = json.loads((DATA / name).read_text(encoding="utf-8"))
        campaign = Campaign.objects.filter(slug=data["campaign"]).first()
        if campaign is None:
            continue
        for order, a in enumerate(data["actions"], start=1):
            action, new = SpecialAction.objects.get_or_create(
                campaign=campaign,
                code=a["code"],
                defaults={
                    "order": order,
                    "name": a["name"],
                    "lead_kind": a["lead_kind"],
                    "cooperating_kinds": a["cooperating_kinds"],
                    "lead_text": a["lead_text"],
                    "cooperating_text": a["cooperating_text"],
                    "starts_on": dt.date(campaign.start_year, 1, 1),
                    "ends_on": dt.date(campaign.end_year, 12, 31),
                },
            )
            if not new:
                continue
            created += 1
            ActionTarget.objects.bulk_create(
                ActionTarget(
                    action=action,
                    code=t["code"],
                    name=t["name"],
                    measure=t["measure"],
                    unit_label=t["unit_label"],
                    target=Decimal(t["target"]),
                )
                for t in a["targets"]
            )
    return created


def elapsed(action: SpecialAction, year: int, on: dt.date) -> Decimal:
    """The share (0–1) of the action's period within `year` that has passed on `on`."""
    start = max(action.starts_on, dt.date(year, 1, 1))
    end = min(action.ends_on, dt.date(year, 12, 31))
    if end < start:
        return Decimal(0)
    if on >= end:
        return Decimal(1)
    if on < start:
        return Decimal(0)
    return Decimal((on - start).days + 1) / Decimal((end - start).days + 1)


@dataclass
class Row:
    """One target in one region: the figures, the completion (0–1, capped) and whether
    the region lags behind the time passed."""

    target: ActionTarget
    code: str
    name: str
    counties: int
    reported: int
    value: Decimal
    denominator: Decimal | None
    goal: Decimal
    completion: Decimal
    expected: Decimal

    @property
    def rate(self) -> Decimal | None:
        if self.target.measure != Measure.RATE or not self.denominator:
            return None
        return self.value / self.denominator

    @property
    def lagging(self) -> bool:
        return self.reported < self.counties or self.completion < self.expected


def _latest(targets, year: int, on: dt.date, prefix: str):
    """The latest figure of `year` (up to `on`) of each department, county and target
    under `prefix`: each department reports what it did itself, and a county's figure is
    the sum of its departments' latest."""
    scope = ActionProgress.objects.filter(
        target__in=targets, region__code__startswith=prefix, as_of__year=year, as_of__lte=on
    )
    newest = scope.filter(
        target=OuterRef("target"), region=OuterRef("region"), department=OuterRef("department")
    ).order_by("-as_of", "-id")
    return scope.filter(pk=Subquery(newest.values("pk")[:1]))


def progress(action: SpecialAction, year: int, region: Region, on: dt.date | None = None) -> list[Row]:
    """Each target of the action in each child region of `region` (a county: itself),
    from two grouped queries."""
    on = min(on or timezone.localdate(), dt.date(year, 12, 31))
    targets = list(action.targets.all())
    # the child regions' code prefix; a county is its own only child
    length = PREFIX_LENGTH[Level.COUNTY if region.level == Level.COUNTY else child_level(region.level)]
    counties = (
        Region.objects.filter(valid_q(on), level=Level.COUNTY, code__startswith=region.prefix)
        .annotate(child=Substr("code", 1, length))
        .values("child")
        .annotate(n=Count("code"))
    )
    n_counties = {c["child"]: c["n"] for c in counties}
    children = {
        r.code[:length]: r for r in Region.objects.filter(valid_q(on), code__in=[c.ljust(12, "0") for c in n_counties])
    }
    figures = {
        (f["target_id"], f["child"]): f
        for f in _latest(targets, year, on, region.prefix)
        .annotate(child=Substr("region_id", 1, length))
        .values("target_id", "child")
        .annotate(value=Sum("value"), denominator=Sum("denominator"), reported=Count("region", distinct=True))
    }
    expected = elapsed(action, year, on)
    rows = []
    for t in targets:
        for child, n in sorted(n_counties.items()):
            f = figures.get((t.pk, child), {})
            value = f.get("value") or Decimal(0)
            den = f.get("denominator")
            if t.measure == Measure.RATE:
                goal = t.target
                achieved = value / den if den else Decimal(0)
            else:
                goal = t.target * n
                achieved = value
            completion = min(Decimal(1), achieved / goal) if goal else Decimal(1)
            r = children.get(child)
            rows.append(
                Row(
                    target=t,
                    code=r.code if r else child.ljust(12, "0"),
                    name=r.name if r else child,
                    counties=n,
                    reported=f.get("reported", 0),
                    value=value,
                    denominator=den,
                    goal=goal,
                    completion=completion,
                    expected=expected,
                )
            )
    return rows


def completion(action_rows: list[Row]) -> Decimal | None:
    """The mean completion of rows (a region's, over targets)."""
    if not action_rows:
        return None
    return sum((r.completion for r in action_rows), Decimal(0)) / len(action_rows)


def seed_demo_progress(*, seed: int = 1, log=print) -> int:
    """Demo data only: each county's figures for each target of each action, for every
    year of the action's period, at 40–110 % of the target, from the county's department
    of the action's lead kind (load_departments ships them)."""
    import random

    from units.models import Department

    rnd = random.Random(seed)  # noqa: S311 - demo figures, not secrets
    rows = []
    for action in SpecialAction.objects.select_related("campaign__scope").prefetch_related("targets"):
        counties = Region.objects.filter(
            valid_to__isnull=True, level=Level.COUNTY, code__startswith=action.campaign.scope.prefix
        )
        depts = {d.region_id: d for d in Department.objects.filter(kind=action.lead_kind, region__in=counties)}
        for county in counties:
            dept = depts.get(county.code)
            if dept is None:
                continue
            for year in range(action.starts_on.year, action.ends_on.year + 1):
                as_of = min(dt.date(year, 11, 30), timezone.localdate())
                for t in action.targets.all():
                    share = Decimal(rnd.randint(40, 110)) / 100
                    if t.measure == Measure.RATE:
                        base = Decimal(rnd.randint(80, 800))
                        value, den = min(base, (base * t.target * share).quantize(Decimal(1))), base
                    else:
                        value, den = (t.target * share).quantize(Decimal(1)), None
                    rows.append(
                        ActionProgress(
                            target=t, region=county, department=dept, as_of=as_of, value=value, denominator=den
                        )
                    )
    ActionProgress.objects.bulk_create(rows, batch_size=2000)
    log(f"{len(rows)} demo special-action figures")
    return len(rows)

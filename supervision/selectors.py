"""Reads for the ledger, the deviation report and the dashboard: scoped through
units.access, aggregated in the database. Which inspections a user may see — jurisdiction,
and the secrecy of unannounced ones — is decided here, once."""

from __future__ import annotations

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import Substr
from django.shortcuts import get_object_or_404
from django.utils import timezone

from units import access
from units.models import PREFIX_LENGTH, Department, Level, Region, User, child_level

from .models import (
    CLOSED_Q,
    OPEN_Q,
    OVERDUE_Q,
    ActionProgress,
    ActionTarget,
    CheckStatus,
    Inspection,
    InspectionMode,
    Rectification,
    SpecialAction,
    SpotCheck,
)


def visible_inspections(user: User, qs: QuerySet[Inspection] | None = None) -> QuerySet[Inspection]:
    """Inspections are for county staff and above, within their jurisdiction; townships
    see only the outcome on their units. An unannounced inspection (暗访) planned by a
    higher level is not shown to the level being inspected: only announced ones, or ones
    planned within the user's own jurisdiction, are."""
    qs = Inspection.objects.all() if qs is None else qs
    if not access.can_inspect(user):
        return qs.none()
    qs = access.scope_regions(user, qs)
    if access.region_prefix(user):
        qs = qs.filter(Q(mode=InspectionMode.ANNOUNCED) | access.created_within(user, by_field="created_by"))
    return qs


def inspection_for(user: User, pk) -> Inspection:
    qs = visible_inspections(user, Inspection.objects.select_related("region", "campaign", "created_by"))
    return get_object_or_404(qs, pk=pk)


def can_act_on_inspection(user: User, inspection: Inspection) -> bool:
    """Recording spot checks and findings belongs to the level that planned the
    inspection (or above it)."""
    return access.can_inspect(user) and access.acts_for_creator(user, inspection.created_by)


def visible_checks(user: User) -> QuerySet[SpotCheck]:
    """Spot checks of inspections the user may see, on units of their jurisdiction."""
    return access.scope(user, SpotCheck.objects.filter(inspection__in=visible_inspections(user)))


# where a task is placed and whose it is: its township (a task may have no unit), and
# for a department's staff also the tasks their department leads or cooperates in
TASK_SCOPE = {"township_field": "township", "department_field": ("lead_department", "cooperating_departments")}


def scope_tasks(user: User, qs: QuerySet[Rectification]) -> QuerySet[Rectification]:
    return access.scope(user, qs, **TASK_SCOPE)


def task_for(user: User, pk, *, for_update: bool = False) -> Rectification:
    qs = Rectification.objects.select_related("unit__township", "township", "opened_region", "lead_department")
    return access.object_for(user, qs, pk, for_update=for_update, **TASK_SCOPE)


def tasks(user: User, region: Region | None = None, department=None) -> QuerySet[Rectification]:
    qs = scope_tasks(
        user, Rectification.objects.select_related("unit__township", "township", "opened_region", "lead_department")
    )
    if region is not None:
        qs = qs.filter(township__code__startswith=region.prefix)
    if department is not None:
        qs = qs.filter(Q(lead_department=department) | Q(cooperating_departments=department)).distinct()
    return qs


def assignable_departments(user: User) -> QuerySet[Department]:
    """The departments a task opened by `user` may name: those of the user's own region
    and the regions above it, and of the regions below it (not townships: departments
    belong to a county, a city or the province). The service checks each against the
    task's township."""
    home = access.home_region(user)
    if home is None:
        return Department.objects.none()
    return (
        Department.objects.filter(
            Q(region_id__in=home.ancestor_codes()) | Q(region__code__startswith=home.prefix), active=True
        )
        .select_related("region")
        .order_by("region_id", "kind", "name")
    )


def special_actions(user: User) -> QuerySet[SpecialAction]:
    """The special actions of campaigns the user takes part in."""
    from standards import selectors as campaign_selectors

    return SpecialAction.objects.filter(campaign__in=campaign_selectors.campaigns_for(user)).select_related("campaign")


def task_departments(user: User, region: Region | None) -> QuerySet:
    """The departments that lead tasks the user sees (the ledger's filter)."""
    return Department.objects.filter(led_tasks__in=tasks(user, region).values("pk")).distinct().order_by("name")


def task_counts_by_department(qs: QuerySet[Rectification]) -> list[dict]:
    """Each lead department's open, overdue and closed tasks: one grouped query."""
    return list(
        qs.order_by()
        .values("lead_department_id", "lead_department__name")
        .annotate(
            open=Count("id", filter=OPEN_Q),
            overdue=Count("id", filter=OVERDUE_Q),
            closed=Count("id", filter=CLOSED_Q),
        )
        .order_by("-overdue", "-open", "lead_department__name")
    )


def task_counts(user: User, region: Region) -> dict:
    """Open (not closed), overdue and closed tasks of a region: one query."""
    return tasks(user, region).aggregate(
        open=Count("id", filter=OPEN_Q),
        overdue=Count("id", filter=OVERDUE_Q),
        closed=Count("id", filter=CLOSED_Q),
    )


def _by_child(qs: QuerySet, township_field: str, level: str, order: tuple, **aggregates) -> list[dict]:
    """Aggregates of `qs` per child region of a region of `level` (a province's cities, a
    city's counties, a county's townships; a township: itself), grouped in the database
    by the code prefix of `township_field`; each row with the child's `code` and `name`."""
    length = PREFIX_LENGTH[child_level(level) or Level.TOWNSHIP]
    rows = list(
        qs.order_by()
        .annotate(child=Substr(township_field, 1, length))
        .values("child")
        .annotate(**aggregates)
        .order_by(*order, "child")
    )
    names = dict(Region.objects.filter(code__in=[r["child"].ljust(12, "0") for r in rows]).values_list("code", "name"))
    for r in rows:
        r["code"] = r["child"].ljust(12, "0")
        r["name"] = names.get(r["code"], r["code"])
    return rows


def task_counts_by_child(qs: QuerySet[Rectification], region: Region | None) -> list[dict]:
    """Open, overdue and closed tasks per child region of `region`, one grouped query."""
    return _by_child(
        qs,
        "township_id",
        region.level if region is not None else Level.PROVINCE,
        ("-overdue", "-open"),
        open=Count("id", filter=OPEN_Q),
        overdue=Count("id", filter=OVERDUE_Q),
        closed=Count("id", filter=CLOSED_Q),
    )


def inspections(user: User) -> QuerySet[Inspection]:
    return (
        visible_inspections(user, Inspection.objects.select_related("region", "campaign"))
        .annotate(
            n_checks=Count("checks"),
            n_done=Count("checks", filter=~Q(checks__status=CheckStatus.PENDING)),
            n_overturned=Count("checks", filter=Q(checks__status=CheckStatus.OVERTURNED)),
        )
        .order_by("-planned_on", "-id")
    )


def checks(user: User, region: Region, campaign, year: int) -> QuerySet[SpotCheck]:
    """Spot checks with a recorded conclusion, on units of the region the user may see."""
    if not access.can_inspect(user):
        return SpotCheck.objects.none()
    return access.scope(
        user,
        SpotCheck.objects.filter(
            inspection__campaign=campaign,
            inspection__year=year,
            unit__township__code__startswith=region.prefix,
        )
        .exclude(status=CheckStatus.PENDING)
        .select_related("unit__township", "inspection"),
    )


def deviation_by_township(qs: QuerySet[SpotCheck], region: Region | None = None) -> list[dict]:
    """Mean self − inspector, each review level − inspector and the approval that counted
    − inspector, per township — or, given a city or the province, per child region (a
    city's counties) — largest over-scoring first, so those that inflate their
    self-assessments stand out. Rows carry `code` and `name`."""
    rows = _by_child(
        qs,
        "unit__township_id",
        region.level if region is not None else Level.COUNTY,
        ("-self_dev",),
        n=Count("id"),
        overturned=Count("id", filter=Q(status=CheckStatus.OVERTURNED)),
        self_dev=Avg(F("self_final") - F("inspector_final")),
        reviewer_dev=Avg(F("reviewer_final") - F("inspector_final")),
        county_dev=Avg(F("county_final") - F("inspector_final")),
        city_dev=Avg(F("city_final") - F("inspector_final")),
        province_dev=Avg(F("province_final") - F("inspector_final")),
    )
    for r in rows:
        r["unit__township_id"] = r["code"]
    return rows


def visible_progress(user: User) -> QuerySet[ActionProgress]:
    """Special-action figures (and so their evidence): staff in their jurisdiction; a
    department's staff the figures their own department recorded."""
    qs = ActionProgress.objects.all()
    if access.is_department_staff(user):
        return qs.filter(department_id=user.department_id) if user.department_id else qs.none()
    if not access.is_staff_reader(user):
        return qs.none()
    return qs.filter(access.prefix_q(user, "region__code"))


def reportable_targets(user: User, campaign) -> QuerySet[ActionTarget]:
    """The targets a department's staff may report progress on: of the campaign's actions
    their department's kind leads or cooperates in."""
    if not access.is_department_staff(user) or not user.department_id:
        return ActionTarget.objects.none()
    kind = user.department.kind
    ids = [a.pk for a in SpecialAction.objects.filter(campaign=campaign) if a.involves(kind)]
    return ActionTarget.objects.filter(action_id__in=ids).select_related("action").order_by("action__order", "id")


def action_progress(campaign, year: int, region: Region) -> list[dict]:
    """Each special action of the campaign with its targets' progress in each child
    region of `region` (supervision.actions)."""
    from . import actions

    out = []
    for action in SpecialAction.objects.filter(campaign=campaign).prefetch_related("targets"):
        rows = actions.progress(action, year, region)
        out.append(
            {
                "action": action,
                "rows": rows,
                "expected": actions.elapsed(action, year, timezone.localdate()),
                "completion": actions.completion(rows),
            }
        )
    return out


def with_current_scores(checks: list[SpotCheck], inspection: Inspection) -> list[SpotCheck]:
    """A check not concluded yet shows the unit's scores as they stand — its self-assessed
    and its approved final — instead of “—” (a concluded one keeps those of its moment)."""
    from inspections import scoring
    from inspections.models import Assessment

    pending = [c for c in checks if c.self_final is None]
    if not pending:
        return checks
    found = {
        a.unit_id: a
        for a in Assessment.objects.filter(
            unit_id__in=[c.unit_id for c in pending], campaign=inspection.campaign_id, year=inspection.year
        )
        .select_related("standard")
        .prefetch_related("scores")
    }
    for c in pending:
        a = found.get(c.unit_id)
        if a is None:
            continue
        items = list(scoring.applicable_items(a.standard, c.unit.category))
        c.self_final = scoring.compute(items, {s.item_id: s.self_score for s in a.scores.all()}).final
        c.reviewer_final = a.final_score
    return checks

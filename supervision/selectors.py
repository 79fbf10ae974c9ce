"""Reads for the ledger, the deviation report and the dashboard: scoped through
units.access, aggregated in the database."""

from __future__ import annotations

from django.db.models import Avg, Count, F, Q, QuerySet

from units import access
from units.models import Region, User

from .models import CheckStatus, Inspection, Rectification, SpotCheck, TaskStatus

NOT_CLOSED = ~Q(status=TaskStatus.CLOSED)
OVERDUE = NOT_CLOSED & Q(overdue=True)


def tasks(user: User, region: Region | None = None) -> QuerySet[Rectification]:
    qs = access.scope(user, Rectification.objects.select_related("unit__township", "opened_region"))
    if region is not None:
        qs = qs.filter(unit__township__code__startswith=region.prefix)
    return qs


def task_counts(user: User, region: Region) -> dict:
    """Open (not closed), overdue and closed tasks of a region: one query."""
    return tasks(user, region).aggregate(
        open=Count("id", filter=NOT_CLOSED),
        overdue=Count("id", filter=OVERDUE),
        closed=Count("id", filter=Q(status=TaskStatus.CLOSED)),
    )


def task_counts_by_township(qs: QuerySet[Rectification]) -> list[dict]:
    return list(
        qs.order_by()
        .values("unit__township_id", "unit__township__name")
        .annotate(
            open=Count("id", filter=NOT_CLOSED),
            overdue=Count("id", filter=OVERDUE),
            closed=Count("id", filter=Q(status=TaskStatus.CLOSED)),
        )
        .order_by("-overdue", "-open", "unit__township_id")
    )


def inspections(user: User) -> QuerySet[Inspection]:
    return (
        access.visible_inspections(user, Inspection.objects.select_related("region", "campaign"))
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


def deviation_by_township(qs: QuerySet[SpotCheck]) -> list[dict]:
    """Mean self − inspector and reviewer − inspector score per township, largest
    over-scoring first, so townships that inflate their self-assessments stand out."""
    return list(
        qs.order_by()
        .values("unit__township_id", "unit__township__name")
        .annotate(
            n=Count("id"),
            overturned=Count("id", filter=Q(status=CheckStatus.OVERTURNED)),
            self_dev=Avg(F("self_final") - F("inspector_final")),
            reviewer_dev=Avg(F("reviewer_final") - F("inspector_final")),
        )
        .order_by("-self_dev", "unit__township_id")
    )

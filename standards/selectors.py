"""Reads of campaigns for a user: which campaigns concern their jurisdiction, and the
campaign and year a page shows."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from units import access
from units.models import User

from .models import Campaign, Target

DEFAULT_CAMPAIGN = "shanxi-sanling"


def campaigns_for(user: User, *, finished: bool = False) -> QuerySet[Campaign]:
    """Active campaigns (with `finished`, also those no longer active: their official
    results stay readable) whose scope overlaps the user's jurisdiction (above or below it)."""
    prefix = access.region_prefix(user)
    qs = Campaign.objects.select_related("scope", "standard").order_by("slug")
    if not finished:
        qs = qs.filter(active=True)
    if prefix is None:
        return qs.none()
    if prefix == "":
        return qs
    # the scope inside the user's subtree, or the user's region inside the scope (the scope
    # is one of its ancestors): one query
    return qs.filter(Q(scope__code__startswith=prefix) | Q(scope__code__in=user.region.ancestor_codes()))


def campaigns_with_conditions(user: User) -> list[Campaign]:
    """The user's campaigns with zeros that are conditions (零盲区): the “零”条件 page and
    its menu entry exist only for these."""
    return [c for c in campaigns_for(user) if c.conditions]


def pick_campaign(user: User, slug: str | None) -> Campaign:
    """The campaign asked for, if it concerns the user; else the default one."""
    qs = campaigns_for(user)
    campaign = qs.filter(slug=slug).first() if slug else None
    if campaign is None:
        campaign = qs.filter(slug=DEFAULT_CAMPAIGN).first() or qs.first()
    if campaign is None:
        raise Http404
    return campaign


def pick_year(campaign: Campaign, raw: str | None) -> int:
    """The year asked for if it is one of the campaign's, else its last (for pages that
    show something sensible for any link; writes validate years strictly)."""
    try:
        year = int(raw) if raw else None
    except ValueError:
        year = None
    return year if year is not None and campaign.covers_year(year) else campaign.last_year


def targets_for(campaign: Campaign, year: int) -> QuerySet[Target]:
    """The targets in force in `year`: for each region and category, the one of the
    latest year up to `year` that set it — a target carries on (常态化) until a later year
    sets another; a year before any target has none. One query."""
    latest = (
        Target.objects.filter(
            campaign=campaign, region=OuterRef("region"), category=OuterRef("category"), year__lte=year
        )
        .order_by("-year")
        .values("year")[:1]
    )
    return Target.objects.filter(campaign=campaign, year__lte=year, year=Subquery(latest))

"""Jurisdiction: the one place that decides what a user may see and do.

Every list, detail, form, export, admin page and API endpoint asks here. A user sees
the subtree under their region's code prefix; an administrator without a region sees
everything. Lookups give the same 404 for "missing" and "not yours", so ids of other
regions' objects cannot be probed.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Level, Region, Role, Unit, User

STAFF_ROLES = {Role.COUNTY_REVIEWER, Role.CITY_STAFF, Role.PROVINCE_STAFF, Role.ADMIN}


def region_prefix(user: User) -> str | None:
    """The code prefix of the user's jurisdiction; '' means everything; None means nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.region_id is None:
        return "" if (user.role == Role.ADMIN or user.is_superuser) else None
    return user.region.prefix


def _prefix_filter(user: User, field: str) -> Q:
    prefix = region_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == "":
        return Q()
    return Q(**{f"{field}__startswith": prefix})


def visible_regions(user: User) -> QuerySet[Region]:
    return Region.objects.filter(_prefix_filter(user, "code"))


def visible_units(user: User) -> QuerySet[Unit]:
    # township_id *is* the township's 12-digit code, so no join is needed.
    return Unit.objects.filter(_prefix_filter(user, "township__code"))


def scope(user: User, qs: QuerySet, *, unit_field: str = "unit") -> QuerySet:
    """Restrict any queryset of objects hanging off a unit to the user's jurisdiction."""
    return qs.filter(_prefix_filter(user, f"{unit_field}__township__code"))


def scope_regions(user: User, qs: QuerySet, *, region_field: str = "region") -> QuerySet:
    """Restrict a queryset of objects keyed by region (snapshots, targets) to the jurisdiction."""
    return qs.filter(_prefix_filter(user, f"{region_field}__code"))


def in_region(qs: QuerySet, code: str, *, unit_field: str = "") -> QuerySet:
    """Narrow to the subtree of the region with this code (any level); an unknown code
    gives nothing. A filter, not a permission: combine with scope()."""
    region = Region.objects.filter(code=code).first()
    if region is None:
        return qs.none()
    field = f"{unit_field}__township__code__startswith" if unit_field else "township__code__startswith"
    return qs.filter(**{field: region.prefix})


def unit_for(user: User, unit_id) -> Unit:
    return get_object_or_404(visible_units(user).select_related("township"), pk=unit_id)


def region_for(user: User, code: str) -> Region:
    return get_object_or_404(visible_regions(user), pk=code)


def object_for(user: User, qs: QuerySet, pk, *, unit_field: str = "unit"):
    return get_object_or_404(scope(user, qs, unit_field=unit_field), pk=pk)


def can_see_region(user: User, region: Region | str) -> bool:
    code = region if isinstance(region, str) else region.code
    prefix = region_prefix(user)
    return prefix is not None and code.startswith(prefix)


def home_region(user: User) -> Region | None:
    if user.region_id:
        return user.region
    if region_prefix(user) == "":
        return Region.objects.filter(level=Level.PROVINCE).order_by("code").first()
    return None


# --- what a role may do ------------------------------------------------------------


def can_edit_units(user: User) -> bool:
    return user.role in (Role.TOWNSHIP_OFFICER, Role.ADMIN) or user.is_superuser


def can_self_assess(user: User) -> bool:
    return user.role in (Role.TOWNSHIP_OFFICER, Role.ADMIN) or user.is_superuser


def can_review(user: User) -> bool:
    return user.role in (Role.COUNTY_REVIEWER, Role.ADMIN) or user.is_superuser


def can_record_incident(user: User) -> bool:
    return user.role in (Role.TOWNSHIP_OFFICER, Role.COUNTY_REVIEWER, Role.ADMIN) or user.is_superuser


def can_judge_incident(user: User) -> bool:
    return can_review(user)


def can_inspect(user: User) -> bool:
    return user.role in STAFF_ROLES or user.is_superuser


def can_open_task(user: User) -> bool:
    """Rectification tasks: staff open them from findings, townships from hazard screening."""
    return user.role in STAFF_ROLES | {Role.TOWNSHIP_OFFICER} or user.is_superuser


def can_work_task(user: User) -> bool:
    """The responsible township reports progress and completion."""
    return user.role in (Role.TOWNSHIP_OFFICER, Role.ADMIN) or user.is_superuser


def can_verify_task(user: User, task) -> bool:
    """Only the level that opened a task closes (销号) or reopens it."""
    if user.role == Role.API_CLIENT:
        return False
    if user.is_superuser or (user.role == Role.ADMIN and user.region_id is None):
        return True
    return user.region_id is not None and user.region_id == task.opened_region_id


def visible_inspections(user: User, qs: QuerySet) -> QuerySet:
    """Inspections are for county staff and above, within their jurisdiction; townships
    see only the outcome on their units. An unannounced inspection (暗访) planned by a
    higher level is not shown to the level being inspected: only announced ones, or ones
    planned within the user's own jurisdiction, are."""
    if not can_inspect(user):
        return qs.none()
    qs = scope_regions(user, qs)
    prefix = region_prefix(user)
    if prefix:
        qs = qs.filter(Q(mode="announced") | Q(created_by__region__code__startswith=prefix))
    return qs


def can_act_on_inspection(user: User, inspection) -> bool:
    """Recording spot checks and findings belongs to the level that planned the
    inspection (or above it)."""
    if not can_inspect(user):
        return False
    prefix = region_prefix(user)
    if prefix == "":
        return True
    creator = inspection.created_by
    return (
        prefix is not None
        and creator is not None
        and creator.region_id is not None
        and creator.region_id.startswith(prefix)
    )


def is_staff_reader(user: User) -> bool:
    """County and above: dashboards, exports, recompute."""
    return user.role in STAFF_ROLES or user.is_superuser


def require(allowed: bool) -> None:
    """Refuse an action the role may not take; same 404 as a missing object."""
    if not allowed:
        raise Http404

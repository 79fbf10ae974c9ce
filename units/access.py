"""Jurisdiction: the one place that decides what a user may see and do.

Every list, detail, form, export, admin page, API endpoint — and every service, whoever
calls it — asks here. A user sees the subtree under their region's code prefix; an
administrator without a region sees everything. Lookups give the same 404 for "missing"
and "not yours", so ids of other regions' objects cannot be probed.

Two kinds of answer:
- what a user may see: `visible_*`, `scope*`, `*_for` (querysets and 404 lookups);
- what a role may do: the named predicates `can_*` / `is_*` (never a role literal
  elsewhere). `capabilities()` hands them to templates as `can.<name>`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import INCIDENT_SOURCE_KINDS, Level, Region, Role, Sector, Unit, User, valid_q

STAFF_ROLES = {Role.COUNTY_REVIEWER, Role.CITY_STAFF, Role.PROVINCE_STAFF, Role.ADMIN}


def region_prefix(user: User) -> str | None:
    """The code prefix of the user's jurisdiction; '' means everything; None means nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.region_id is None:
        return "" if (user.role == Role.ADMIN or user.is_superuser) else None
    return user.region.prefix


def region_prefixes(user: User) -> list[str] | None:
    """The code prefixes the user sees: their region's, and those of every region that
    became it (merged, split, recoded or moved into it, units.changes) — a successor sees
    its predecessors' past. [''] means everything; None nothing."""
    prefix = region_prefix(user)
    if prefix is None or prefix == "":
        return None if prefix is None else [""]
    return [prefix, *user.region.predecessor_prefixes]


def prefix_q(user: User, field: str) -> Q:
    """A filter on a code field (a region code or anything keyed by one) to the user's
    subtree (and their predecessors' subtrees)."""
    prefixes = region_prefixes(user)
    if prefixes is None:
        return Q(pk__in=[])
    if prefixes == [""]:
        return Q()
    q = Q()
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def visible_regions(user: User) -> QuerySet[Region]:
    return Region.objects.filter(prefix_q(user, "code"))


def current_regions(user: User) -> QuerySet[Region]:
    """The visible regions in force today: the choices for anything new (a unit, a
    region's parent, an inspection, an account). Regions that have ended stay visible
    (visible_regions) for their past, but nothing new is put under them."""
    return visible_regions(user).filter(valid_q(timezone.localdate()))


# --- a department's sector (行业部门监管) ----------------------------------------------


def is_department_staff(user: User) -> bool:
    return getattr(user, "role", None) == Role.DEPARTMENT_STAFF


def sector_kinds(user: User) -> list[str] | None:
    """The unit kinds a department's staff supervise (a county 教育局: schools and
    kindergartens); None for everyone else, who are not limited by kind. One query per
    request (memoized on the user object)."""
    if not is_department_staff(user):
        return None
    cached = getattr(user, "_sanling_sector", None)
    if cached is None or cached[0] != user.department_id:
        kinds = []
        if user.department_id:
            kinds = list(
                Sector.objects.filter(department_kind=user.department.kind).values_list("unit_kind", flat=True)
            )
        cached = (user.department_id, kinds)
        user._sanling_sector = cached
    return cached[1]


def record_q(user: User, *, township_field: str, kind_field: str) -> Q:
    """The rule for anything that stands for a unit — the unit itself, or a row about it
    keyed by its township and kind (an official result's unit row): inside the user's
    subtree, and for a department's staff, of a kind its sector covers."""
    q = prefix_q(user, township_field)
    kinds = sector_kinds(user)
    if kinds is not None:
        q &= Q(**{f"{kind_field}__in": kinds})
    return q


def unit_q(user: User, unit_field: str = "") -> Q:
    f = f"{unit_field}__" if unit_field else ""
    # the township's code is its primary key: township__code is the unit's own column, no join
    return record_q(user, township_field=f"{f}township__code", kind_field=f"{f}kind")


def visible_units(user: User) -> QuerySet[Unit]:
    return Unit.objects.filter(unit_q(user))


def scope(
    user: User,
    qs: QuerySet,
    *,
    unit_field: str = "unit",
    township_field: str | None = None,
    department_field: str | tuple[str, ...] | None = None,
) -> QuerySet:
    """Restrict any queryset of objects hanging off a unit to the user's jurisdiction.
    With `township_field`, the object is placed by its own township (a rectification task
    may be a township's, with no unit) and a sector's kinds are matched on its unit. With
    `department_field`, a department's staff also see the objects of their department
    (the incidents it recorded, the tasks it leads or cooperates in)."""
    if township_field:
        q = record_q(user, township_field=f"{township_field}__code", kind_field=f"{unit_field}__kind")
    else:
        q = unit_q(user, unit_field)
    if department_field and is_department_staff(user) and user.department_id:
        fields = (department_field,) if isinstance(department_field, str) else department_field
        for field in fields:
            q |= Q(**{field: user.department_id})
        if len(fields) > 1:  # a many-to-many among them: one row per object
            return qs.filter(pk__in=qs.filter(q).values("pk"))
    return qs.filter(q)


def reads_region_figures(user: User) -> bool:
    """Whole regions' figures (snapshots, daily figures, official region rows, targets):
    everyone in their jurisdiction but a department's staff, who read only their
    sector's (reports.selectors.sector_rows)."""
    return not is_department_staff(user)


def scope_regions(user: User, qs: QuerySet, *, region_field: str = "region") -> QuerySet:
    """Restrict a queryset of objects keyed by region (snapshots, targets) to the
    jurisdiction (none for whom reads_region_figures is false)."""
    if not reads_region_figures(user):
        return qs.none()
    return qs.filter(prefix_q(user, f"{region_field}__code"))


def scope_regions_sql(user: User, column: str) -> tuple[str, list]:
    """scope_regions as a condition for a statement written by hand (a hot read path that
    skips the ORM): `column` holds a region code. The same answer from the same rules —
    reads_region_figures and region_prefixes — as (sql, params)."""
    prefixes = region_prefixes(user) if reads_region_figures(user) else None
    if prefixes is None:
        return "1 = 0", []
    if prefixes == [""]:
        return "1 = 1", []
    # the range lets an index on the column answer (codes are 12 digits: the bounds hold
    # in every collation); the prefix test keeps the meaning exact for any value
    terms, params = [], []
    for p in prefixes:
        terms.append(f"({column} BETWEEN %s AND %s AND substr({column}, 1, {len(p)}) = %s)")
        params += [p.ljust(12, "0"), p.ljust(12, "9"), p]
    return f"({' OR '.join(terms)})", params


def created_within(user: User, *, by_field: str) -> Q:
    """Objects created by someone whose own region lies inside the user's jurisdiction
    (`by_field` names the creating user)."""
    prefix = region_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == "":
        return Q()
    return Q(**{f"{by_field}__region__code__startswith": prefix})


def subtree_q(code: str, *, unit_field: str = "") -> Q:
    """Objects under the region with this code (any level): a filter, not a permission —
    combine with scope(). An unknown code matches nothing."""
    region = Region.objects.filter(code=code).only("code", "level").first()
    if region is None:
        return Q(pk__in=[])
    field = f"{unit_field}__township__code" if unit_field else "township__code"
    return Q(**{f"{field}__startswith": region.prefix})


def in_region(qs: QuerySet, code: str, *, unit_field: str = "") -> QuerySet:
    return qs.filter(subtree_q(code, unit_field=unit_field))


def _get(qs: QuerySet, **lookup):
    """get_object_or_404, with an id that is no id at all ("abc", a list) a 404 too."""
    try:
        return get_object_or_404(qs, **lookup)
    except (ValueError, TypeError, ValidationError):
        raise Http404 from None


def unit_for(user: User, unit_id, *, for_update: bool = False) -> Unit:
    qs = visible_units(user).select_related("township")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    return _get(qs, pk=unit_id)


def region_for(user: User, code: str) -> Region:
    return _get(visible_regions(user), pk=code)


def object_for(
    user: User,
    qs: QuerySet,
    pk,
    *,
    unit_field: str = "unit",
    township_field: str | None = None,
    department_field: str | tuple[str, ...] | None = None,
    for_update: bool = False,
):
    """An object hanging off a unit, if the user may see it (404 otherwise)."""
    qs = scope(user, qs, unit_field=unit_field, township_field=township_field, department_field=department_field)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    return _get(qs, pk=pk)


def can_see_region(user: User, region: Region | str) -> bool:
    code = region if isinstance(region, str) else region.code
    prefixes = region_prefixes(user)
    return prefixes is not None and any(code.startswith(p) for p in prefixes)


def require_region(user: User, region: Region | str) -> None:
    """For services: a region outside the jurisdiction is a 404, like a missing one."""
    if not can_see_region(user, region):
        raise Http404


def home_region(user: User) -> Region | None:
    if user.region_id:
        return user.region
    if region_prefix(user) == "":
        return Region.objects.filter(level=Level.PROVINCE).order_by("code").first()
    return None


# --- what a role may do ------------------------------------------------------------


def _superuser(user: User) -> bool:
    return bool(user.is_superuser)


def is_township_officer(user: User) -> bool:
    return user.role == Role.TOWNSHIP_OFFICER


def is_api_client(user: User) -> bool:
    return user.role == Role.API_CLIENT


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN or _superuser(user)


def is_staff_reader(user: User) -> bool:
    """County and above: dashboards, exports, the published list, recompute."""
    return user.role in STAFF_ROLES or _superuser(user)


def can_see_actions(user: User) -> bool:
    """Special actions' progress: staff (county and above) and the departments that carry
    the actions out."""
    return is_staff_reader(user) or is_department_staff(user)


def can_appraise(user: User) -> bool:
    """The appraisal (考核), its ranking, circular and commendation: staff of county and
    above (a county sees its own, a city ranks its counties, the province its cities)."""
    return is_staff_reader(user) and not is_api_client(user)


def can_see_dashboards(user: User) -> bool:
    """Dashboards and the township unit ledger: staff, and township officers for their own."""
    return is_staff_reader(user) or is_township_officer(user)


def can_edit_units(user: User) -> bool:
    return user.role in (Role.TOWNSHIP_OFFICER, Role.ADMIN) or _superuser(user)


def can_self_assess(user: User) -> bool:
    return user.role in (Role.TOWNSHIP_OFFICER, Role.ADMIN) or _superuser(user)


# the level at which a staff role reviews (层层审核)
ROLE_LEVEL = {Role.COUNTY_REVIEWER: Level.COUNTY, Role.CITY_STAFF: Level.CITY, Role.PROVINCE_STAFF: Level.PROVINCE}


def review_level_of(user: User) -> str | None:
    """The review level the user acts at: their role's (a region-scoped administrator:
    their region's level); None for one who acts at every level (an administrator
    without a region) or at none."""
    if _superuser(user) or (user.role == Role.ADMIN and user.region_id is None):
        return None
    if user.role == Role.ADMIN:
        return user.region.level
    level = ROLE_LEVEL.get(user.role)
    return None if level is None else level.value


def can_review(user: User) -> bool:
    """Some level of the review chain (county, city, province staff; administrators)."""
    return user.role in (*ROLE_LEVEL, Role.ADMIN) or _superuser(user)


def can_review_at(user: User, level: str) -> bool:
    """May decide at this level of the chain: a reviewer of that level, or an
    administrator without a region (every level)."""
    if not can_review(user):
        return False
    if _superuser(user) or (user.role == Role.ADMIN and user.region_id is None):
        return True
    return review_level_of(user) == level


def can_see_review_queue(user: User) -> bool:
    return can_review(user) or is_staff_reader(user)


def can_record_incident(user: User) -> bool:
    """Townships and the county; and the 信访, 公安 and 应急 departments, where petitions,
    cases and accidents are known first."""
    if is_department_staff(user):
        return bool(user.department_id) and user.department.kind in INCIDENT_SOURCE_KINDS
    return user.role in (Role.TOWNSHIP_OFFICER, Role.COUNTY_REVIEWER, Role.ADMIN) or _superuser(user)


def incident_units(user: User) -> QuerySet[Unit]:
    """The units the user may record an incident for: their own; for the 信访, 公安 and 应急
    departments, every unit of their region (whatever its sector)."""
    if is_department_staff(user) and can_record_incident(user):
        return Unit.objects.filter(prefix_q(user, "township__code"))
    return visible_units(user)


def incident_unit_for(user: User, unit_id) -> Unit:
    return _get(incident_units(user).select_related("township"), pk=unit_id)


def can_judge_incident(user: User) -> bool:
    """The county confirms or dismisses incidents (and administrators)."""
    return user.role in (Role.COUNTY_REVIEWER, Role.ADMIN) or _superuser(user)


def can_inspect(user: User) -> bool:
    return user.role in STAFF_ROLES or _superuser(user)


def can_open_task(user: User) -> bool:
    """Rectification tasks: staff open them from findings, townships from hazard screening."""
    return user.role in STAFF_ROLES | {Role.TOWNSHIP_OFFICER} or _superuser(user)


def can_work_task(user: User) -> bool:
    """The responsible township reports progress and completion; a department works the
    tasks it leads (supervision.workflow checks which)."""
    return user.role in (Role.TOWNSHIP_OFFICER, Role.DEPARTMENT_STAFF, Role.ADMIN) or _superuser(user)


def can_verify_in(user: User, opened_region_code: str) -> bool:
    """Only the level that opened a task closes (销号) or reopens it; an administrator
    without a region stands for every level."""
    if is_api_client(user) or is_department_staff(user):
        return False  # a department works a task; the level that opened it closes it
    if _superuser(user) or (user.role == Role.ADMIN and user.region_id is None):
        return True
    return user.region_id is not None and user.region_id == opened_region_code


def acts_for_campaign(user: User, scope_code: str) -> bool:
    """The campaign's own level: staff of its scope region (or an administrator without a
    region) close a year, decide appeals and publish (发文命名)."""
    if is_api_client(user):
        return False
    if _superuser(user) or (user.role == Role.ADMIN and user.region_id is None):
        return True
    return user.role in STAFF_ROLES and user.region_id == scope_code


def acts_for_creator(user: User, creator: User | None) -> bool:
    """A record belongs to the level that created it, and to the levels above: the user's
    jurisdiction contains the creator's own region."""
    prefix = region_prefix(user)
    if prefix == "":
        return True
    return (
        prefix is not None
        and creator is not None
        and creator.region_id is not None
        and creator.region_id.startswith(prefix)
    )


# 账号管理 without the Django admin: each level manages the accounts of the levels below it
# in its own region (a county its townships' officers; a city also its counties' reviewers,
# its departments' staff and its API clients; the province also its cities' staff);
# administrators every role of their region.
MANAGED_ROLES = {
    Role.COUNTY_REVIEWER: {Role.TOWNSHIP_OFFICER},
    Role.CITY_STAFF: {Role.TOWNSHIP_OFFICER, Role.COUNTY_REVIEWER, Role.DEPARTMENT_STAFF, Role.API_CLIENT},
    Role.PROVINCE_STAFF: {
        Role.TOWNSHIP_OFFICER,
        Role.COUNTY_REVIEWER,
        Role.CITY_STAFF,
        Role.DEPARTMENT_STAFF,
        Role.API_CLIENT,
    },
}


def manageable_roles(user: User) -> set[str]:
    if is_admin(user):
        return set(Role.values)
    return {str(r) for r in MANAGED_ROLES.get(user.role, ())}


def can_manage_accounts(user: User) -> bool:
    return bool(manageable_roles(user))


def managed_accounts(user: User) -> QuerySet[User]:
    """The accounts the user manages: of the roles below theirs, in their region (never
    their own, never the whole portal's administrator)."""
    prefix = region_prefix(user)
    roles = manageable_roles(user)
    if prefix is None or not roles:
        return User.objects.none()
    qs = User.objects.filter(role__in=roles).exclude(pk=user.pk)
    if prefix:
        qs = qs.filter(region__code__startswith=prefix)
    if not _superuser(user):
        qs = qs.exclude(is_superuser=True)
    return qs


def account_for(user: User, pk) -> User:
    return _get(managed_accounts(user).select_related("region", "department"), pk=pk)


def can_manage_tokens(user: User) -> bool:
    """Tokens of API-client accounts: administrators, and the staff who manage API clients."""
    return (is_admin(user) and user.is_staff) or Role.API_CLIENT in manageable_roles(user)


def can_create_regions(user: User) -> bool:
    return is_admin(user)


def require(allowed: bool) -> None:
    """Refuse an action the role may not take; same 404 as a missing object."""
    if not allowed:
        raise Http404


# For templates: `{% if can.review %}`. Each entry is one predicate above.
CAPABILITIES = {
    "department": is_department_staff,
    "see_actions": can_see_actions,
    "appraise": can_appraise,
    "edit_units": can_edit_units,
    "self_assess": can_self_assess,
    "review": can_review,
    "see_review_queue": can_see_review_queue,
    "record_incident": can_record_incident,
    "judge_incident": can_judge_incident,
    "inspect": can_inspect,
    "open_task": can_open_task,
    "work_task": can_work_task,
    "read_staff": is_staff_reader,
    "see_dashboards": can_see_dashboards,
    "township": is_township_officer,
    "api_client": is_api_client,
    "admin": is_admin,
    "manage_accounts": can_manage_accounts,
}


class Capabilities:
    """What the user's role may do, computed when a template asks."""

    def __init__(self, user: User):
        self._user = user

    def __getitem__(self, name: str) -> bool:
        if not getattr(self._user, "is_authenticated", False):
            return False
        return CAPABILITIES[name](self._user)


def capabilities(request) -> dict:
    """Context processor: `can` in every template."""
    return {"can": Capabilities(request.user)}

"""Writes to regions, units, users and tokens: atomic, keyword-only, audited.

Each service checks the acting user's role and jurisdiction itself (units.access), so a
view or endpoint that forgot to cannot widen it; `by=None` is the system itself (a
management command), which acts everywhere. Changes to units are announced with
units.events.units_changed after commit, for the roll-up.
"""

from __future__ import annotations

import datetime as dt
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from sanling.kernel.events import send_after_commit

from . import access
from .audit import audit
from .events import units_changed
from .models import ApiToken, Level, Region, Role, TokenScope, Unit, UnitState, User


def _may(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _changed(action: str, units: list[Unit], effective_on: dt.date, townships: set[str] | None = None) -> None:
    send_after_commit(
        units_changed,
        sender=Unit,
        action=action,
        unit_ids=[u.pk for u in units],
        townships=sorted(townships or {u.township_id for u in units}),
        effective_on=effective_on,
    )


def _effective(day: dt.date | None) -> dt.date:
    return day or timezone.localdate()


def _begin_state(unit: Unit, effective_on: dt.date) -> list[str]:
    """Before a unit's township, kind or active state changes: keep the state it had until
    the day before (units.history), so the years before count it as it was. Returns the
    fields to save with the change."""
    since = unit.state_since
    if since is not None and effective_on < since:
        raise ServiceError(
            {
                "effective_on": [
                    _("生效日期 %(d)s 早于该单位当前状态的起始日期 %(s)s。")
                    % {"d": effective_on.isoformat(), "s": since.isoformat()}
                ]
            }
        )
    if since is None or since < effective_on:
        UnitState.objects.create(
            unit=unit,
            township_id=unit.township_id,
            kind=unit.kind,
            category=unit.category,
            active=unit.active,
            valid_from=since,
            valid_to=effective_on - dt.timedelta(days=1),
        )
    unit.state_since = effective_on
    return ["state_since"]


@transaction.atomic
def region_create(
    *, code: str, name: str, level: str, parent: Region | None, by: User | None, is_demo: bool = False
) -> Region:
    if by is not None:
        _may(access.can_create_regions(by), _("只有管理员可以新增区划。"))
        # within the administrator's own region, with the same answer for a code or parent
        # that is missing and one that is not theirs
        if not access.can_see_region(by, code) or (parent is not None and not access.can_see_region(by, parent)):
            raise ServiceError({"code": [_("区划代码 %(c)s 不在您的管辖范围内。") % {"c": code}]})
        if parent is None and access.region_prefix(by) != "":
            raise ServiceError({"parent_code": [_("请指定上级区划：只有全省管理员可以新增省级区划。")]})
    if Region.objects.filter(code=code).exists():
        raise ServiceError({"code": [_("区划代码 %(c)s 已存在。") % {"c": code}]})
    if parent is not None:
        _require_in_force(parent, "parent_code")
    region = Region(code=code, name=name, level=level, parent=parent, is_demo=is_demo)
    region.full_clean()
    region.save()
    audit(actor=by, action="region.created", target=region)
    return region


def _require_in_force(region: Region, field: str) -> None:
    """Nothing new under a region that has ended (read afresh: the caller's copy may
    predate the change that ended it)."""
    row = Region.objects.filter(pk=region.pk).values("name", "valid_from", "valid_to").first()
    today = timezone.localdate()
    if row and row["valid_to"] is not None and row["valid_to"] < today:
        raise ServiceError(
            {field: [_("“%(r)s”已于 %(d)s 撤销，请选择现在的区划。") % {"r": row["name"], "d": row["valid_to"]}]}
        )
    if row and row["valid_from"] is not None and row["valid_from"] > today:
        raise ServiceError({field: [_("“%(r)s”自 %(d)s 起才设立。") % {"r": row["name"], "d": row["valid_from"]}]})


def _township_for(by: User | None, township: Region) -> Region:
    if by is not None:
        access.require_region(by, township)
    return township


@transaction.atomic
def unit_register(
    *,
    township: Region,
    code: str,
    name: str,
    kind: str,
    by: User | None,
    address: str = "",
    contact_person: str = "",
    contact_phone: str = "",
    credit_code: str = "",
) -> Unit:
    if by is not None:
        _may(access.can_edit_units(by), _("您的角色不能登记单位。"))
    today = timezone.localdate()
    _require_in_force(township, "township")
    unit = Unit(
        township=_township_for(by, township),
        code=code,
        name=name,
        kind=kind,
        address=address,
        contact_person=contact_person,
        contact_phone=contact_phone,
        credit_code=(credit_code or "").strip().upper() or None,
        state_since=today,  # it did not exist before: the years before do not count it
    )
    unit.full_clean()
    unit.save()
    audit(actor=by, action="unit.registered", target=unit)
    _changed("registered", [unit], today)
    return unit


UNIT_EDITABLE_FIELDS = ("name", "kind", "address", "contact_person", "contact_phone", "credit_code")


def _locked_unit(unit: Unit, by: User | None) -> Unit:
    if by is None:
        return Unit.objects.select_for_update().get(pk=unit.pk)
    _may(access.can_edit_units(by), _("您的角色不能修改单位。"))
    return access.unit_for(by, unit.pk, for_update=True)


@transaction.atomic
def unit_update(*, unit: Unit, by: User | None, effective_on: dt.date | None = None, **fields) -> Unit:
    """Name, contacts, credit code — and kind, which is part of the unit's state: a new
    kind takes effect on `effective_on` (today); the years before keep the old one."""
    unit = _locked_unit(unit, by)
    effective_on = _effective(effective_on)
    if "credit_code" in fields:
        fields["credit_code"] = (fields["credit_code"] or "").strip().upper() or None
    changed, extra = {}, []
    for key, value in fields.items():
        if key not in UNIT_EDITABLE_FIELDS:
            raise ValueError(f"field {key} is not editable")
        if getattr(unit, key) != value:
            if key == "kind":
                extra = _begin_state(unit, effective_on)
            changed[key] = [getattr(unit, key), value]
            setattr(unit, key, value)
    if changed:
        unit.full_clean()
        unit._history_user = by
        unit.save(update_fields=[*changed, *extra])
        audit(actor=by, action="unit.updated", target=unit, detail={"changed": changed})
        # a new kind can move the unit to the other category
        _changed("rekinded" if "kind" in changed else "updated", [unit], effective_on)
    return unit


@transaction.atomic
def unit_set_active(*, unit: Unit, active: bool, by: User | None, effective_on: dt.date | None = None) -> Unit:
    """Archive or restore from `effective_on` (today); the years before keep the state."""
    unit = _locked_unit(unit, by)
    effective_on = _effective(effective_on)
    if unit.active != active:
        extra = _begin_state(unit, effective_on)
        unit.active = active
        unit._history_user = by
        unit.save(update_fields=["active", *extra])
        action = "restored" if active else "archived"
        audit(actor=by, action=f"unit.{action}", target=unit, detail={"effective_on": effective_on.isoformat()})
        _changed(action, [unit], effective_on)
    return unit


@transaction.atomic
def unit_move(*, unit: Unit, township: Region, by: User | None, effective_on: dt.date | None = None) -> Unit:
    """Move a unit to another township from `effective_on` (today): an operation of the
    unit's history — the years before count it in its old township. The unit keeps its
    code (its identity); the new township must be within the mover's jurisdiction."""
    unit = _locked_unit(unit, by)
    effective_on = _effective(effective_on)
    _township_for(by, township)
    if township.level != Level.TOWNSHIP:
        raise ServiceError({"township": [_("单位只能属于乡镇/街道。")]})
    if township.code == unit.township_id:
        return unit
    if not township.valid_on(effective_on):
        raise ServiceError(
            {"township": [_("“%(t)s”在 %(d)s 不是有效的乡镇/街道。") % {"t": township.name, "d": effective_on}]}
        )
    old = unit.township_id
    extra = _begin_state(unit, effective_on)
    unit.township = township
    unit._history_user = by
    unit.save(update_fields=["township", *extra])
    audit(
        actor=by,
        action="unit.moved",
        target=unit,
        detail={"from": old, "to": township.code, "effective_on": effective_on.isoformat()},
    )
    _changed("moved", [unit], effective_on, townships={old, township.code})
    return unit


def units_imported(*, units: list[Unit]) -> None:
    """Announce units registered in bulk (units.imports writes and audits them)."""
    _changed("imported", units, timezone.localdate())


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    region: Region | None,
    password: str,
    by: User | None = None,
    validate: bool = True,
    **extra,
) -> User:
    if by is not None:
        _may(role in access.manageable_roles(by), _("您不能新增该角色的账号：各级只管理下级的账号。"))
        if region is None and access.region_prefix(by) != "":
            raise ServiceError({"region": [_("请选择您管辖范围内的区划。")]})
        if region is not None:
            access.require_region(by, region)
    user = User(username=username, role=role, region=region, **extra)
    if role == Role.ADMIN:
        # an administrator of a region is staff in its region, not a superuser: only the
        # administrator of the whole portal (no region) is
        user.is_staff = True
        user.is_superuser = region is None
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit(actor=by, action="user.created", target=user, detail={"role": role, "region": region.code if region else ""})
    return user


ACCOUNT_FIELDS = ("first_name", "email")


@transaction.atomic
def user_update(*, user: User, by: User, ip: str | None = None, **fields) -> User:
    """A managed account's name and mail address (its role and region stay: a new post is
    a new account)."""
    user = access.account_for(by, user.pk)
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改：%(f)s。") % {"f": "、".join(sorted(unknown))})
    before = {f: getattr(user, f) for f in fields}
    for f, v in fields.items():
        setattr(user, f, (v or "").strip())
    if not user.first_name:
        raise ServiceError({"first_name": [_("请填写姓名。")]})
    user.full_clean()
    user.save(update_fields=list(fields))
    changed = {f: [before[f], getattr(user, f)] for f in fields if before[f] != getattr(user, f)}
    if changed:
        audit(actor=by, action="user.updated", target=user, detail=changed, ip=ip)
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User, ip: str | None = None) -> User:
    """停用/启用 a managed account; a deactivated one's tokens are revoked (units.signals)."""
    user = access.account_for(by, user.pk)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit(actor=by, action="user.activated" if active else "user.deactivated", target=user, ip=ip)
    return user


@transaction.atomic
def user_password_reset(*, user: User, by: User, ip: str | None = None) -> tuple[User, str]:
    """A new random password for a managed account, shown once to the one who reset it
    (who hands it over); the old one and the account's tokens stop working at once."""
    user = access.account_for(by, user.pk)
    password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(actor=by, action="user.password_reset", target=user, ip=ip)
    return user, password


# --- API tokens --------------------------------------------------------------------


@transaction.atomic
def token_for_login(*, user: User, ip: str | None = None) -> str:
    """A new token for a user who just proved their password (auth/token/): it lasts a
    working day (REST_KNOX TOKEN_TTL). An API client's carries the statistics scope; a
    person's reads what the person may read."""
    scope = TokenScope.STATISTICS if access.is_api_client(user) else TokenScope.RECORDS
    token, raw = ApiToken.objects.create(user=user, scope=scope)
    audit(actor=user, action="token.issued", target=user, detail={"scope": scope, "via": "login"}, ip=ip)
    return raw


def _token_subject(by: User, username: str, **filters) -> User:
    _may(access.can_manage_tokens(by), _("您的角色不能管理令牌。"))
    # the accounts `by` manages: their own region's, of the roles below theirs
    user = access.managed_accounts(by).filter(username=username, **filters).first()
    if user is None:
        raise Http404
    return user


@transaction.atomic
def token_issue(
    *, username: str, by: User, scope: str = TokenScope.STATISTICS, ip: str | None = None
) -> tuple[User, str]:
    """A new token for an API-client account, replacing any old one; shown once (only its
    digest is kept), valid for API_CLIENT_TOKEN_DAYS."""
    if scope not in TokenScope.values:
        raise ServiceError(
            {"scope": [_("未知的令牌范围“%(s)s”，可选：%(all)s。") % {"s": scope, "all": "、".join(TokenScope.values)}]}
        )
    user = _token_subject(by, username)
    if user.role != Role.API_CLIENT:
        # an account the administrator may manage, so nothing is revealed by saying why
        raise ServiceError(
            {
                "username": [
                    _("“%(u)s”是%(r)s账号：令牌只发给接口客户端账号；人员登录后可用 auth/token/ 换取自己的令牌。")
                    % {"u": user.username, "r": Role(user.role).label}
                ]
            }
        )
    ApiToken.objects.filter(user=user).delete()
    _token, raw = ApiToken.objects.create(user=user, scope=scope, expiry=timedelta(days=settings.API_CLIENT_TOKEN_DAYS))
    audit(actor=by, action="token.issued", target=user, detail={"scope": scope}, ip=ip)
    return user, raw


@transaction.atomic
def token_revoke(*, username: str, by: User, ip: str | None = None) -> User:
    user = _token_subject(by, username)
    n, _deleted = ApiToken.objects.filter(user=user).delete()
    audit(actor=by, action="token.revoked", target=user, detail={"tokens": n}, ip=ip)
    return user

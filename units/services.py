"""Writes to regions, units and users: atomic, keyword-only, audited."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .audit import audit
from .models import Region, Unit, User


@transaction.atomic
def region_create(
    *, code: str, name: str, level: str, parent: Region | None, by: User | None, is_demo: bool = False
) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent, is_demo=is_demo)
    region.full_clean()
    region.save()
    audit(actor=by, action="region.created", target=region)
    return region


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
) -> Unit:
    unit = Unit(
        township=township,
        code=code,
        name=name,
        kind=kind,
        address=address,
        contact_person=contact_person,
        contact_phone=contact_phone,
    )
    unit.full_clean()
    unit.save()
    audit(actor=by, action="unit.registered", target=unit)
    return unit


UNIT_EDITABLE_FIELDS = ("name", "kind", "address", "contact_person", "contact_phone")


@transaction.atomic
def unit_update(*, unit: Unit, by: User | None, **fields) -> Unit:
    changed = {}
    for key, value in fields.items():
        if key not in UNIT_EDITABLE_FIELDS:
            raise ValueError(f"field {key} is not editable")
        if getattr(unit, key) != value:
            changed[key] = [getattr(unit, key), value]
            setattr(unit, key, value)
    if changed:
        unit.full_clean()
        unit.save(update_fields=list(changed))
        audit(actor=by, action="unit.updated", target=unit, detail={"changed": changed})
    return unit


@transaction.atomic
def unit_set_active(*, unit: Unit, active: bool, by: User | None) -> Unit:
    if unit.active != active:
        unit.active = active
        unit.save(update_fields=["active"])
        audit(actor=by, action="unit.restored" if active else "unit.archived", target=unit)
    return unit


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
    user = User(username=username, role=role, region=region, **extra)
    if role == "admin":
        user.is_staff = True
        user.is_superuser = True
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit(actor=by, action="user.created", target=user, detail={"role": role, "region": region.code if region else ""})
    return user

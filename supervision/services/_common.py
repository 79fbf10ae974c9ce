"""Shared by the supervision services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from sanling.kernel.errors import ServiceError
from units import access
from units.models import Region, User


def may(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def in_jurisdiction(user: User, region: Region) -> None:
    if not access.can_see_region(user, region):
        raise ServiceError({"region": [_("“%(r)s”不在您的管辖范围内。") % {"r": region.name}]})

"""The API's permission classes. Kept apart from sanling.kernel.api: DRF imports its
default permission classes while its own views module is still loading."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import permissions

STATISTICS = "statistics"


def token_scope(request) -> str | None:
    """The scope of an API client's request: its token's, or — without a token (a signed-in
    session) — the narrowest, statistics."""
    return getattr(request.auth, "scope", None) or STATISTICS


class ReadOnlyForApiClients(permissions.IsAuthenticated):
    """Signed-in users only; API-client accounts read, only people write; and an API
    client reads only what its token's scope covers: a view declares `client_scope`
    ("statistics" for figures, regions, campaigns and standards; "records", the default,
    for units, assessments, incidents and tasks — contacts and incident text)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not getattr(request.user, "is_api_client", False):
            return True
        if request.method not in permissions.SAFE_METHODS:
            self.message = _("接口客户端账号为只读。")
            return False
        needed = getattr(view, "client_scope", "records")
        if needed != STATISTICS and token_scope(request) == STATISTICS:
            self.message = _("该令牌的范围为“统计数据”，不能读取业务数据。")
            return False
        return True

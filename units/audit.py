from __future__ import annotations

from django.db import models

from .models import AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit(
    *, actor, action: str, target: models.Model | None = None, detail: dict | None = None, ip: str | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if (actor is not None and actor.is_authenticated) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        detail=detail or {},
        ip=ip,
    )


def axes_username(request, credentials) -> str | None:
    """Username for django-axes: from the authenticate() credentials (JSON API logins
    have no form POST), else from the login form."""
    if credentials and credentials.get("username"):
        return credentials["username"]
    return request.POST.get("username") if request is not None else None


def axes_lockout(request, original_response=None, credentials=None):
    """The lock-out answer: JSON in the API's error shape for API clients, the page otherwise."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    message = _("登录失败次数过多，账号已暂时锁定。请稍后再试或联系管理员解锁。")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)

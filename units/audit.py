"""The audit trail: one append-only, hash-chained row per action (units.models.AuditEvent)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from sanling.kernel.http import client_ip  # noqa: F401 - the one client address, re-exported for the apps

from .models import GENESIS, AuditEvent

# One chain, one writer at a time: the lock is held until the writing transaction ends,
# so the next row links to a committed one. (SQLite serialises writers itself: its
# transactions begin IMMEDIATE, settings.base.)
CHAIN_LOCK = 0x5A4E_4C47


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def audit(
    *, actor, action: str, target: models.Model | None = None, detail: dict | None = None, ip: str | None = None
) -> AuditEvent:
    user = actor if (actor is not None and actor.is_authenticated) else None
    with transaction.atomic():
        _lock_chain()
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
        ev = AuditEvent(
            at=timezone.now(),
            actor=user,
            actor_name=user.get_username() if user else "",
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            detail=detail or {},
            # as the database will store it (IPv6 normalised), so the hash stays true
            ip=AuditEvent._meta.get_field("ip").get_prep_value(ip) or None,
            prev_hash=prev,
        )
        ev.hash = ev.compute_hash()
        ev.save(force_insert=True)
    return ev


@dataclass(frozen=True)
class Break:
    id: int
    reason: str


def verify_chain(*, chunk: int = 5000) -> Iterator[Break]:
    """Walk the trail in order; yield each row whose content no longer matches its hash
    or whose link does not name the row before it."""
    prev = GENESIS
    for ev in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk):
        if ev.prev_hash != prev:
            yield Break(ev.id, "link: the row before it was changed, removed or inserted")
        if ev.compute_hash() != ev.hash:
            yield Break(ev.id, "content: the row was changed after it was written")
        prev = ev.hash


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

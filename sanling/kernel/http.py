"""The client's address, decided once for the audit trail, the login lock-out and the API
throttles. Behind N proxies you trust (nginx in front: TRUSTED_PROXIES=1) it is the
address the nearest trusted proxy saw — the N-th entry from the right of
X-Forwarded-For, as DRF counts NUM_PROXIES. With TRUSTED_PROXIES=0 (the default) the
header is ignored entirely: a client cannot pick its own address by sending one."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    if request is None:
        return None
    meta = request.META
    proxies = int(getattr(settings, "TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return meta.get("REMOTE_ADDR") or None


def axes_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the same address for the lock-out."""
    return client_ip(request)

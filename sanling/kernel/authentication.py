"""API authentication: django-rest-knox tokens (only a digest is stored; they expire), with
the answer remembered in the cache for a minute so the busiest read endpoints skip the
lookup. Kept apart from sanling.kernel.api: DRF imports authentication classes while its
own views module is still loading.

The cache is keyed by the token's digest — the hash knox computes anyway — so a revoked
token, or the tokens of a user deactivated, moved or given a new password, can be
forgotten at once (units.signals) without ever knowing the token itself. The cached copy
of the user carries no password hash.
"""

from __future__ import annotations

import binascii
import copy

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions

# A bound on staleness for changes that bypass the signals (queryset.update()).
TOKEN_CACHE_SECONDS = 60


def token_cache_key(digest: str) -> str:
    return "auth:token:" + digest


def forget_token(digest: str) -> None:
    cache.delete(token_cache_key(digest))


class TokenAuthentication(KnoxAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            digest = hash_token(token.decode("utf-8"))
        except (TypeError, UnicodeDecodeError, binascii.Error):
            raise exceptions.AuthenticationFailed(_("无效的令牌。")) from None
        key = token_cache_key(digest)
        hit = cache.get(key)
        if hit is not None:
            user, auth = hit
            if auth.expiry is None or auth.expiry > timezone.now():
                return user, auth
            cache.delete(key)
        try:
            user, auth = super().authenticate_credentials(token)
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed(_("无效的令牌，或令牌已过期、已撤销。")) from None
        cached_user = copy.copy(user)
        cached_user.password = ""  # noqa: S105 - the cached copy must not carry the hash
        if cached_user.region_id:
            cached_user.region  # noqa: B018 - load it now: every scoped queryset needs it
        cached_auth = copy.copy(auth)
        cached_auth.user = cached_user
        cache.set(key, (cached_user, cached_auth), TOKEN_CACHE_SECONDS)
        return user, auth


class TokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token (drf-spectacular)."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: from auth/token/ (a working day) or issued by an administrator "
            "for an API client (scope statistics or records; shown once; expires)",
        }

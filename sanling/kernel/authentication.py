"""API authentication. Kept apart from sanling.kernel.api: DRF imports authentication classes
while its own views module is still loading."""

import copy
import hashlib

from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

# A bound on staleness for changes that bypass the signals below (queryset.update()).
TOKEN_CACHE_SECONDS = 60


def token_cache_key(key: str) -> str:
    return "auth:token:" + hashlib.sha256(key.encode()).hexdigest()


def forget_token(key: str) -> None:
    cache.delete(token_cache_key(key))


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, loading the user's region in the same query (every
    scoped queryset needs it), and remembering the answer in the cache for a minute so
    the busiest read endpoints skip the lookup. A revoked or reissued token, or a user
    deactivated or moved to another region, is forgotten at once (units.signals); the
    cached copy carries no password hash."""

    def authenticate_credentials(self, key):
        from rest_framework.authtoken.models import Token

        ck = token_cache_key(key)
        user = cache.get(ck)
        if user is None:
            try:
                token = Token.objects.select_related("user__region").get(key=key)
            except Token.DoesNotExist:
                raise exceptions.AuthenticationFailed(_("无效的令牌。")) from None
            user = token.user
            if user.is_active:
                cached = copy.copy(user)
                cached.password = ""  # noqa: S105 - the cached copy must not carry the hash
                cache.set(ck, cached, TOKEN_CACHE_SECONDS)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("用户已停用。"))
        return user, key

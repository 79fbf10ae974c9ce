"""API authentication. Kept apart from sanling.api: DRF imports authentication classes
while its own views module is still loading."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, loading the user's region in the same query (every
    scoped queryset needs it)."""

    def authenticate_credentials(self, key):
        from rest_framework.authtoken.models import Token

        try:
            token = Token.objects.select_related("user__region").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("无效的令牌。")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("用户已停用。"))
        return token.user, token

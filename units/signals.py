"""Record logins and failed logins in the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .audit import audit, client_ip


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit(actor=user, action="auth.login", target=user, ip=client_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit(
        actor=None,
        action="auth.login_failed",
        detail={"username": credentials.get("username", "")},
        ip=client_ip(request),
    )


def _forget_tokens_of(user_id) -> None:
    from rest_framework.authtoken.models import Token

    from sanling.kernel.authentication import forget_token

    for key in Token.objects.filter(user_id=user_id).values_list("key", flat=True):
        forget_token(key)


def _connect_token_cache() -> None:
    """Cached token → user answers (sanling.kernel.authentication) are dropped when the token is
    deleted or reissued, or its user changes (deactivated, new role or region)."""
    from django.db import transaction
    from django.db.models.signals import post_delete, post_save
    from rest_framework.authtoken.models import Token

    from sanling.kernel.authentication import forget_token

    from .models import User

    # Now and again after commit: a request between the two could cache the old row.
    def token_changed(sender, instance, **kwargs):
        key = instance.key
        forget_token(key)
        transaction.on_commit(lambda: forget_token(key))

    def user_changed(sender, instance, **kwargs):
        if instance.pk:
            pk = instance.pk
            _forget_tokens_of(pk)
            transaction.on_commit(lambda: _forget_tokens_of(pk))

    post_save.connect(token_changed, sender=Token, weak=False, dispatch_uid="sanling-token-saved")
    post_delete.connect(token_changed, sender=Token, weak=False, dispatch_uid="sanling-token-deleted")
    post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="sanling-user-saved")


_connect_token_cache()

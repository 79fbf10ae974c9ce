"""Record logins and failed logins in the audit trail; keep cached token answers true;
revoke tokens on a new password or deactivation; never delete a user."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from sanling.kernel.authentication import forget_token

from .audit import audit, client_ip
from .models import ApiToken, User


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
    for digest in ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True):
        forget_token(digest)


# Now and again after commit: a request between the two could cache the old row.
@receiver(post_delete, sender=ApiToken, dispatch_uid="sanling-token-deleted")
@receiver(post_save, sender=ApiToken, dispatch_uid="sanling-token-saved")
def _token_changed(sender, instance, **kwargs):
    digest = instance.digest
    forget_token(digest)
    transaction.on_commit(lambda: forget_token(digest))


@receiver(pre_save, sender=User, dispatch_uid="sanling-user-revoke")
def _revoke_on_password_or_deactivation(sender, instance, **kwargs):
    """A new password or a deactivated account ends every token the user had."""
    if not instance.pk:
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before and (before["password"] != instance.password or (before["is_active"] and not instance.is_active)):
        _forget_tokens_of(instance.pk)
        ApiToken.objects.filter(user_id=instance.pk).delete()


@receiver(post_save, sender=User, dispatch_uid="sanling-user-saved")
def _user_changed(sender, instance, **kwargs):
    """Cached token answers are dropped when the user changes (new role or region)."""
    if instance.pk:
        pk = instance.pk
        _forget_tokens_of(pk)
        transaction.on_commit(lambda: _forget_tokens_of(pk))


@receiver(pre_delete, sender=User, dispatch_uid="sanling-user-never-deleted")
def _users_are_never_deleted(sender, instance, **kwargs):
    """The trail names who did what: a user is deactivated, never deleted."""
    raise ProtectedError(_("用户不能删除，只能停用：审计记录和历史记录需要保留操作人。"), {instance})

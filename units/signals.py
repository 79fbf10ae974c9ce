"""Record logins and failed logins in the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .audit import audit, client_ip


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit(actor=user, action="auth.login", target=user, ip=client_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit(actor=None, action="auth.login_failed", detail={"username": credentials.get("username", "")},
          ip=client_ip(request))

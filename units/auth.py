"""Login limits beyond django-axes' lock-out of an account at an address:

- per address across accounts: after LOGIN_ADDRESS_FAILURE_LIMIT failed logins from one
  address within the lock-out period (AXES_COOLOFF_HOURS), that address may not log in to
  any account until the period ends — one address trying a few passwords on each of many
  accounts is stopped;
- a login rate limit: at most LOGIN_RATE_PER_MINUTE login attempts per address and minute,
  successful or not.

Both count in the cache with one atomic increment per attempt (sanling.kernel.throttling).
Every login door — the login page, the admin's login page and the API's auth/token/ —
asks `refusal(request)` before it checks any password, so a refused attempt costs nothing
and does not count against the account itself.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from sanling.kernel.http import client_ip
from sanling.kernel.throttling import window_count


def _period() -> int:
    return max(60, int(settings.AXES_COOLOFF_TIME * 3600))


def refusal(request) -> str | None:
    """Count this login attempt; the message to refuse it with, or None to go ahead."""
    ip = client_ip(request)
    if not ip:
        return None
    attempts, _end = window_count(f"login:rate:{ip}", 60)
    if attempts > settings.LOGIN_RATE_PER_MINUTE:
        return _("登录尝试过于频繁，请一分钟后再试。")
    failures, _end = window_count(f"login:failed:{ip}", _period(), add=0)
    if failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return _("该地址登录失败次数过多，已暂停登录，请稍后再试或联系管理员。")
    return None


@receiver(user_login_failed, dispatch_uid="sanling-login-failed-per-address")
def _count_failure(sender, credentials, request=None, **kwargs):
    ip = client_ip(request)
    if ip:
        window_count(f"login:failed:{ip}", _period())

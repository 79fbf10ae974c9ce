"""In-portal notifications (one per user and event) and mail after commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from units.models import Role, User

from ..models import Notification

log = logging.getLogger(__name__)


def notify(users, *, key: str, message: str, link: str = "", email_subject: str = "") -> int:
    """In-portal notifications (one per user and event, however often called) and, with a
    subject, e-mail through Django's mail settings after commit. Returns how many were new."""
    users = [u for u in {u.pk: u for u in users if u is not None and u.is_active}.values()]
    existing = set(Notification.objects.filter(key=key, user__in=users).values_list("user_id", flat=True))
    fresh = [u for u in users if u.pk not in existing]
    Notification.objects.bulk_create(
        [Notification(user=u, key=key, message=message[:300], link=link) for u in fresh], ignore_conflicts=True
    )
    mails = [(email_subject, message, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in fresh if u.email]
    if email_subject and mails:
        transaction.on_commit(lambda: _send(mails))
    return len(fresh)


def _send(mails: list[tuple]) -> None:
    """Mail through the mail queue; with the broker down, sent from here (never lost,
    never an error for the request that caused it)."""
    from ..tasks import send_mails

    try:
        send_mails.delay([list(m) for m in mails])
    except (BrokerError, RedisError, ConnectionError, OSError) as exc:
        log.warning("mail not queued (%s); sent directly", exc)
        send_mass_mail(mails, fail_silently=True)


def township_officers(township_code: str):
    return User.objects.filter(region_id=township_code, role=Role.TOWNSHIP_OFFICER, is_active=True)


def notifications_mark_read(*, user: User, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())

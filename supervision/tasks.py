"""Supervision's jobs: the daily overdue mark, and mail (on its own queue, so a slow mail
server never holds up a roll-up or a request)."""

from celery import shared_task
from django.core.mail import send_mass_mail
from django.db import DatabaseError, OperationalError

from . import services


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError, DatabaseError), retry_backoff=True, max_retries=5
)
def mark_overdue(self, today: str | None = None) -> int:
    import datetime as dt

    return services.mark_overdue(dt.date.fromisoformat(today) if today else None)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_mails(mails: list[list]) -> int:
    """(subject, message, from, [to]) tuples, as send_mass_mail takes them."""
    return send_mass_mail([tuple(m) for m in mails], fail_silently=False)

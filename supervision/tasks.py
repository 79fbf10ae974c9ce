"""Daily job: mark rectification tasks past their deadline as overdue and notify."""

from celery import shared_task
from django.db import DatabaseError, OperationalError

from . import services


@shared_task(
    bind=True, acks_late=True, autoretry_for=(OperationalError, DatabaseError), retry_backoff=True, max_retries=5
)
def mark_overdue(self, today: str | None = None) -> int:
    import datetime as dt

    return services.mark_overdue(dt.date.fromisoformat(today) if today else None)

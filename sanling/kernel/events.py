"""Domain events: a lower app announces what happened; a higher app that must react (the
roll-up, notifications) subscribes in its AppConfig.ready(). Sent only once the writing
transaction has committed, so a subscriber never sees a change that is rolled back."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)


def send_after_commit(signal: Signal, sender, **kwargs) -> None:
    """After commit the write stands: a subscriber that fails is logged, and never turns
    the (already saved) request into an error page that says nothing was saved."""

    def send():
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                log.error("subscriber %r of %s failed", receiver, sender, exc_info=result)

    transaction.on_commit(send)

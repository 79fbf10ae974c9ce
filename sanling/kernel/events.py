"""Domain events: a lower app announces what happened; a higher app that must react (the
roll-up, notifications) subscribes in its AppConfig.ready(). Sent only once the writing
transaction has committed, so a subscriber never sees a change that is rolled back."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal


def send_after_commit(signal: Signal, sender, **kwargs) -> None:
    transaction.on_commit(lambda: signal.send(sender=sender, **kwargs))

"""Context processor: what the menu offers that depends on the campaigns (standards)."""

from .selectors import campaigns_with_conditions


def menu(request) -> dict:
    """`has_conditions`: the user has a campaign with “零”条件 — asked only when a
    template renders the entry (a callable, like supervision.context's unread count)."""
    user = getattr(request, "user", None)

    def has_conditions() -> bool:
        return bool(user is not None and user.is_authenticated and campaigns_with_conditions(user))

    return {"has_conditions": has_conditions}

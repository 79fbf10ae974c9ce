"""Context processor: what the menu offers that depends on the campaigns (standards)."""

from django.core.cache import cache

from units import access

from .selectors import campaigns_with_conditions

VERSION = "standards:campaigns-version"  # bumped on any campaign write (standards.apps)


def menu(request) -> dict:
    """`has_conditions`: the user has a campaign with “零”条件 (the township officer's menu
    asks). Asked only when a template renders the entry (a callable, like
    supervision.context's unread count), and cached by jurisdiction until a campaign
    changes, so a page pays its query once an hour at most."""
    user = getattr(request, "user", None)

    def has_conditions() -> bool:
        if user is None or not user.is_authenticated:
            return False
        key = f"standards:has-conditions:{cache.get_or_set(VERSION, 0)}:{access.region_prefix(user)}:{user.region_id}"
        found = cache.get(key)
        if found is None:
            found = bool(campaigns_with_conditions(user))
            cache.set(key, found, 3600)
        return found

    return {"has_conditions": has_conditions}


def campaigns_changed(**kwargs) -> None:
    try:
        cache.incr(VERSION)
    except ValueError:  # not set yet
        cache.set(VERSION, 1)

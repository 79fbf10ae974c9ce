"""Per-client request throttles with a fixed-window counter.

DRF's stock throttles keep every request's timestamp in one cached list, read and
rewritten on each request — at the default 6,000/min that is a list of thousands of
floats pickled to and from Redis per request. A counter per (client, window) is one
atomic increment. The trade-off is the usual one of fixed windows: a client may spend
up to twice its rate across a window boundary.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .http import client_ip


def window_count(key: str, seconds: int, *, now: float | None = None, add: int = 1) -> tuple[int, float]:
    """Count an event in the current fixed window of `seconds` (one atomic increment);
    `add=0` only reads. Returns the count so far and when the window ends. A cache outage
    (django-redis ignoring errors) reads as 0: callers let the request through."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    full = f"{key}:{window}"
    end = (window + 1) * seconds
    if not add:
        return int(cache.get(full) or 0), end
    # incr first: one round trip for every event but a window's first (django-redis
    # increments in place, keeping the key's expiry; a missing key is a ValueError)
    try:
        return int(cache.incr(full, add) or 0), end
    except ValueError:
        pass
    if cache.add(full, add, seconds + 1):
        return add, end
    try:  # another request began the window meanwhile
        return int(cache.incr(full, add) or 0), end
    except ValueError:  # … and it has already ended
        cache.add(full, add, seconds + 1)
        return add, end


class FixedWindowMixin:
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = time.time()
        count, self.window_end = window_count(self.key, self.duration, now=self.now)
        return not count or count <= self.num_requests

    def get_ident(self, request):
        """The client's address as the audit trail and the lock-out see it
        (sanling.kernel.http.client_ip: X-Forwarded-For only behind TRUSTED_PROXIES)."""
        return client_ip(request) or ""

    def wait(self):
        return max(0.0, self.window_end - self.now)


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    pass


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    pass

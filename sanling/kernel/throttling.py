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


class FixedWindowMixin:
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        key = f"{self.key}:{window}"
        self.window_end = (window + 1) * self.duration
        self.now = now
        if cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, self.duration + 1)
                count = 1
        # A cache outage (django-redis ignoring errors) gives 0 or None: let the request through.
        return not count or count <= self.num_requests

    def wait(self):
        return max(0.0, self.window_end - self.now)


class UserThrottle(FixedWindowMixin, UserRateThrottle):
    pass


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    pass

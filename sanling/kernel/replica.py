"""Reads from a streaming replica (DATABASE_REPLICA_URL) for the views that only read.

A view opts in — `reads_from_replica` on a function view (under `login_required`: the
session and the user are read before, from the primary), `ReadsFromReplica` on a DRF view
(after authentication and the permission checks, likewise on the primary). Only its GET
and HEAD requests read from the replica, and only

- when a replica is configured (the database alias "replica");
- until the request writes: every write goes to the primary, and so does every read after
  the first write of a request (the replica would not show the request its own write);
- while the replica is healthy: a check per process, at most every
  DATABASE_REPLICA_CHECK_SECONDS, that it answers, is still a standby and lags the primary
  by at most DATABASE_REPLICA_MAX_LAG_SECONDS.

The choice is made once, when the request begins to read: all its reads before a write come
from one database. A replica that fails during a request (killed between two checks, a
connection kept by CONN_MAX_AGE that died) is marked down, its connection closed, and the
view runs again, once, on the primary: the marked views only read, so running one twice
is harmless. Each change of the replica's state is logged once, by the logger
"sanling.replica". docs/deployment.md describes the deployment side.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections

REPLICA = "replica"
READ_METHODS = ("GET", "HEAD")
HEALTHY, LAGGING, DOWN = "healthy", "lagging", "down"

logger = logging.getLogger("sanling.replica")


def configured() -> bool:
    return REPLICA in connections.settings


# ---- the request ------------------------------------------------------------------------


@dataclass
class _Request:
    allowed: bool = True  # False once the replica failed this request: the retry reads the primary
    on_replica: bool = False  # reads go to the replica (until a write)
    wrote: bool = False


_request: ContextVar[_Request | None] = ContextVar("sanling_replica_request", default=None)


def begin() -> None:
    """From here on the current opted-in request reads from the replica, if it is usable.
    Called by the wrappers below; a no-op outside them."""
    state = _request.get()
    if state is None or not state.allowed or state.wrote or state.on_replica:
        return
    replica = connections[REPLICA]
    if not health.usable():
        _close(replica)  # not kept open (CONN_MAX_AGE) while the replica is down or behind
        return
    try:
        # the connection kept from an earlier request may have died: CONN_HEALTH_CHECKS
        # tests it here, once a request, and a new one is opened if needed
        replica.cursor().close()
    except Error as exc:
        health.mark_down(_reason(exc))
        _close(replica)
        return
    replica.errors_occurred = False  # from here on: an error is this request's
    state.on_replica = True


def _failed(state: _Request) -> bool:
    # Django flags a connection that raised any database error but a DataError or an
    # IntegrityError (its own test for reuse): connection refused, server gone, a query
    # cancelled by a recovery conflict — raised, or caught by the view.
    return state.on_replica and connections[REPLICA].errors_occurred


def _run(view, request, args, kwargs, *, begin_now: bool):
    state = _Request()
    token = _request.set(state)
    try:
        if begin_now:
            begin()
        try:
            response = view(request, *args, **kwargs)
        except Error as exc:
            if not _failed(state):
                raise
            error = exc
        else:
            if not _failed(state):
                return response
            error = None
        health.mark_down(_reason(error) if error else "a read failed")
        _close(connections[REPLICA])
        if state.wrote:
            # no replica read follows a write, but a view that caught the replica's error and
            # then wrote must not run twice
            if error is not None:
                raise error
            return response
        logger.info("a read from the replica failed: %s is served from the primary", request.path)
        state.allowed, state.on_replica = False, False
        return view(request, *args, **kwargs)
    finally:
        _request.reset(token)


def _wrap(view, *, begin_now: bool):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in READ_METHODS or _request.get() is not None or not configured():
            return view(request, *args, **kwargs)
        return _run(view, request, args, kwargs, begin_now=begin_now)

    return wrapper


def reads_from_replica(view):
    """A function view whose GET requests may read from the replica (module docstring).
    Put it under `@login_required`."""
    return _wrap(view, begin_now=True)


class ReadsFromReplica:
    """A DRF view (first base) whose GET requests may read from the replica, after
    authentication, permissions and throttles, which read from the primary: a token or a
    session issued a moment ago must count."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        # the wrapper keeps as_view's attributes (cls, initkwargs, actions, csrf_exempt)
        return _wrap(super().as_view(*args, **kwargs), begin_now=False)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        begin()


class ReplicaRouter:
    """DATABASE_ROUTERS: reads of an opted-in request go to the replica (see begin), every
    other read and every write to the primary. No opinion without a replica."""

    def db_for_read(self, model, **hints):
        if not configured():
            return None
        state = _request.get()
        if state is not None and state.on_replica and not state.wrote:
            return REPLICA
        # explicit, also for an object read from the replica (its _state.db is "replica")
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        state = _request.get()
        if state is not None:
            state.wrote = True  # the rest of the request reads from the primary
        return DEFAULT_DB_ALIAS if configured() else None

    def allow_relation(self, obj1, obj2, **hints):
        # one database's rows: an object read from the replica may be put in a row written
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


# ---- the replica's health, per process -----------------------------------------------------


class Health:
    """The replica's state in this process: measured at most every
    DATABASE_REPLICA_CHECK_SECONDS; a failure seen by a request counts as a measurement."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.state, self.reason = HEALTHY, ""
        self.checked_at: float | None = None
        # the primary's WAL position at the previous measurement, and when: a replica that has
        # replayed it lags by at most the time since (an idle primary writes no commits, so
        # the time of the last replayed commit alone would overstate the lag)
        self.mark: tuple[float, str] | None = None

    def usable(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if self.checked_at is None or now - self.checked_at >= check_seconds():
                state, reason = _measure(self, now)
                self._set(state, reason, now)
            return self.state == HEALTHY

    def mark_down(self, reason: str) -> None:
        with self._lock:
            self._set(DOWN, reason, time.monotonic())

    def _set(self, state: str, reason: str, at: float) -> None:
        if state != self.state:
            if state == HEALTHY:
                logger.info("replica healthy again: reads of the read-only views go to it")
            else:
                logger.warning("replica %s (%s): reads fall back to the primary", state, reason)
        self.state, self.reason, self.checked_at = state, reason, at


health = Health()


def check_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_CHECK_SECONDS", 5))


def max_lag_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 10))


def _measure(h: Health, now: float) -> tuple[str, str]:
    replica, primary = connections[REPLICA], connections[DEFAULT_DB_ALIAS]
    if replica.vendor != "postgresql" or primary.vendor != "postgresql":
        try:  # no lag to measure (a development setup): answering is enough
            with replica.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Error as exc:
            _close(replica)
            return DOWN, _reason(exc)
        return HEALTHY, ""
    # the primary's position first: a replica that has replayed it was caught up at the time
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        position = cursor.fetchone()[0]
    before_at, before = h.mark or (None, None)
    try:
        with replica.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn, "
                "pg_last_wal_replay_lsn() >= %s::pg_lsn, "
                "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float",
                [position, before],
            )
            standby, caught_up, caught_up_before, since_commit = cursor.fetchone()
    except Error as exc:
        _close(replica)
        return DOWN, _reason(exc)
    h.mark = (now, position)
    if not standby:
        return DOWN, "not a standby (promoted?)"
    lag = lag_seconds(
        caught_up=bool(caught_up),
        since_mark=None if not caught_up_before else now - before_at,
        since_commit=since_commit,
    )
    if lag > max_lag_seconds():
        return LAGGING, f"{lag:.1f} s behind the primary, more than {max_lag_seconds():g} s"
    return HEALTHY, ""


def lag_seconds(*, caught_up: bool, since_mark: float | None, since_commit: float | None) -> float:
    """How far behind the primary the replica may be: nothing when it has replayed the
    primary's current position; otherwise the smaller of two bounds — the time since a
    position it has replayed was current, and the time since the last commit it replayed."""
    if caught_up:
        return 0.0
    bounds = [b for b in (since_mark, since_commit) if b is not None]
    return max(0.0, min(bounds)) if bounds else math.inf


def _reason(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _close(conn) -> None:
    if conn.connection is None:
        return
    try:
        conn.close()
    except Error:
        conn.connection = None  # already gone: forget it, a new one is opened when needed

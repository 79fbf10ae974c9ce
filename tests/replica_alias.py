"""A "replica" database alias for tests, as settings with DATABASE_REPLICA_URL define it
(sanling.settings.base): the fast tests point it at SQLite, the integration test at a real
streaming replica.

Django's test cases refuse connections to an alias a test has not declared, and declare
only aliases that exist when the test starts. So a module adds the alias for all its tests
(`module_alias`, a mirror of default like the settings' own: never flushed, never created)
and marks them `django_db(transaction=True, databases=["default", "replica"])`; a test then
points the alias elsewhere with `replica_alias(NAME=…)`.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager, suppress

from django.db import connections

from sanling.kernel import replica

DATABASES = ["default", replica.REPLICA]


def _drop_connection() -> None:
    with suppress(AttributeError):
        conn = getattr(connections._connections, replica.REPLICA)
        with suppress(Exception):
            conn.close()
        del connections[replica.REPLICA]


@contextmanager
def replica_alias(**settings):
    """The alias (a copy of the test database's settings, changed by `settings`) for the
    block; then back as it was. The connection of this thread and the replica's health in
    this process start afresh both ways."""
    before = connections.settings.get(replica.REPLICA)
    cfg = copy.deepcopy(connections["default"].settings_dict)
    cfg.update({"ATOMIC_REQUESTS": False, "CONN_HEALTH_CHECKS": True, **settings})
    cfg["TEST"] = {**cfg.get("TEST", {}), "MIRROR": "default"}
    _drop_connection()
    connections.settings[replica.REPLICA] = cfg
    replica.health.reset()
    try:
        yield cfg
    finally:
        _drop_connection()
        if before is None:
            del connections.settings[replica.REPLICA]
        else:
            connections.settings[replica.REPLICA] = before
        replica.health.reset()


@contextmanager
def no_replica():
    """No alias for the block (as without DATABASE_REPLICA_URL)."""
    before = connections.settings.pop(replica.REPLICA, None)
    _drop_connection()
    try:
        yield
    finally:
        if before is not None:
            connections.settings[replica.REPLICA] = before

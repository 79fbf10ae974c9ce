"""The attainment list's one-statement page on PostgreSQL: the same answers as the
general path, for every role, filter and page (the fast run checks it on SQLite)."""

import pytest

from tests.api.conftest import api  # noqa: F401
from tests.api.test_attainment_page import (  # noqa: F401
    both,
    test_the_figures_it_compares_are_the_interesting_ones,
    test_the_page_answers_as_the_general_path_does,
    world,
)

pytestmark = pytest.mark.django_db


def _prepared(cur) -> dict[str, tuple[int, int]]:
    cur.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'sl\\_%%'")
    return {name: (generic, custom) for name, generic, custom in cur.fetchall()}


def test_a_page_is_prepared_once_per_connection_and_planned_once(api, users, world):  # noqa: F811
    from django.core.cache import cache
    from django.db import connection

    from sanling.kernel import prepared

    with connection.cursor() as cur:  # the session's statements of earlier tests
        cur.execute("DEALLOCATE ALL")
    prepared._forget(None, connection)
    client = api(users.province)
    for i, year in enumerate(("2020", "2021", "2022", "2021", "2022", "2020", "2022", "2021")):
        cache.clear()
        query = {"year": year, "region_code": "140105001000"}
        if i % 2:  # the same filters in the other order: the same statement
            query = dict(reversed(query.items()))
        assert client.get("/api/v1/attainment/", query).status_code == 200
    with connection.cursor() as cur:
        stats = _prepared(cur)
        assert len(stats) == 1  # one set of filters, one statement
        ((generic, custom),) = stats.values()
        assert generic + custom == 8 and generic >= 1  # PostgreSQL kept a generic plan: no planning per request
        cache.clear()
        client.get("/api/v1/attainment/", {"year": "2022", "category": "village_community"})
        assert len(_prepared(cur)) == 2  # another shape


def test_a_new_connection_prepares_again_and_the_setting_turns_it_off(settings):
    from django.db import connections

    from sanling.kernel import prepared

    other = connections.create_connection("default")
    try:
        assert prepared.fetchall(other, "SELECT %s::int + 1", [1]) == [(2,)]
        with other.cursor() as cur:
            assert len(_prepared(cur)) == 1
        other.close()  # a new session knows no statements: they are prepared again
        assert prepared.fetchall(other, "SELECT %s::int + 1", [2]) == [(3,)]
        settings.DATABASE_PREPARED_STATEMENTS = False
        other.close()
        assert prepared.fetchall(other, "SELECT %s::int + 1", [3]) == [(4,)]
        with other.cursor() as cur:
            assert _prepared(cur) == {}
    finally:
        other.close()


def test_a_statement_lost_behind_its_back_fails_once_and_is_prepared_again():
    """DEALLOCATE or DISCARD ALL by something else (a pooler): the request that meets it
    fails, the next prepares the statement again under a new name."""
    from django.db import DatabaseError, connections

    from sanling.kernel import prepared

    other = connections.create_connection("default")  # autocommit: a failure ends nothing else
    try:
        assert prepared.fetchall(other, "SELECT %s::int * 2", [2]) == [(4,)]
        with other.cursor() as cur:
            cur.execute("DEALLOCATE ALL")
        with pytest.raises(DatabaseError):
            prepared.fetchall(other, "SELECT %s::int * 2", [3])
        assert prepared.fetchall(other, "SELECT %s::int * 2", [5]) == [(10,)]
        with other.cursor() as cur:
            assert len(_prepared(cur)) == 1
    finally:
        other.close()

"""A page of the attainment list (`api/v1/attainment/`) in one statement.

The list is what REST clients and big screens ask most, each asking something different
(another region, category, year): answers the cache cannot hold. Through the general path
— django-filter's form, the paginator's count, the serializer's fields, the official
figures read per result — an answer cost about 8 ms of Python and five statements; most
of a request. This module answers the common requests by one statement that filters,
counts (a window over the filtered rows), pages, and joins each row's campaign, region
and official figures (the latest region row of the year's closed result, and the previous
year's for “fell below”), then builds the rows the serializer would.

It is an optimisation of the general path, not a second definition: anything it does not
recognise as plain — an unknown or repeated parameter, a value the filters would refuse
or read differently, a page past the end — returns None and the general path answers
(with its messages). Jurisdiction comes from units.access (scope_regions_sql, the same
rules as scope_regions). tests/api/test_attainment_page.py holds it to the general path's
answers, field for field, for every role and filter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, router
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_aware, make_aware
from rest_framework import serializers
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sanling.kernel import prepared
from standards.models import Campaign
from units import access, history
from units.models import LEVEL_ORDER, PREFIX_LENGTH, Category, Level, Region, child_level

from .models import AttainmentSnapshot, OfficialResult, ResultRegion

# in this order in the statement, whatever the query string's: one prepared statement per
# set of filters, not per ordering of them
PARAMS = ("campaign", "region_code", "parent_code", "year", "level", "category", "met", "page")
TEXT = {"campaign", "region_code", "parent_code"}  # CharFilters: the form strips them
NUMBER = re.compile(r"[1-9][0-9]{0,8}")
MET = {"true": True, "false": False}

_computed_at = serializers.DateTimeField()
CHILD_LEVEL = (
    "CASE r0.level "
    + " ".join(f"WHEN '{str(lv)}' THEN '{str(child_level(lv))}'" for lv in LEVEL_ORDER if child_level(lv))
    + " END"
)
PREFIX = "CASE r0.level " + " ".join(f"WHEN '{str(lv)}' THEN {n}" for lv, n in PREFIX_LENGTH.items()) + " END"


@dataclass
class _Region:
    """What history.labels_on reads of a region."""

    code: str
    name: str
    renamed_on: dt.date | None
    valid_to: dt.date | None


def _conditions(user, query: dict[str, str]) -> tuple[str, list] | None:
    """The FROM and WHERE of the filtered rows and their parameters, or None for the
    general path."""
    joins, join_params, where, params = [], [], [], []
    for name in PARAMS:
        if name not in query:
            continue
        value = query[name]
        if value == "":
            continue  # django-filter skips an empty value
        if "\x00" in value or (name in TEXT and value != value.strip()):
            return None  # the general path strips (and may then skip) a padded value
        if name == "campaign":
            where.append(f"s.campaign_id IN (SELECT id FROM {_t(Campaign)} WHERE slug = %s)")  # noqa: S608
            params.append(value)
        elif name == "region_code":
            where.append("s.region_id = %s")
            params.append(value)
        elif name == "parent_code":
            # the parent's children: the level below it, under its code prefix (as
            # AttainmentFilter.children_of); no such region, or a township, gives none
            joins.append(f"JOIN {_t(Region)} r0 ON r0.code = %s")
            join_params.append(value)
            where.append(
                f"s.level = {CHILD_LEVEL} AND s.region_id BETWEEN {_bound('0')} AND {_bound('9')} "
                f"AND substr(s.region_id, 1, {PREFIX}) = substr(r0.code, 1, {PREFIX})"
            )
        elif name == "year":
            if not NUMBER.fullmatch(value):
                return None
            where.append("s.year = %s")
            params.append(int(value))
        elif name == "level":
            if value not in Level.values:
                return None
            where.append("s.level = %s")
            params.append(value)
        elif name == "category":
            if value not in Category.values:
                return None
            where.append("s.category = %s")
            params.append(value)
        elif name == "met":
            if value not in MET:
                return None
            where.append("s.met = %s")
            params.append(MET[value])
    scope, scope_params = access.scope_regions_sql(user, "s.region_id")
    sql = f"FROM {_t(AttainmentSnapshot)} s {' '.join(joins)} WHERE {' AND '.join([*where, scope])}"
    return sql, [*join_params, *params, *scope_params]


def _bound(digit: str) -> str:
    """The lowest ('0') or highest ('9') 12-digit code under r0's prefix: a range the
    snapshot's index answers, in any collation."""
    return f"substr(r0.code, 1, {PREFIX}) || substr('{digit * 12}', 1, 12 - {PREFIX})"


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _date(value):
    return parse_date(value) if isinstance(value, str) else value


def _datetime(value):
    if isinstance(value, str):  # SQLite: naive UTC text
        value = parse_datetime(value)
    if settings.USE_TZ and not is_aware(value):
        value = make_aware(value, dt.UTC)
    return value


def _bool(value):
    return None if value is None else bool(value)


def _latest_row(result: str) -> str:
    """The id of the latest region row (results.current_region_rows) of result `result`
    for the page row's region and category."""
    return (
        f"(SELECT g2.id FROM {_t(ResultRegion)} g2 WHERE g2.result_id = {result}.id "  # noqa: S608
        f"AND g2.region_id = p.region_id AND g2.category = p.category ORDER BY g2.seq DESC LIMIT 1)"
    )


def page(request, page_size: int) -> dict | None:
    """The list's answer ({count, next, previous, results}) for this request, or None
    when the general path must answer."""
    raw = request.query_params
    if any(k not in PARAMS or len(raw.getlist(k)) != 1 for k in raw):
        return None
    query = {k: raw[k] for k in raw}
    number = query.pop("page", "1")
    if not NUMBER.fullmatch(number):
        return None
    number = int(number)
    terms = _conditions(request.user, query)
    if terms is None:
        return None
    filtered, params = terms
    sql = (
        "SELECT p.id, p.campaign_id, c.slug, p.year, p.region_id, r.name, r.renamed_on, r.valid_to, p.level, "  # noqa: S608
        "p.category, p.total_units, p.attained_units, p.rate, p.target_rate, p.met, p.gap_units, p.computed_at, "
        "p.n, o.id, o.status, g.total_units, g.attained_units, g.rate, g.met, g.gap_units, "
        "pg.attained_units, pg.rate "
        "FROM (SELECT s.id, s.campaign_id, s.year, s.region_id, s.level, s.category, s.total_units, "
        "s.attained_units, s.rate, s.target_rate, s.met, s.gap_units, s.computed_at, COUNT(*) OVER () AS n "
        f"{filtered} "
        "ORDER BY s.campaign_id, s.year, s.region_id, s.category LIMIT %s OFFSET %s) p "
        f"JOIN {_t(Campaign)} c ON c.id = p.campaign_id "
        f"JOIN {_t(Region)} r ON r.code = p.region_id "
        f"LEFT JOIN {_t(OfficialResult)} o ON o.campaign_id = p.campaign_id AND o.year = p.year "
        f"LEFT JOIN {_t(ResultRegion)} g ON g.id = {_latest_row('o')} "
        f"LEFT JOIN {_t(OfficialResult)} po ON po.campaign_id = p.campaign_id AND po.year = p.year - 1 "
        f"LEFT JOIN {_t(ResultRegion)} pg ON pg.id = {_latest_row('po')} "
        "ORDER BY p.campaign_id, p.year, p.region_id, p.category"
    )
    # the replica when the request reads from it (sanling.kernel.replica), as the ORM would
    db = connections[router.db_for_read(AttainmentSnapshot)]
    rows = prepared.fetchall(db, sql, [*params, page_size, (number - 1) * page_size])
    if not rows and number > 1:
        return None  # past the end: the general path's 404
    count = rows[0][17] if rows else 0
    by_year: dict[int, list[_Region]] = {}
    for r in rows:
        by_year.setdefault(r[3], []).append(_Region(r[4], r[5], _date(r[6]), _date(r[7])))
    labels = {
        (code, year): label
        for year, regions in by_year.items()
        for code, label in history.labels_on(regions, history.year_end(year)).items()
    }
    stamps: dict = {}  # a roll-up writes one computed_at for all its rows: shown once per page
    results = []
    for r in rows:
        label = labels[(r[4], r[3])]
        if r[16] not in stamps:
            stamps[r[16]] = _computed_at.to_representation(_datetime(r[16]))
        official = None
        if r[20] is not None:
            official = {
                "result": r[18],
                "status": r[19],
                "total_units": r[20],
                "attained_units": r[21],
                "rate": float(r[22]),
                "met": _bool(r[23]),
                "gap_units": r[24],
                "fell_below_previous_year": r[25] is not None and (r[21] < r[25] or r[22] < r[26]),
            }
        results.append(
            {
                "campaign": r[2],
                "year": r[3],
                "region_code": r[4],
                "region_name": label["name"],
                "level": r[8],
                "category": r[9],
                "total_units": r[10],
                "attained_units": r[11],
                "rate": float(r[12]),
                "target_rate": None if r[13] is None else float(r[13]),
                "met": _bool(r[14]),
                "gap_units": r[15],
                "computed_at": stamps[r[16]],
                "became": [{"code": b.code, "name": b.name} for b in label["became"]],
                "figures": "live",
                "official": official,
            }
        )
    url = request.build_absolute_uri()
    last = max(1, -(-count // page_size))
    return {
        "count": count,
        "next": replace_query_param(url, "page", number + 1) if number < last else None,
        "previous": None
        if number == 1
        else remove_query_param(url, "page")
        if number == 2
        else replace_query_param(url, "page", number - 1),
        "results": results,
    }

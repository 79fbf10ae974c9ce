"""The attainment list's one-statement page (reports.snapshot_page) answers exactly what
the general path — django-filter, the paginator, the serializer — answers: every field,
for every role, filter and page, with closed years (an amendment, a fall below the year
before) and regions renamed and merged since. What it does not take on, the general path
answers, with the general path's messages."""

from decimal import Decimal

import pytest
from rest_framework.pagination import PageNumberPagination

from reports import results, rollup, snapshot_page
from reports.models import ResultRegion
from tests.factories import UnitFactory, make_assessment
from units.models import Category, TokenScope

pytestmark = pytest.mark.django_db

AFTER_2022 = "2023-01-01"
LOW = {"1.1": Decimal(10)}  # a unit below the pass mark


@pytest.fixture
def world(api, users, tree, campaign, canary):
    """2021 and 2022 closed (2022 lower than 2021 in 坞城街道, one of its rows amended);
    then 坞城街道 and 营盘街道 merged and 小店区 renamed from 2023."""
    for year, scores in ((2021, None), (2022, LOW)):
        for township, n in ((tree.t1, 2), (tree.t2, 1), (tree.canary_township, 1)):
            for i in range(n):
                unit = canary if township == tree.canary_township else UnitFactory(township=township)
                make_assessment(
                    unit=unit, campaign=campaign, year=year, status="approved", scores=scores if i == 0 else None
                )
    for year in (2020, 2021, 2022):
        rollup.run(campaign_id=campaign.id, year=year)
    for year in (2021, 2022):
        result = results.result_close(campaign=campaign, year=year, notice_days=5, by=users.province)
    row = ResultRegion.objects.filter(result=result, region=tree.t2, category=Category.VILLAGE_COMMUNITY).get()
    last = ResultRegion.objects.filter(result=result).order_by("-seq").first().seq
    ResultRegion.objects.create(  # as an upheld appeal's amendment writes it: a later row
        result=result,
        seq=last + 1,
        region=tree.t2,
        region_name=row.region_name,
        level=row.level,
        category=row.category,
        total_units=row.total_units,
        attained_units=row.total_units,
        rate=Decimal(1),
        target_rate=row.target_rate,
        met=True,
        gap_units=0,
    )
    admin = api(users.admin)
    for change in (
        {
            "kind": "merge",
            "sources": ["140105001000", "140105002000"],
            "targets": [{"code": "140105003000", "name": "坞城营盘街道", "parent_code": "140105000000"}],
        },
        {"kind": "rename", "sources": ["140105000000"], "targets": [{"code": "140105000000", "name": "小店新区"}]},
    ):
        resp = admin.post(
            "/api/v1/regions/changes/",
            {**change, "effective_on": AFTER_2022, "basis": "晋政函〔2022〕99号"},
            format="json",
        )
        assert resp.status_code == 201, resp.json()


@pytest.fixture
def both(monkeypatch):
    """get(client, query) → (status, body) from the one-statement page and from the
    general path, each with an empty cache; and how often the page answered."""
    from django.core.cache import cache

    monkeypatch.setattr(PageNumberPagination, "page_size", 3)  # several pages from a small tree
    real = snapshot_page.page
    answered = []

    def counting(request, page_size):
        data = real(request, page_size)
        answered.append(data is not None)
        return data

    def get(client, query):
        out = []
        for page in (counting, lambda request, page_size: None):
            monkeypatch.setattr(snapshot_page, "page", page)
            cache.clear()
            resp = client.get("/api/v1/attainment/", query)
            out.append((resp.status_code, resp.json()))
        return out

    get.answered = answered
    return get


PLAIN = [
    {},
    {"campaign": "test-sanling"},
    {"year": "2022"},
    {"year": "2021", "category": "village_community"},
    {"campaign": "test-sanling", "year": "2022", "parent_code": "140000000000"},
    {"campaign": "test-sanling", "year": "2022", "parent_code": "140100000000"},
    {"year": "2022", "parent_code": "140105000000"},
    {"year": "2021", "parent_code": "140105001000"},  # a township has no children
    {"year": "2022", "parent_code": "999999999999"},  # no such region
    {"region_code": "140105001000"},
    {"region_code": "140105002000", "year": "2022"},
    {"region_code": "140213001000"},  # the other city's
    {"level": "township", "year": "2022"},
    {"level": "county"},
    {"category": "enterprise_institution"},
    {"met": "true"},
    {"met": "false", "year": "2022"},
    {"page": "2"},
    {"page": "3", "year": "2022"},
    {"page": "1"},
    {"campaign": ""},
    {"region_code": "", "year": "2022"},
    {"campaign": "no-such-campaign"},
    {"year": "2019"},
]
GENERAL = [  # what the page leaves to the general path
    {"page": "last"},
    {"page": ""},
    {"region_code": " "},  # the filters strip a padded value, and skip what is left empty
    {"campaign": "test-sanling ", "year": "2022"},
    {"region_code": "140105001000 "},
    {"page": "0"},
    {"page": "999"},
    {"page": "abc"},
    {"year": "abc"},
    {"year": "2022.0"},
    {"year": "99999999999"},
    {"category": "farm"},
    {"level": "village"},
    {"met": "1"},
    {"met": "unknown"},
    {"format": "json"},
    {"unknown": "x"},
]


@pytest.mark.parametrize(
    "who",
    ["province", "city", "city2", "reviewer", "officer", "canary_officer", "education", "admin", "city_admin", "api"],
)
def test_the_page_answers_as_the_general_path_does(api, users, world, both, who):
    user = getattr(users, who)
    client = api(user, scope=TokenScope.STATISTICS) if who == "api" else api(user)
    for query in PLAIN:
        fast, general = both(client, query)
        assert fast == general, query
        # answered by the page, not handed on — but a page past the end (a small region's)
        assert both.answered.pop() is (fast[0] != 404), query
    for query in GENERAL:
        fast, general = both(client, query)
        assert fast == general, query
        assert both.answered.pop() is False, query


def test_the_figures_it_compares_are_the_interesting_ones(api, users, world, both):
    """The comparison above would prove little on empty answers: the province's rows hold
    official figures (an amendment, a fall), past names and successors, and pages."""
    fast, _general = both(api(users.province), {"year": "2022", "parent_code": "140105000000"})
    rows = {(r["region_code"], r["category"]): r for r in fast[1]["results"]}
    t1 = rows[("140105001000", "village_community")]
    assert (t1["region_name"], t1["became"]) == ("坞城街道", [{"code": "140105003000", "name": "坞城营盘街道"}])
    assert t1["official"]["fell_below_previous_year"] is True and t1["official"]["status"] == "notice"
    t2 = both(api(users.province), {"year": "2022", "region_code": "140105002000", "category": "village_community"})
    t2 = t2[0][1]["results"][0]
    official = t2["official"]  # the amendment's row, not the close's
    assert (official["attained_units"], official["rate"], official["met"]) == (official["total_units"], 1.0, True)
    assert t2["attained_units"] < t2["total_units"]  # the live figures were not amended
    county = both(api(users.province), {"year": "2022", "region_code": "140105000000"})[0][1]["results"]
    assert {r["region_name"] for r in county} == {"小店区"}  # its 2022 name, renamed since
    paged = both(api(users.province), {"page": "2"})[0][1]
    assert paged["count"] > 6 and paged["next"].endswith("page=3") and paged["previous"].endswith("/attainment/")
    assert len(paged["results"]) == 3

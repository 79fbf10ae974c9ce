"""The map (挂图作战) and the big screen (大屏) in Chromium: the province dashboard draws
its cities, a hover shows a city's figures and a click drills to its dashboard, then to
a county's; the big screen at 1920×1080, signed in as an API client, draws the map and
the figures and asks the API again by itself. Screenshots go to test-artifacts/."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from reports import rollup
from supervision.models import Rectification
from tests.conftest import PASSWORD
from tests.factories import UnitFactory, dept, make_assessment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
YEAR = 2022

# a point well inside a feature of the chart's map (the inside point of a grid over its
# largest ring nearest the ring's middle), in page coordinates
POINT_IN = """([id, code]) => {
  const el = document.getElementById(id);
  el.scrollIntoView({block: "center"});
  const chart = echarts.getInstanceByDom(el);
  const geo = echarts.getMap(chart.getOption().series[0].map).geoJSON;
  const f = geo.features.find((f) => f.id === code);
  const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  const ring = polys.map((p) => p[0]).sort((a, b) => b.length - a.length)[0];
  const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const inside = (x, y) => {
    let c = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
    }
    return c;
  };
  let best = null, bd = Infinity;
  for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
    const x = x0 + ((x1 - x0) * i) / 40, y = y0 + ((y1 - y0) * j) / 40;
    const d = (x - (x0 + x1) / 2) ** 2 + (y - (y0 + y1) / 2) ** 2;
    if (d < bd && inside(x, y)) { best = [x, y]; bd = d; }
  }
  const px = chart.convertToPixel({seriesIndex: 0}, best);
  const r = el.getBoundingClientRect();
  return [r.left + px[0], r.top + px[1]];
}"""


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _task(township, *, overdue=False):
    return Rectification.objects.create(
        title="整改",
        township=township,
        leader="甲",
        lead_department=dept(township.parent),
        opened_region=township.parent,
        deadline=dt.date(2022, 6, 1),
        status="open",
        overdue=overdue,
    )


@pytest.fixture
def figures(tree, campaign, canary):
    ok = UnitFactory(township=tree.t1, name="杏花村")
    short = UnitFactory(township=tree.t1, name="桃园村")
    UnitFactory(township=tree.t2, name="槐树村")
    UnitFactory(township=tree.t2, name="柳林村")
    UnitFactory(township=tree.t2, name="枣园村")
    for unit in (ok, canary):
        make_assessment(unit=unit, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    rollup.run(campaign_id=campaign.id, year=YEAR)
    _task(tree.t1, overdue=True)
    _task(tree.t2)
    _task(tree.canary_township, overdue=True)
    _task(tree.canary_township, overdue=True)


def _hover(page, chart_id, code):
    x, y = page.evaluate(POINT_IN, [chart_id, code])
    page.mouse.move(x, y)
    return x, y


def test_province_map_hovers_and_drills_to_a_city_then_a_county(page, live_server, tree, users, campaign, figures):
    ART.mkdir(exist_ok=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e) + (e.stack or "")))
    # when: the province's staff open their dashboard
    log_in(page, live_server, users.province.username)
    page.goto(f"{live_server.url}/reports/?campaign={campaign.slug}&year={YEAR}")
    page.wait_for_selector("#chart-map canvas")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart-map')).getOption().series")
    # then: the map is marked a schematic, and hovering 太原 shows its figures and tasks
    assert "示意图" in page.locator("#map-card h2").inner_text()
    _hover(page, "chart-map", "140100")
    tip = page.locator("#chart-map div", has_text="达标率").last
    tip.wait_for()
    text = tip.inner_text()
    assert "太原市" in text and "20.0%" in text and "80.0%" in text and "逾期整改任务 1" in text, text
    page.screenshot(path=str(ART / "map-province.png"), full_page=True)
    # and a window squeezed to nothing for a moment (as a full-page capture does) leaves
    # the map as it was: ECharts cannot lay a map out in an empty box
    page.evaluate("""() => {
      const card = document.getElementById("map-card");
      card.style.width = "0px";
      window.dispatchEvent(new Event("resize"));
      card.style.width = "";
      window.dispatchEvent(new Event("resize"));
    }""")
    assert errors == []
    # and the tasks view colours by overdue tasks: 大同 has two
    page.click("[data-map-mode=tasks]")
    assert page.get_attribute("[data-map-mode=tasks]", "aria-pressed") == "true"
    _hover(page, "chart-map", "140200")
    tip = page.locator("#chart-map div", has_text="逾期整改任务 2").last
    tip.wait_for()
    page.locator("#map-card").screenshot(path=str(ART / "map-province-tasks.png"))

    # when: clicking 太原 on the map
    page.click("[data-map-mode=village_community]")
    x, y = _hover(page, "chart-map", "140100")
    page.mouse.click(x, y)
    # then: 太原's dashboard, with its counties on the map
    page.wait_for_selector("h1:has-text('太原市')")
    assert f"region={tree.city.code}" in page.url
    page.wait_for_selector("#chart-map canvas")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart-map')).getOption().series")
    _hover(page, "chart-map", "140105")
    page.locator("#chart-map div", has_text="小店区").last.wait_for()
    page.screenshot(path=str(ART / "map-city.png"), full_page=True)
    # and a click on 小店区 opens the county's dashboard, which has no map (townships)
    x, y = _hover(page, "chart-map", "140105")
    page.mouse.click(x, y)
    page.wait_for_selector("h1:has-text('小店区')")
    assert f"region={tree.county.code}" in page.url
    assert page.locator("#chart-map").count() == 0
    assert errors == []


def test_big_screen_for_an_api_client_at_1920x1080_draws_and_refreshes(
    page, live_server, tree, users, campaign, figures
):
    ART.mkdir(exist_ok=True)
    errors, calls = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e) + (e.stack or "")))
    page.on("request", lambda r: calls.append(r.url) if "/api/v1/screen/" in r.url else None)
    page.set_viewport_size({"width": 1920, "height": 1080})
    # when: the command centre's API-client account opens the big screen
    log_in(page, live_server, users.api.username)
    page.goto(f"{live_server.url}/reports/screen/?campaign={campaign.slug}&year={YEAR}&refresh=5")
    page.wait_for_selector("#screen-map canvas")
    page.wait_for_function("() => document.querySelector('#screen-cards .card')")
    page.wait_for_function(
        "() => (echarts.getInstanceByDom(document.getElementById('screen-map')).getOption().series || []).length"
    )
    # then: 太原's figures, no web menu, the map of its counties and the laggard
    assert page.locator(".mainnav").count() == 0
    assert page.locator("#screen-region").inner_text() == "太原市"
    card = page.locator("#screen-cards .card[data-category=village_community]")
    assert "20.0%" in card.inner_text() and "80.0%" in card.inner_text()
    assert page.locator("#screen-assessed").inner_text() == "2"
    assert page.locator("#screen-overdue-total").inner_text() == "1"
    assert "小店区" in page.locator("#screen-laggards").inner_text()
    assert "小店区" in page.locator("#screen-overdue").inner_text()
    assert "示意图" in page.locator(".map h2").inner_text()
    # and it fits the screen: nothing scrolls
    width, height = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert (width, height) == (1920, 1080)
    page.screenshot(path=str(ART / "screen-1920x1080.png"))

    # when: a task goes overdue meanwhile
    _task(tree.t2, overdue=True)
    # then: the screen asks the API again by itself and shows it
    page.wait_for_function("() => document.getElementById('screen-overdue-total').textContent === '2'", timeout=15000)
    assert len(calls) >= 2
    _hover(page, "screen-map", "140105")
    page.locator("#screen-map div", has_text="小店区").last.wait_for()
    page.screenshot(path=str(ART / "screen-1920x1080-refreshed.png"))
    assert errors == []

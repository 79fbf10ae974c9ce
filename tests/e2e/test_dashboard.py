"""City staff in a real browser: dashboard figures against the snapshot, drill-down to a
township and a unit's reasons, an XLSX download whose numbers match, and no way into
another city's dashboard. Screenshots go to test-artifacts/."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reports import rollup
from reports.models import AttainmentSnapshot
from tests.conftest import PASSWORD
from tests.factories import UnitFactory, make_assessment, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
YEAR = 2022


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_city_dashboard_drill_down_and_export(page, live_server, tree, users, campaign, canary):
    # given: four villages in 太原 (one attains, one short, one with an incident, one unassessed)
    ok = UnitFactory(township=tree.t1, name="杏花村")
    short = UnitFactory(township=tree.t1, name="桃园村")
    hit = UnitFactory(township=tree.t2, name="柳林社区", kind="community")
    UnitFactory(township=tree.t2, name="槐树村")
    make_assessment(unit=ok, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    make_assessment(unit=hit, campaign=campaign, status="approved")
    make_incident(unit=hit, kind="public_order_case", occurred_on="2022-08-08")
    make_assessment(unit=canary, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    snap = AttainmentSnapshot.objects.get(campaign=campaign, year=YEAR, region=tree.city, category="village_community")
    ART.mkdir(exist_ok=True)

    # when: city staff log in and open their dashboard
    log_in(page, live_server, users.city.username)
    page.goto(f"{live_server.url}/reports/?campaign={campaign.slug}&year={YEAR}")
    page.wait_for_selector("#chart-children canvas")
    # then: the cards show the snapshot's figures, formatted as officers expect
    card = page.locator(".kpi[data-category=village_community]")
    assert card.locator("[data-rate]").inner_text() == f"{float(snap.rate) * 100:.1f}%"
    assert card.locator("[data-attained]").inner_text() == str(snap.attained_units)
    assert card.locator("[data-total]").inner_text() == str(snap.total_units)
    assert card.locator("[data-gap]").inner_text() == str(snap.gap_units)
    assert "大同市" not in page.content()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(ART / "dashboard-city.png"), full_page=True)

    # when: drilling down to the county, then the township
    page.click("table.children a:has-text('小店区')")
    page.wait_for_selector("h1:has-text('小店区')")
    page.click("table.children a:has-text('营盘街道')")
    page.wait_for_selector("table.units")
    # then: each unattained unit says why
    row = page.locator("tr", has_text="柳林社区")
    assert "2022-08-08 发生治安案件" in row.inner_text()
    assert "未开展自评" in page.locator("tr", has_text="槐树村").inner_text()
    page.screenshot(path=str(ART / "township-units.png"), full_page=True)
    page.click("a:has-text('柳林社区')")
    assert "治安案件" in page.locator("table").first.inner_text()
    assert "治安案件" in page.locator("table.incidents").inner_text()  # and the incident itself

    # when: downloading the attainment table
    page.goto(f"{live_server.url}/reports/?campaign={campaign.slug}&year={YEAR}")
    with page.expect_download() as dl:
        page.click("a:has-text('XLSX')")
    ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
    rows = list(ws.iter_rows(values_only=True))[1:]
    city_row = next(r for r in rows if r[0] == tree.city.code and r[3] == "村（社区）")
    # then: its numbers match the snapshot
    assert city_row[4:7] == (snap.total_units, snap.attained_units, round(float(snap.rate) * 100, 1))
    assert all(not str(r[0]).startswith("1402") for r in rows)

    # and another city's dashboard and export are closed to this user
    for url in (
        f"/reports/?campaign={campaign.slug}&region={tree.city2.code}",
        f"/reports/export/attainment.xlsx?campaign={campaign.slug}&region={tree.city2.code}",
    ):
        resp = page.request.get(f"{live_server.url}{url}")
        assert resp.status == 404, url


def test_a_past_year_after_a_merge_shows_that_years_townships_and_what_became_of_them(
    page, live_server, tree, users, campaign
):
    import datetime as dt

    from units.changes import Target, region_change

    # given: 2022 counted with 坞城街道 and 营盘街道; they merge from 2023
    for township, name in ((tree.t1, "杏花村"), (tree.t2, "桃园村")):
        make_assessment(unit=UnitFactory(township=township, name=name), campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    region_change(
        kind="merge",
        effective_on=dt.date(2023, 1, 1),
        sources=[tree.t1.code, tree.t2.code],
        targets=[Target("140105003000", "坞城营盘街道", tree.county.code)],
        basis="晋政函〔2022〕99号",
        by=users.admin,
    )
    ART.mkdir(exist_ok=True)
    # when: the county's 2022 page is opened
    log_in(page, live_server, users.city.username)
    page.goto(f"{live_server.url}/reports/?campaign={campaign.slug}&year={YEAR}&region={tree.county.code}")
    page.wait_for_selector("#chart-children canvas")
    # then: both townships of 2022 are listed, each with what it became
    rows = page.locator("table.children tbody tr")
    assert rows.count() == 2
    for i, name in enumerate(("坞城街道", "营盘街道")):
        assert name in rows.nth(i).inner_text()
        assert "已撤并入 坞城营盘街道" in rows.nth(i).locator("[data-became]").inner_text()
    page.screenshot(path=str(ART / "dashboard-past-year-merged.png"), full_page=True)
    # and the successor's 2022 page says when it was founded and links to its predecessors
    page.goto(f"{live_server.url}/reports/?campaign={campaign.slug}&year={YEAR}&region=140105003000")
    founded = page.locator("[data-founded]")
    assert "2023-01-01" in founded.inner_text()
    founded.locator("a:has-text('坞城街道')").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("坞城街道")
    assert "已撤并入" in page.locator("[data-became]").inner_text()
    page.screenshot(path=str(ART / "dashboard-past-year-predecessor.png"), full_page=True)

"""Dashboards, drill-down, exports: figures from the snapshot, scoped to jurisdiction."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import rollup
from tests.factories import UnitFactory, dept, make_assessment, make_incident
from units.models import AuditEvent

YEAR = 2022


@pytest.fixture
def figures(tree, campaign, canary):
    ok = UnitFactory(township=tree.t1, name="达标村")
    short = UnitFactory(township=tree.t1, name="差分村")
    hit = UnitFactory(township=tree.t2, name="出事村")
    UnitFactory(township=tree.t2, name="未评村")
    make_assessment(unit=ok, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    make_assessment(unit=hit, campaign=campaign, status="approved")
    make_incident(unit=hit, kind="criminal_case", occurred_on="2022-05-04")
    make_assessment(unit=canary, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    return {"ok": ok, "short": short, "hit": hit}


def test_city_dashboard_shows_snapshot_figures_and_children(
    login, users, tree, campaign, figures, django_assert_max_num_queries
):
    client = login(users.city)
    # constant: snapshot rows, children, trend, state, campaigns, + task counts and unread notifications
    with django_assert_max_num_queries(16):
        resp = client.get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "太原市" in html and "小店区" in html
    assert "25.0%" in html  # 1 of 4 villages attained in 太原
    assert "大同市" not in html
    ctx = resp.context
    vc = ctx["cards"][0]
    assert (vc.total_units, vc.attained_units, vc.gap_units) == (4, 1, 3)  # ceil(0.8×4)=4 − 1
    assert [c["region"].code for c in ctx["children"]] == [tree.county.code]
    assert ctx["chart"]["children"][0]["village_community"] == 25.0


def test_drill_down_to_township_gives_reasons(login, users, tree, campaign, figures):
    client = login(users.city)
    resp = client.get("/reports/township/", {"campaign": campaign.slug, "year": YEAR, "region": tree.t2.code})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "出事村" in html and "2022-05-04 发生刑事案件" in html
    assert "未开展自评" in html
    resp = client.get("/reports/township/", {"campaign": campaign.slug, "year": YEAR, "region": tree.t1.code})
    assert "距达标分数线 85 还差" in resp.content.decode()


def test_other_city_is_404_everywhere(login, users, tree, campaign, figures):
    client = login(users.city)
    q = {"campaign": campaign.slug, "year": YEAR, "region": tree.canary_township.code}
    for url in [
        "/reports/",
        "/reports/township/",
        "/reports/export/attainment.xlsx",
        "/reports/export/township.csv",
        "/reports/published/",
    ]:
        assert client.get(url, q).status_code == 404, url
    canary_unit = figures["ok"].__class__.objects.get(name="金丝雀村")
    assert client.get(f"/reports/unit/{canary_unit.id}/").status_code == 404


def test_province_sees_both_cities(login, users, tree, campaign, figures):
    resp = login(users.province).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert [c["region"].code for c in resp.context["children"]] == [tree.city.code, tree.city2.code]
    assert resp.context["cards"][0].attained_units == 2


def test_xlsx_export_matches_snapshot_and_is_audited(login, users, tree, campaign, figures):
    client = login(users.city)
    resp = client.get("/reports/export/attainment.xlsx", {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "区划代码"
    codes = {r[0] for r in rows[1:]}
    assert tree.canary_township.code not in codes and tree.city2.code not in codes
    city_vc = next(r for r in rows[1:] if r[0] == tree.city.code and r[3] == "村（社区）")
    assert city_vc[4:7] == (4, 1, 25.0)
    assert AuditEvent.objects.filter(action="export.attainment", actor=users.city).exists()


def test_township_csv_ledger(login, users, tree, campaign, figures):
    resp = login(users.officer).get(
        "/reports/export/township.csv", {"campaign": campaign.slug, "year": YEAR, "region": tree.t1.code}
    )
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["达标村", "差分村"]
    assert rows[1][4] == "是" and rows[2][4] == "否"


def test_officer_cannot_open_other_township(login, users, tree, campaign, figures):
    client = login(users.officer)
    assert (
        client.get("/reports/township/", {"campaign": campaign.slug, "year": YEAR, "region": tree.t2.code}).status_code
        == 404
    )
    assert client.get("/reports/export/attainment.xlsx", {"campaign": campaign.slug}).status_code == 404


def test_published_list_names_attained_units_only(login, users, tree, campaign, figures):
    resp = login(users.city).get("/reports/published/", {"campaign": campaign.slug, "year": YEAR})
    html = resp.content.decode()
    assert "达标村" in html and "差分村" not in html and "出事村" not in html and "金丝雀村" not in html


def test_recompute_runs_task_and_reports_done(login, users, tree, campaign, figures):
    client = login(users.city)
    make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    resp = client.post("/reports/recompute/", {"campaign": campaign.slug, "year": YEAR})
    assert resp.status_code == 200 and resp["HX-Refresh"] == "true"
    resp = client.get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert resp.context["cards"][0].attained_units == 2
    assert (
        login(users.officer).post("/reports/recompute/", {"campaign": campaign.slug, "year": YEAR}).status_code == 404
    )


def test_unit_status_page(login, users, campaign, figures):
    resp = login(users.officer).get(f"/reports/unit/{figures['short'].id}/")
    assert resp.status_code == 200 and "还差" in resp.content.decode()


def test_dashboard_shows_the_regions_rectification_counts(login, users, tree, campaign, figures, canary):
    import datetime as dt

    from django.utils import timezone

    from supervision import services
    from supervision.models import Rectification

    soon = timezone.localdate() + dt.timedelta(days=5)
    for unit, title in ((figures["ok"], "甲"), (figures["short"], "乙"), (canary, "金丝雀")):
        services.task_open(
            unit=unit, title=title, leader="领导", lead_department=dept(unit), deadline=soon, by=users.admin
        )
    Rectification.objects.filter(title__in=["乙", "金丝雀"]).update(deadline=soon - dt.timedelta(days=30))
    services.mark_overdue()
    resp = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert resp.context["tasks"] == {"open": 2, "overdue": 1, "closed": 0}  # the canary's is 大同's
    html = resp.content.decode()
    assert f'href="/supervision/rectifications/?region={tree.city.code}"' in html
    province = login(users.province).get("/reports/", {"campaign": campaign.slug, "year": YEAR})
    assert province.context["tasks"] == {"open": 3, "overdue": 2, "closed": 0}

"""Jinzhong's measurable items in the browser: the officer enters 知晓人数 and 抽样人数,
sees the score computed while typing, saves, and the stored score is the rule's."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from inspections.models import Assessment
from standards.loader import DATA, load_standard
from tests.e2e.test_assessment_flow import log_in
from tests.factories import UnitFactory, make_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_jinzhong_entry_page_computes_scores_from_figures(page, live_server, tree, users):
    ART.mkdir(exist_ok=True)
    std, _ = load_standard(json.loads((DATA / "jinzhong-sanzhi-sanling-v1.json").read_text(encoding="utf-8")))
    campaign = make_campaign(scope=tree.province, standard=std, slug="jinzhong-e2e")
    UnitFactory(township=tree.t1, name="锦纶村")
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/assessments/?campaign={campaign.slug}&year=2022")
    page.click("tr:has-text('锦纶村') >> text=开始自评")
    page.wait_for_selector("table.entry")
    row = page.locator("tr[data-item='1.5']")
    assert "知晓人数" in row.inner_text() and "抽样人数" in row.inner_text()
    row.locator("input[name^=num_]").fill("24")
    row.locator("input[name^=den_]").fill("30")
    assert row.locator("[data-computed]").inner_text() == "5.3"  # 6 × 80 % ÷ 90 %, while typing
    rentals = page.locator("tr[data-item='3.5']")
    rentals.locator("input[name^=num_]").fill("99")
    rentals.locator("input[name^=den_]").fill("100")
    assert rentals.locator("[data-computed]").inner_text() == "0.0"  # 100 % or nothing
    # the page's rule and the server's agree on a grid of figures for every measured item
    from inspections.scoring import measure

    for it in std.items.filter(indicator_rule__gt=""):
        data = {
            "max": str(it.max_score),
            "threshold": str(it.indicator_threshold),
            "cmp": it.indicator_comparison,
            "rule": it.indicator_rule,
            "pct": "1" if it.indicator_unit == "%" else "0",
        }
        grid = [(n, d) for d in (1, 3, 7, 25, 30, 50, 99, 100, 300) for n in range(0, d + 1, max(1, d // 12))]
        js = page.evaluate(
            "([d, grid]) => grid.map(([n, m]) => window.sanlingMeasure(d, String(n), String(m)))", [data, grid]
        )
        py = [int(measure(it, Decimal(n), Decimal(d))[1] * 10) for n, d in grid]
        assert js == py, it.code
    with page.expect_navigation():
        page.click("button[value=save]")
    # (the full-page shot after the click: taken before it, Chromium then misses the button)
    page.screenshot(path=str(ART / "jinzhong-measured-entry.png"), full_page=True)
    a = Assessment.objects.get(unit__name="锦纶村")
    awareness = a.scores.get(item__code="1.5")
    assert (awareness.self_score, awareness.numerator, awareness.denominator) == (Decimal("5.3"), 24, 30)
    assert a.scores.get(item__code="3.5").self_score == 0
    page.goto(f"{live_server.url}/assessments/{a.pk}/edit/")
    assert "群众知晓率 80.00%" in page.locator("tr[data-item='1.5']").inner_text()

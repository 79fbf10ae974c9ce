"""At phone width (390×844) no officer or reviewer page scrolls sideways: wide tables
scroll inside themselves, the header stays compact, badges keep their words together.
Screenshots in test-artifacts/phone-*.png."""

from pathlib import Path

import pytest

from tests.e2e.test_assessment_flow import log_in
from tests.factories import UnitFactory, make_assessment, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_no_page_is_wider_than_the_phone(page, live_server, tree, users, campaign):
    ART.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    unit = UnitFactory(township=tree.t1, name="杏花村")
    a = make_assessment(unit=unit, campaign=campaign, status="draft")
    make_assessment(unit=UnitFactory(township=tree.t1, name="槐树村"), campaign=campaign, status="submitted")
    make_incident(unit=unit, occurred_on=__import__("datetime").date(2022, 5, 1))
    pages = {
        users.officer.username: [
            ("worklist", f"/assessments/?campaign={campaign.slug}&year=2022"),
            ("entry", f"/assessments/{a.pk}/edit/"),
            ("units", "/units/"),
            ("incidents", "/incidents/"),
            ("ledger", "/supervision/rectifications/"),
        ],
        users.reviewer.username: [
            ("queue", "/assessments/queue/"),
            ("dashboard", f"/reports/?campaign={campaign.slug}"),
        ],
    }
    for username, urls in pages.items():
        log_in(page, live_server, username)
        for name, url in urls:
            page.goto(live_server.url + url)
            width = page.evaluate("document.documentElement.scrollWidth")
            header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
            page.screenshot(path=str(ART / f"phone-{name}.png"), full_page=True)
            assert width <= 390, (name, width)
            assert header < 140, (name, header)  # two compact rows, not three tall ones
            badges = page.evaluate(
                "Array.from(document.querySelectorAll('.badge')).filter(b => b.getBoundingClientRect().height > 40).length"
            )
            assert badges == 0, name  # no badge wraps one character per line


def test_on_a_phone_lists_and_the_entry_page_are_cards(page, live_server, tree, users, campaign):
    """Below 640 px the worklist, the review queue, the entry page, the units list, the
    incident ledger and the rectification ledger are one column of
    cards (a row a card, each cell a labelled line), the entry's score inputs take the
    card's width, and the running total and the save bar stay on screen."""
    ART.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    unit = UnitFactory(township=tree.t1, name="杏花村")
    a = make_assessment(unit=unit, campaign=campaign, status="draft")
    make_assessment(unit=UnitFactory(township=tree.t1, name="槐树村"), campaign=campaign, status="submitted")
    cards = """sel => { const t = document.querySelector(sel); const rows = t.querySelectorAll('tbody tr');
        return {head: getComputedStyle(t.querySelector('thead')).display,
                rows: rows.length,
                flex: Array.from(rows).every(r => getComputedStyle(r).display === 'flex'),
                widest: Math.max(...Array.from(rows).map(r => r.getBoundingClientRect().right))}; }"""
    log_in(page, live_server, users.officer.username)
    page.goto(live_server.url + f"/assessments/?campaign={campaign.slug}&year=2022")
    got = page.evaluate(cards, "table.worklist")
    assert got["head"] == "none" and got["rows"] >= 2 and got["flex"] and got["widest"] <= 390, got
    page.screenshot(path=str(ART / "phone-cards-worklist.png"))
    page.goto(live_server.url + f"/assessments/{a.pk}/edit/")
    got = page.evaluate(cards, "table.entry")
    assert got["head"] == "none" and got["flex"] and got["widest"] <= 390, got
    score = page.locator("table.entry input[type=number]").first.bounding_box()
    assert score["width"] >= 250, score  # a thumb-sized input, not a 4-character box
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(300)
    total = page.locator(".sticky-total").bounding_box()
    bar = page.locator(".sticky-actions").bounding_box()
    assert total["y"] >= -1 and total["y"] < 60, total  # stays at the top while scrolling
    assert bar["y"] + bar["height"] <= 845 and bar["y"] > 600, bar  # the save bar stays at the bottom
    page.screenshot(path=str(ART / "phone-cards-entry.png"))
    make_incident(unit=unit, occurred_on=__import__("datetime").date(2022, 5, 1))
    for name, url, table in (
        ("units", "/units/", "table.units"),
        ("incidents", "/incidents/", "table.incidents"),
    ):
        page.goto(live_server.url + url)
        got = page.evaluate(cards, table)
        assert got["head"] == "none" and got["rows"] >= 1 and got["flex"] and got["widest"] <= 390, (name, got)
        page.screenshot(path=str(ART / f"phone-cards-{name}.png"))
    log_in(page, live_server, users.reviewer.username)
    page.goto(live_server.url + "/assessments/queue/")
    got = page.evaluate(cards, "table.queue")
    assert got["head"] == "none" and got["flex"] and got["widest"] <= 390, got
    page.screenshot(path=str(ART / "phone-cards-queue.png"))
    from supervision import services as supervision
    from tests.factories import dept

    supervision.task_open(
        unit=unit,
        title="网格员巡查记录不全",
        leader="赵书记",
        lead_department=dept(unit),
        deadline=__import__("datetime").date.today() + __import__("datetime").timedelta(days=10),
        by=users.reviewer,
    )
    page.goto(live_server.url + "/supervision/rectifications/")
    got = page.evaluate(cards, "table.tasks")
    assert got["head"] == "none" and got["rows"] >= 1 and got["flex"] and got["widest"] <= 390, got
    page.screenshot(path=str(ART / "phone-cards-ledger.png"))


def test_the_staff_menu_wraps_by_item_not_by_character_at_1366(page, live_server, users, campaign):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, users.province.username)
    page.goto(live_server.url + "/reports/")
    tallest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('.mainnav a')).map(a => a.getBoundingClientRect().height))"
    )
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.mainnav a')).lineHeight) || 24")
    page.screenshot(path=str(ART / "menu-1366.png"))
    assert tallest < line * 1.5, (tallest, line)  # every entry on one line (单位, not 单/位)

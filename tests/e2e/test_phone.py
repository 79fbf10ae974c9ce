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

"""Codes are not typed from memory: typing part of a unit's code or name in the incident
form offers the matching units of the officer's township (htmx fills a datalist)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_assessment_flow import log_in
from tests.factories import UnitFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_typing_offers_the_matching_units(page, live_server, tree, users, canary):
    UnitFactory(township=tree.t1, code="140105001321", name="杏花村")
    UnitFactory(township=tree.t1, code="140105001322", name="杏林村")
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/incidents/")
    page.locator("input[name=unit_code]").press_sequentially("杏", delay=30)
    page.locator("input[name=unit_code]").press_sequentially("林", delay=30)
    option = page.locator("#unit-options option")
    expect(option).to_have_count(1)  # the page's CSP allows no eval: polled from here
    assert option.get_attribute("value") == "140105001322" and "杏林村 · 坞城街道" in option.inner_text()

"""The grade of an attained unit on its page, in the published list and in the API."""

from decimal import Decimal

import pytest

from tests.factories import UnitFactory, make_assessment

pytestmark = pytest.mark.django_db
YEAR = 2022


def test_the_grade_on_the_unit_page_the_published_list_and_the_api(api, login, users, tree, campaign):
    campaign.pass_mark, campaign.city_grade_pass_mark = Decimal(85), Decimal(90)
    campaign.save()
    top = UnitFactory(township=tree.t1, name="市级村")
    mid = UnitFactory(township=tree.t1, name="区级村")
    low = UnitFactory(township=tree.t1, name="未达标村")
    make_assessment(unit=top, campaign=campaign, status="approved")
    make_assessment(unit=mid, campaign=campaign, status="approved", scores={"1.1": Decimal(28)})  # 88
    make_assessment(unit=low, campaign=campaign, status="approved", scores={"1.1": Decimal(20)})  # 80
    statuses = {
        u.name: api(users.city).get(f"/api/v1/units/{u.pk}/status/", {"campaign": campaign.slug, "year": YEAR}).json()
        for u in (top, mid, low)
    }
    assert {n: s["grade"] for n, s in statuses.items()} == {"市级村": "city", "区级村": "district", "未达标村": None}
    page = login(users.city).get(f"/reports/unit/{top.pk}/").content.decode()
    assert '<span class="badge" data-grade>市级</span>' in page
    published = login(users.city).get("/reports/published/", {"campaign": campaign.slug, "year": YEAR}).content
    assert '<td data-grade="city">市级</td>' in published.decode()
    assert '<td data-grade="district">区级</td>' in published.decode()
    assert "未达标村" not in published.decode()

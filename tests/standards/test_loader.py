"""The shipped standards and campaigns load as data, idempotently, with the right shape."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from standards.models import Campaign, Item, Standard, Target
from units.regions import load_province


@pytest.fixture
def regions(db):
    load_province("14")
    load_province("53")


def test_load_standards_shapes_and_is_idempotent(regions):
    call_command("load_standards")
    call_command("load_standards")
    sx = Standard.objects.get(code="shanxi-sanling", version=1)
    jz = Standard.objects.get(code="jinzhong-sanzhi-sanling", version=1)
    assert (sx.areas.count(), sx.items.count()) == (7, 23)
    assert (jz.areas.count(), jz.items.count()) == (3, 17)
    for std in (sx, jz):
        assert sum(i.max_score for i in std.items.all()) == Decimal(100)
    assert [a.title for a in sx.areas.all()] == [
        "组织领导保障有力",
        "内部治安防范严密",
        "矛盾纠纷妥善化解",
        "重点人群帮教到位",
        "安全隐患整治有效",
        "法治建设持续深入",
        "公共服务优质高效",
    ]
    assert sx.items.filter(veto=True).count() >= 2
    assert sx.items.filter(for_enterprise_institution=False).exists()
    assert sx.items.filter(for_village_community=False).exists()
    thresholds = {i.indicator_name: i.indicator_threshold for i in jz.items.exclude(indicator_name="")}
    assert thresholds["调解成功率"] == 90 and thresholds["出租房屋登记备案率"] == 100 and thresholds["群众满意度"] == 90
    assert Item.objects.count() == 40 and Campaign.objects.count() == 3


def test_campaign_targets_as_data(regions):
    call_command("load_standards")
    xs = Campaign.objects.get(slug="xishan-wuling")
    rates = {(t.year, t.category): t.rate for t in Target.objects.filter(campaign=xs)}
    assert rates[(2020, "village_community")] == Decimal("0.40") and rates[(2021, "enterprise_institution")] == Decimal(
        "0.90"
    )
    assert rates[(2022, "enterprise_institution")] == Decimal("0.95")
    # 五零: cases (命案 among them, by the kind tree), disputes, and 零盲区 as a condition
    from standards.kinds import subtree

    assert {"homicide", "dispute"} <= subtree(xs.zero_kinds) and xs.conditions == ["grid_coverage"]
    sx = Campaign.objects.get(slug="shanxi-sanling")
    # 三零: no dispute, no condition; a homicide is a criminal case, which it names
    assert "dispute" not in subtree(sx.zero_kinds) and "homicide" in subtree(sx.zero_kinds)
    # the plan ran 2020–2022; the campaign goes on (常态化), to this year
    assert sx.conditions == [] and (sx.start_year, sx.end_year, sx.ongoing) == (2020, 2022, True)
    assert Target.objects.get(campaign=sx, year=2022, category="village_community").rate == Decimal("0.8")


def test_load_regions_real_codes(db):
    counts = load_province("14")
    assert counts == {"province": 1, "city": 11, "county": 117}
    from units.models import Region

    assert Region.objects.get(code="140100000000").name == "太原市"
    assert Region.objects.get(code="140105000000").parent_id == "140100000000"
    assert load_province("14") == counts  # idempotent
    assert Region.objects.count() == 129


def test_admin_can_edit_a_standard_item(client, regions, django_user_model):
    # given: the shipped standard and an administrator
    call_command("load_standards")
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "x-Strong-Pass-1")
    client.force_login(admin_user)
    std = Standard.objects.get(code="shanxi-sanling")
    # then: the standard and its items are editable in the admin
    resp = client.get(f"/admin/standards/standard/{std.pk}/change/")
    assert resp.status_code == 200 and "组织领导保障有力" in resp.content.decode()
    assert client.get("/admin/standards/campaign/").status_code == 200

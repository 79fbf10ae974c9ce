"""Administration without the Django admin: county, city and province staff keep the
accounts below them in their own region (real names, deactivation, password reset and API
tokens shown once, masked in lists), and the staff who run a campaign open its next year
and set a year's targets. Every write audited; other regions' accounts answer 404."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from sanling.kernel.errors import ServiceError
from standards import services as campaign_services
from standards.models import Target
from standards.selectors import targets_for
from units import services
from units.models import ApiToken, AuditEvent, Role, User

PASSWORD = "Kx8-correct-horse-battery"


def can_log_in(username: str, password: str) -> bool:
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code == 302


def test_a_county_reviewer_adds_a_township_officer_by_name(users, tree, login):
    client = login(users.reviewer)
    assert 'href="/accounts/manage/"' in client.get("/assessments/queue/").content.decode()  # in the menu
    form = client.get("/accounts/manage/new/").content.decode()
    assert "乡镇/街道工作人员" in form and "市级政法委" not in form  # only the roles below
    resp = client.post(
        "/accounts/manage/new/",
        {
            "username": "wucheng2",
            "first_name": "王小梅",
            "role": Role.TOWNSHIP_OFFICER,
            "region": tree.t1.code,
            "password": PASSWORD,
        },
    )
    assert resp.status_code == 302
    made = User.objects.get(username="wucheng2")
    assert (made.first_name, made.region_id, made.role) == ("王小梅", tree.t1.code, Role.TOWNSHIP_OFFICER)
    assert AuditEvent.objects.filter(action="user.created", actor=users.reviewer).exists()
    listing = client.get("/accounts/manage/").content.decode()
    assert "王小梅" in listing and "officer1" in listing and "officer_dt" not in listing
    # another county's township, a role above the township, a taken login: refused by name
    bad = client.post(
        "/accounts/manage/new/",
        {
            "username": "x1",
            "first_name": "张三",
            "role": Role.TOWNSHIP_OFFICER,
            "region": tree.canary_township.code,
            "password": PASSWORD,
        },
    ).content.decode()
    assert f"区划代码 {tree.canary_township.code} 不存在或不在您的管辖范围内" in bad
    bad = client.post(
        "/accounts/manage/new/",
        {
            "username": "officer1",
            "first_name": "张三",
            "role": Role.TOWNSHIP_OFFICER,
            "region": tree.t1.code,
            "password": PASSWORD,
        },
    ).content.decode()
    assert "登录账号“officer1”已被使用" in bad
    with pytest.raises(PermissionDenied):
        services.user_create(
            username="r2", role=Role.COUNTY_REVIEWER, region=tree.county, password=PASSWORD, by=users.reviewer
        )
    assert not User.objects.filter(username__in=["x1", "r2"]).exists()


def test_staff_manage_only_their_regions_accounts(users, tree, login):
    city = login(users.city)
    listing = city.get("/accounts/manage/").content.decode()
    assert "reviewer1" in listing and "edu1" in listing and "api1" in listing
    assert "reviewer_dt" not in listing and "city2" not in listing and "province1" not in listing
    assert city.get(f"/accounts/manage/{users.canary_reviewer.pk}/").status_code == 404
    assert city.get(f"/accounts/manage/{users.city2.pk}/").status_code == 404
    assert city.post(f"/accounts/manage/{users.canary_officer.pk}/active/", {"active": "0"}).status_code == 404
    assert User.objects.get(pk=users.canary_officer.pk).is_active
    # officers and API clients manage no accounts
    assert login(users.officer).get("/accounts/manage/").status_code == 404
    assert login(users.api).get("/accounts/manage/").status_code == 404


def test_rename_deactivate_and_reset_a_password(users, login):
    city = login(users.city)
    assert (
        city.post(
            f"/accounts/manage/{users.officer.pk}/", {"first_name": "李明", "email": "li@example.org"}
        ).status_code
        == 302
    )
    users.officer.refresh_from_db()
    assert (users.officer.first_name, users.officer.email) == ("李明", "li@example.org")
    blank = city.post(f"/accounts/manage/{users.officer.pk}/", {"first_name": " ", "email": "nope"}).content.decode()
    assert "该字段是必填项" in blank and "请输入合法的邮件地址" in blank
    users.officer.refresh_from_db()
    assert users.officer.first_name == "李明"  # nothing changed by the bad post
    # a password reset shows a new password once; the old one stops working
    users.officer.set_password(PASSWORD)
    users.officer.save()
    page = city.post(f"/accounts/manage/{users.officer.pk}/password/")
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    secret = page.content.decode().split("data-secret>")[1].split("<")[0]
    assert not can_log_in("officer1", PASSWORD)
    assert can_log_in("officer1", secret)
    # deactivated: cannot log in; audited
    city.post(f"/accounts/manage/{users.officer.pk}/active/", {"active": "0"})
    assert not can_log_in("officer1", secret)
    actions = set(AuditEvent.objects.filter(actor=users.city).values_list("action", flat=True))
    assert {"user.updated", "user.password_reset", "user.deactivated"} <= actions


def test_a_city_issues_its_api_clients_token_shown_once_masked_after(users, login):
    city = login(users.city)
    page = city.post(f"/accounts/manage/{users.api.pk}/token/").content.decode()
    raw = page.split("data-secret>")[1].split("<")[0]
    assert len(raw) >= 40
    token = ApiToken.objects.get(user=users.api)
    # the token works, and no page shows it again: the list and the account show 8 characters
    assert Client().get("/api/v1/campaigns/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    for url in ("/accounts/manage/", f"/accounts/manage/{users.api.pk}/"):
        text = city.get(url).content.decode()
        assert raw not in text and f"{token.token_key[:6]}…" in text
    # a person's account gets no token, and the page says why
    city.post(f"/accounts/manage/{users.officer.pk}/token/")
    said = city.get(f"/accounts/manage/{users.officer.pk}/").content.decode()
    assert "令牌只发给接口客户端账号" in said and not ApiToken.objects.filter(user=users.officer).exists()
    # revoked
    city.post(f"/accounts/manage/{users.api.pk}/token/", {"revoke": "1"})
    assert not ApiToken.objects.filter(user=users.api).exists()
    assert login(users.reviewer).post(f"/accounts/manage/{users.api.pk}/token/").status_code == 404


def test_the_province_opens_the_next_year_and_sets_its_targets(users, tree, campaign, login):
    prov = login(users.province)
    page = prov.get(f"/campaigns/{campaign.slug}/").content.decode()
    assert "开启 2023 年度" in page and "80%" in page
    # one year at a time, the next one only
    prov.post(f"/campaigns/{campaign.slug}/open/", {"year": "2025"})
    campaign.refresh_from_db()
    assert campaign.end_year == 2022
    assert prov.post(f"/campaigns/{campaign.slug}/open/", {"year": "2023"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.end_year == 2023 and campaign.covers_year(2023)
    # 2023 inherits 2022's targets until set; then its own
    assert {t.rate for t in targets_for(campaign, 2023)} == {Decimal("0.8"), Decimal("0.9")}
    prov.post(f"/campaigns/{campaign.slug}/targets/", {"year": "2023", "rate_village_community": "85%"})
    assert Target.objects.get(campaign=campaign, year=2023, category="village_community").rate == Decimal("0.85")
    shown = prov.get(f"/campaigns/{campaign.slug}/?year=2023").content.decode()
    assert "85%" in shown and "沿用 2022 年度" in shown
    assert {"campaign.year_opened", "target.set"} <= set(
        AuditEvent.objects.filter(actor=users.province).values_list("action", flat=True)
    )


def test_bad_targets_are_refused_by_name_and_nothing_changes(users, tree, campaign):
    for raw, said in (("abc", "不是数字"), ("120", "必须在 0 到 100 之间"), ("", "请至少填写一个类别")):
        with pytest.raises(ServiceError) as refused:
            campaign_services.targets_set(
                campaign=campaign, year=2022, region=tree.province, rates={"village_community": raw}, by=users.province
            )
        assert said in " ".join(refused.value.messages)
    with pytest.raises(ServiceError) as refused:
        campaign_services.targets_set(
            campaign=campaign, year=2019, region=tree.province, rates={"village_community": "70"}, by=users.province
        )
    assert "不含 2019 年" in " ".join(refused.value.messages)
    assert Target.objects.get(campaign=campaign, year=2022, category="village_community").rate == Decimal("0.8")
    # not the campaign's level: a city may not set the province's targets
    with pytest.raises(PermissionDenied):
        campaign_services.targets_set(
            campaign=campaign, year=2022, region=tree.city, rates={"village_community": "70"}, by=users.city
        )


def test_a_city_cannot_open_the_provinces_campaign(users, campaign, login):
    assert login(users.city).get(f"/campaigns/{campaign.slug}/").status_code == 404
    assert login(users.city).post(f"/campaigns/{campaign.slug}/open/", {"year": "2023"}).status_code == 404
    campaign.refresh_from_db()
    assert campaign.end_year == 2022

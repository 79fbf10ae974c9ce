"""Special actions (专项行动): Jinzhong's eight shipped as data; progress recorded per
county by the departments that lead or cooperate, with evidence; progress by region
against the time passed, laggards flagged, on the page and in the API; bad input refused
with nothing stored."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sanling.kernel.errors import ServiceError
from supervision import actions, services
from supervision.models import ActionProgress, ActionTarget, ProgressEvidence, SpecialAction
from tests.factories import RegionFactory, UserFactory, dept, make_campaign
from units.models import Level, Role

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


def evidence():
    return [SimpleUploadedFile("台账.pdf", PDF)]


@pytest.fixture
def jinzhong(tree, standard):
    city = RegionFactory(code="140700000000", name="晋中市", level=Level.CITY, parent=tree.province)
    yuci = RegionFactory(code="140702000000", name="榆次区", level=Level.COUNTY, parent=city)
    taigu = RegionFactory(code="140703000000", name="太谷区", level=Level.COUNTY, parent=city)
    RegionFactory(code="140702001000", name="锦纶街道", level=Level.TOWNSHIP, parent=yuci)
    campaign = make_campaign(scope=city, standard=standard, slug="jinzhong-sanzhi-sanling")
    assert actions.load_actions() == 8
    police = UserFactory(
        username="yc_police", role=Role.DEPARTMENT_STAFF, region=yuci, department=dept(yuci, "public_security")
    )
    city_police = UserFactory(
        username="jz_police", role=Role.DEPARTMENT_STAFF, region=city, department=dept(city, "public_security")
    )
    edu = UserFactory(username="yc_edu", role=Role.DEPARTMENT_STAFF, region=yuci, department=dept(yuci, "education"))
    city_staff = UserFactory(username="jz_city", role=Role.CITY_STAFF, region=city)
    return {
        "city": city,
        "yuci": yuci,
        "taigu": taigu,
        "campaign": campaign,
        "police": police,
        "city_police": city_police,
        "edu": edu,
        "city_staff": city_staff,
        "patrols": ActionTarget.objects.get(action__code="joint-prevention", code="patrols"),
        "rentals": ActionTarget.objects.get(action__code="rental-housing", code="rentals-registered"),
    }


def test_jinzhongs_eight_actions_are_shipped_as_data(jinzhong):
    got = list(SpecialAction.objects.filter(campaign=jinzhong["campaign"]).order_by("order"))
    assert [a.name for a in got][:2] == ["创建单位和风险隐患“双排查”行动", "重点领域信访矛盾化解攻坚行动"]
    assert len(got) == 8 and got[-1].name == "出租房屋规范管理行动"
    li_jian = next(a for a in got if a.code == "ping-an-li-jian")
    assert li_jian.lead_kind == "public_security" and li_jian.lead_text == "市公安局"
    assert {"court", "procuratorate", "political_legal"} <= set(li_jian.cooperating_kinds)
    assert jinzhong["rentals"].measure == "rate" and jinzhong["rentals"].target == Decimal("1")
    assert (got[0].starts_on, got[0].ends_on) == (dt.date(2020, 1, 1), dt.date(2022, 12, 31))
    assert actions.load_actions() == 0  # a rerun leaves what is there


def test_progress_by_county_against_the_time_passed(jinzhong):
    p = jinzhong["police"]
    services.progress_record(
        target=jinzhong["patrols"],
        region=jinzhong["yuci"],
        as_of=dt.date(2022, 3, 31),
        value=10,
        uploads=evidence(),
        by=p,
    )
    services.progress_record(
        target=jinzhong["patrols"],
        region=jinzhong["yuci"],
        as_of=dt.date(2022, 6, 30),
        value=39,
        uploads=evidence(),
        by=p,
    )  # the latest figure of the year counts
    services.progress_record(
        target=jinzhong["rentals"],
        region=jinzhong["yuci"],
        as_of=dt.date(2022, 6, 30),
        value=450,
        denominator=500,
        uploads=evidence(),
        by=p,
    )
    # 2021's figure does not count for 2022
    ActionProgress.objects.create(
        target=jinzhong["patrols"],
        region=jinzhong["taigu"],
        department=jinzhong["city_police"].department,
        as_of=dt.date(2021, 12, 31),
        value=60,
    )
    on = dt.date(2022, 7, 2)  # 183 of 365 days passed
    rows = {
        (r.target.code, r.code): r for r in actions.progress(jinzhong["patrols"].action, 2022, jinzhong["city"], on=on)
    }
    yuci = rows[("patrols", jinzhong["yuci"].code)]
    assert (yuci.value, yuci.goal, yuci.reported) == (Decimal(39), Decimal(52), 1)
    assert yuci.completion == Decimal(39) / Decimal(52)  # 0.75
    assert yuci.expected == Decimal(183) / Decimal(365) and not yuci.lagging
    taigu = rows[("patrols", jinzhong["taigu"].code)]
    assert (taigu.value, taigu.reported, taigu.lagging) == (Decimal(0), 0, True)  # not reported: lagging
    rent = actions.progress(jinzhong["rentals"].action, 2022, jinzhong["city"], on=on)
    yuci_rent = next(r for r in rent if r.code == jinzhong["yuci"].code)
    assert yuci_rent.rate == Decimal("0.9") and yuci_rent.completion == Decimal("0.9")
    # the province sees the city as one row: both counties' counts add, the target once per county
    province = actions.progress(jinzhong["patrols"].action, 2022, jinzhong["city"].parent, on=on)
    city_row = next(r for r in province if r.code == jinzhong["city"].code)
    assert (city_row.value, city_row.goal, city_row.counties) == (Decimal(39), Decimal(104), 2)
    assert ProgressEvidence.objects.count() == 3


@pytest.mark.parametrize(
    "who, kw, field, message",
    [
        ("edu", {}, "target", "不是专项行动"),
        ("police", {"region": "taigu"}, "region", "须在榆次区之内"),
        ("police", {"region": "city"}, "region", "按县（市、区）填报"),
        ("police", {"as_of": timezone.localdate() + dt.timedelta(days=1)}, "as_of", "晚于今天"),
        ("police", {"as_of": dt.date(2019, 12, 31)}, "as_of", "不在行动期内"),
        ("police", {"value": "abc"}, "value", "不是数字"),
        ("police", {"value": "-3"}, "value", "不能为负数"),
        ("police", {"value": "NaN"}, "value", "不是数字"),
        ("police", {"value": "99999999999999999999"}, "value", "过大"),
        ("police", {"value": "1e400"}, "value", "过大"),
        ("police", {"value": "1.234"}, "value", "最多保留两位小数"),
        ("police", {"denominator": "10"}, "denominator", "数量指标不填基数"),
        ("police", {"uploads": []}, "file", "请上传佐证材料"),
        ("police", {"target": "rentals", "value": "5"}, "denominator", "须填写大于 0 的基数"),
        ("police", {"target": "rentals", "value": "60", "denominator": "50"}, "value", "大于基数"),
        (
            "police",
            {"uploads": [SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf")]},
            "file",
            "",
        ),
    ],
)
def test_bad_progress_is_refused_and_nothing_stored(jinzhong, who, kw, field, message):
    args = {
        "target": jinzhong["patrols"],
        "region": jinzhong["yuci"],
        "as_of": dt.date(2022, 6, 30),
        "value": "12",
        "uploads": evidence(),
    }
    args.update(kw)
    for key in ("region", "target"):
        if isinstance(args[key], str):
            args[key] = jinzhong[args[key]]
    with pytest.raises(ServiceError) as exc:
        services.progress_record(**args, by=jinzhong[who])
    assert field in exc.value.message_dict and message in " ".join(exc.value.message_dict[field])
    assert not ActionProgress.objects.exists() and not ProgressEvidence.objects.exists()


def test_only_departments_report_progress(jinzhong):
    with pytest.raises(PermissionDenied):
        services.progress_record(
            target=jinzhong["patrols"],
            region=jinzhong["yuci"],
            as_of=dt.date(2022, 6, 30),
            value=1,
            uploads=evidence(),
            by=jinzhong["city_staff"],
        )


def test_the_page_and_the_api_show_progress_and_laggards(client, jinzhong, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    campaign = jinzhong["campaign"]
    client.force_login(jinzhong["police"])
    resp = client.post(
        "/supervision/actions/progress/",
        {
            "campaign": campaign.slug,
            "target": jinzhong["patrols"].pk,
            "region": jinzhong["yuci"].code,
            "as_of": "2022-06-30",
            "value": "39",
            "file": SimpleUploadedFile("巡逻台账.pdf", PDF),
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    bad = client.post(
        "/supervision/actions/progress/",
        {
            "campaign": campaign.slug,
            "target": jinzhong["patrols"].pk,
            "region": jinzhong["taigu"].code,
            "as_of": "2022-06-30",
            "value": "5",
        },
    )
    assert bad.status_code == 400 and "不在您的管辖范围内" in bad.content.decode()
    assert ActionProgress.objects.count() == 1

    client.force_login(jinzhong["city_staff"])
    page = client.get("/supervision/actions/", {"campaign": campaign.slug, "year": 2022}).content.decode()
    assert "社会治安联防联控行动" in page and "市公安局" in page
    assert f'data-laggard="{jinzhong["taigu"].code}"' in page  # 太谷 reported nothing
    assert 'id="report-progress"' not in page  # staff read; departments report

    api = client.get(
        f"/api/v1/special-actions/{jinzhong['patrols'].action_id}/progress/",
        {"year": 2022, "region": jinzhong["city"].code},
    ).json()
    rows = {(r["target"], r["region_code"]): r for r in api["rows"]}
    assert rows[("patrols", jinzhong["yuci"].code)]["value"] == 39.0
    assert rows[("patrols", jinzhong["yuci"].code)]["goal"] == 52.0
    assert jinzhong["taigu"].code in api["laggards"]
    listed = client.get("/api/v1/special-actions/", {"campaign__slug": campaign.slug}).json()
    assert listed["count"] == 8
    # the API takes a department's figures too, and refuses others
    client.force_login(jinzhong["police"])
    url = f"/api/v1/special-actions/{jinzhong['rentals'].action_id}/progress/"
    ok = client.post(
        url,
        {
            "target": "rentals-registered",
            "region": jinzhong["yuci"].code,
            "as_of": "2022-06-30",
            "value": "90",
            "denominator": "100",
            "file": SimpleUploadedFile("登记.pdf", PDF),
        },
    )
    assert ok.status_code == 201, ok.json()
    missing = client.post(
        url,
        {
            "target": "nope",
            "region": jinzhong["yuci"].code,
            "as_of": "2022-06-30",
            "value": "1",
            "file": SimpleUploadedFile("a.pdf", PDF),
        },
    )
    assert missing.status_code == 400 and "没有指标" in missing.json()["error"]["message"]
    client.force_login(jinzhong["city_staff"])
    assert client.post(url, {}).status_code == 403


def test_each_department_reports_its_part_and_sees_its_own_evidence(client, jinzhong, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    zfw = UserFactory(
        username="yc_zfw",
        role=Role.DEPARTMENT_STAFF,
        region=jinzhong["yuci"],
        department=dept(jinzhong["yuci"], "political_legal"),
    )
    common = {"target": jinzhong["patrols"], "region": jinzhong["yuci"], "uploads": evidence()}
    police = services.progress_record(**common, as_of=dt.date(2022, 6, 30), value=39, by=jinzhong["police"])
    services.progress_record(**{**common, "uploads": evidence()}, as_of=dt.date(2022, 7, 1), value=10, by=zfw)
    row = next(
        r
        for r in actions.progress(jinzhong["patrols"].action, 2022, jinzhong["city"], on=dt.date(2022, 7, 2))
        if r.code == jinzhong["yuci"].code
    )
    # the cooperating 政法委's later figure adds to the police's, it does not replace it
    assert (row.value, row.reported) == (Decimal(49), 1)
    ev = police.evidence.get()
    url = f"/supervision/actions/evidence/{ev.pk}/"
    for who, status in (("police", 200), ("city_staff", 200), ("edu", 404)):
        client.force_login(jinzhong[who])
        assert client.get(url).status_code == status, who
    client.force_login(zfw)
    assert client.get(url).status_code == 404  # another department's file

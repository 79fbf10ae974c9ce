"""Found in daily use (the phone-and-province-scale issue): a veto item takes full marks
or nothing; the township is told of a return (tests/supervision/test_decision_notifications.py);
evidence named as an image must be one; Redoc loads nothing from the internet; the
favicon is served; a telephone number must look like one, on the form and in the import;
each rectification action says what it did; 提交审核 asks first (the browser walk)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from supervision import services as supervision
from tests.factories import UnitFactory, dept
from units.models import Unit
from units.services import unit_register

pytestmark = pytest.mark.django_db


def test_redoc_and_the_favicon_need_no_internet(client, users):
    client.force_login(users.reviewer)
    redoc = client.get("/api/v1/redoc/").content.decode()
    assert "googleapis" not in redoc and "gstatic" not in redoc and "cdn." not in redoc
    assert "/static/" in redoc  # Redoc itself from the sidecar's static files
    fav = client.get("/favicon.ico")
    assert fav.status_code == 301 and fav["Location"].endswith("favicon.ico") and "/static/" in fav["Location"]
    assert 'rel="icon"' in client.get("/units/").content.decode()


@pytest.mark.parametrize(
    "phone", ["0351-1234567", "13812345678", "+86 351 1234567", "(0351) 1234567", "0351-1234567 转 123"]
)
def test_real_telephone_numbers_are_accepted(tree, users, phone):
    u = unit_register(
        township=tree.t1, code="140105001777", name="甲村", kind="village", contact_phone=phone, by=users.officer
    )
    assert u.contact_phone == phone


@pytest.mark.parametrize("phone", ["abc", "12", "电话 123456", "0351-abc-1234"])
def test_a_telephone_number_that_is_none_is_refused(tree, users, phone, login):
    with pytest.raises(ValidationError) as exc:
        unit_register(
            township=tree.t1, code="140105001777", name="甲村", kind="village", contact_phone=phone, by=users.officer
        )
    assert "有效的电话号码" in str(exc.value)
    text = f"单位代码,单位名称,类型,所属乡镇代码,联系电话\n140105001778,乙村,村,{tree.t1.code},{phone}\n"
    f = SimpleUploadedFile("units.csv", text.encode("utf-8"), content_type="text/csv")
    resp = login(users.officer).post("/units/import/", {"file": f})
    assert "不是有效的电话号码" in resp.content.decode()
    assert not Unit.objects.exists()


def test_each_rectification_action_says_what_it_did(tree, users, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    unit = UnitFactory(township=tree.t1)
    t = supervision.task_open(
        unit=unit,
        title="消防通道",
        leader="甲",
        lead_department=dept(unit),
        deadline=timezone.localdate() + dt.timedelta(days=3),
        by=users.reviewer,
    )
    officer = login(users.officer)
    page = officer.post(f"/supervision/rectifications/{t.pk}/start/", follow=True).content.decode()
    assert "已开始整改" in page
    page = officer.post(
        f"/supervision/rectifications/{t.pk}/evidence/",
        {"file": SimpleUploadedFile("现场.pdf", b"%PDF-1.4\n%%EOF\n")},
        follow=True,
    ).content.decode()
    assert "已上传整改佐证" in page and "已保存" not in page


def test_an_api_client_account_gets_no_web_menu_and_the_portals_own_404(client, users, settings):
    settings.DEBUG = True  # make run: Django would show its English technical page
    client.force_login(users.api)
    home = client.get("/").content.decode()
    assert "接口文档" in home and 'href="/units/"' not in home and 'href="/reports/"' not in home
    for url in ("/reports/", "/assessments/queue/"):
        resp = client.get(url)
        body = resp.content.decode()
        assert resp.status_code == 404 and "页面不存在或不在您的权限范围内" in body, url
        assert "Page not found" not in body and "URLconf" not in body and "退出" in body
    assert client.get("/api/v1/units/999999/").json()["error"]["code"] in ("not_found", "permission_denied")


def test_the_published_list_names_its_region_once_and_no_overdue_is_not_red(client, users, tree, standard):
    from tests.factories import make_campaign

    c = make_campaign(scope=tree.province, standard=standard, slug="sx-title")
    c.name = "山西省“三零”单位创建"
    c.save(update_fields=["name"])
    client.force_login(users.province)
    page = client.get("/reports/published/", {"campaign": c.slug, "year": 2022}).content.decode()
    assert "2022年度山西省“三零”单位创建达标单位名单" in page and "山西省2022年度山西省" not in page
    city = client.get(
        "/reports/published/", {"campaign": c.slug, "year": 2022, "region": tree.city.code}
    ).content.decode()
    assert "太原市2022年度山西省“三零”单位创建达标单位名单" in city
    dash = client.get("/reports/", {"campaign": c.slug, "year": 2022}).content.decode()
    assert 'class="figure ok" data-overdue>0<' in dash


def test_the_review_form_says_what_is_wrong_in_chinese(tree, users, campaign, login):
    from tests.factories import make_assessment

    a = make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="submitted")
    reviewer = login(users.reviewer)
    page = reviewer.get(f"/assessments/{a.pk}/review/").content.decode()
    assert '<form method="post" novalidate>' in page  # no browser tooltip in the browser's language
    item = a.scores.get(item__code="1.1").item_id
    resp = reviewer.post(
        f"/assessments/{a.pk}/review/",
        {"action": "approve", "lock_version": a.lock_version, f"review_{item}": "99", f"review_note_{item}": "x"},
    )
    assert "超过该项满分" in resp.content.decode()
    from tests.factories import make_incident

    make_incident(unit=a.unit, kind="criminal_case", occurred_on=dt.date(2022, 4, 1))
    assert 'id="unit-incidents"' in reviewer.get(f"/assessments/{a.pk}/review/").content.decode()
    assert "刑事案件" in reviewer.get(f"/assessments/{a.pk}/review/").content.decode()


def test_lists_are_paginated_with_counts_not_cut(tree, users, campaign, login):
    from inspections.models import Assessment
    from tests.factories import make_assessment

    units = [UnitFactory(township=tree.t1, name=f"第{i:03d}村") for i in range(130)]
    for u in units[:105]:
        make_assessment(unit=u, campaign=campaign, status="submitted")
    officer = login(users.officer)
    page = officer.get("/assessments/", {"campaign": campaign.slug, "year": 2022}).content.decode()
    assert "共 130 个单位" in page and "第 1 / 2 页" in page
    # the list is in code order; the factory's codes wrap at 998, so the last is found, not assumed
    last = max(units, key=lambda u: u.code)
    assert (
        last.name in officer.get("/assessments/", {"campaign": campaign.slug, "year": 2022, "page": 2}).content.decode()
    )
    started = officer.get(
        "/assessments/", {"campaign": campaign.slug, "year": 2022, "state": "not_started"}
    ).content.decode()
    assert "共 25 个单位" in started and "第000村" not in started
    found = officer.get("/assessments/", {"campaign": campaign.slug, "year": 2022, "q": "第042"}).content.decode()
    assert "共 1 个单位" in found
    reviewer = login(users.reviewer)
    queue = reviewer.get("/assessments/queue/").content.decode()
    assert "共 105 份待审核" in queue and "第 1 / 2 页" in queue
    assert queue.count("data-assessment=") == 100
    assert Assessment.objects.filter(status="submitted").count() == 105


def test_a_closed_task_is_not_offered_for_rework(tree, users, login, settings, tmp_path):
    from sanling.kernel.errors import ServiceError
    from supervision import workflow

    settings.MEDIA_ROOT = tmp_path
    unit = UnitFactory(township=tree.t1)
    t = supervision.task_open(
        unit=unit,
        title="消防通道",
        leader="甲",
        lead_department=dept(unit),
        deadline=timezone.localdate(),
        by=users.reviewer,
    )
    supervision.task_add_evidence(task=t, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), by=users.officer)
    supervision.task_report(task=t, note="已清理", root_cause="无人管", lasting_measure="每日巡查", by=users.officer)
    t = supervision.task_verify(task=t, by=users.reviewer)
    assert "reopen" not in workflow.allowed_actions(t, users.reviewer)
    assert "退回重整" not in login(users.reviewer).get(f"/supervision/rectifications/{t.pk}/").content.decode()
    with pytest.raises(ServiceError):
        supervision.task_reopen(task=t, reason="再查", by=users.reviewer)


def test_issuing_a_token_for_a_person_says_why_not(client, users):
    client.force_login(users.admin)
    resp = client.post("/api/v1/auth/tokens/", {"username": users.officer.username}, content_type="application/json")
    assert resp.status_code == 400
    assert "令牌只发给接口客户端账号" in resp.json()["error"]["message"]
    ok = client.post("/api/v1/auth/tokens/", {"username": users.api.username}, content_type="application/json")
    assert ok.status_code == 201
    missing = client.post("/api/v1/auth/tokens/", {"username": "nobody"}, content_type="application/json")
    assert missing.status_code == 404


def test_the_unit_page_links_its_assessment_and_shows_its_incidents_and_laggards_link(tree, users, campaign, login):
    from reports import rollup
    from tests.factories import make_assessment, make_incident

    unit = UnitFactory(township=tree.t1, name="杏花村")
    a = make_assessment(unit=unit, campaign=campaign, status="approved")
    make_incident(unit=unit, kind="petition", occurred_on=dt.date(2022, 5, 1))
    page = login(users.reviewer).get(f"/reports/unit/{unit.pk}/").content.decode()
    assert f'href="/assessments/{a.pk}/"' in page and "data-incident=" in page and "上访" in page
    rollup.run(campaign_id=campaign.id, year=2022)
    dash = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": 2022}).content.decode()
    assert f'data-laggard="{tree.county.code}"' in dash


def test_a_citys_ledger_counts_its_counties_a_countys_its_townships(tree, users, login):
    for town in (tree.t1, tree.t2):
        unit = UnitFactory(township=town)
        supervision.task_open(
            unit=unit,
            title="隐患",
            leader="甲",
            lead_department=dept(unit),
            deadline=timezone.localdate(),
            by=users.reviewer,
        )
    city = login(users.city).get("/supervision/rectifications/").content.decode()
    assert f'data-child="{tree.county.code}"' in city and f'data-child="{tree.t1.code}"' not in city
    county = login(users.reviewer).get("/supervision/rectifications/").content.decode()
    assert f'data-child="{tree.t1.code}"' in county and f'data-child="{tree.t2.code}"' in county


def test_the_admin_speaks_chinese_choices_codes_and_names(client, users, campaign):
    from units.models import AuditEvent

    users.officer.first_name = "张三"
    users.officer.save(update_fields=["first_name"])
    assert str(users.officer) == "张三（officer1）"
    client.force_login(users.admin)
    page = client.get(f"/admin/standards/campaign/{campaign.pk}/change/").content.decode()
    assert 'type="checkbox" name="zero_kinds"' in page and "命案" in page and '["petition"' not in page
    from units.audit import audit

    audit(actor=users.officer, action="assessment.returned")
    assert AuditEvent.objects.filter(action="assessment.returned").exists()
    audit = client.get("/admin/units/auditevent/").content.decode()
    assert "退回自评（assessment.returned）" in audit


def test_unit_and_township_codes_can_be_searched_as_typed(client, users, tree, canary):
    UnitFactory(township=tree.t1, code="140105001321", name="杏花村")
    client.force_login(users.officer)
    found = client.get("/units/lookup/", {"unit_code": "杏花"}).content.decode()
    assert 'value="140105001321"' in found and "杏花村 · 坞城街道" in found
    assert client.get("/units/lookup/", {"unit_code": "14010500132"}).content.decode().count("<option") == 1
    assert "金丝雀" not in client.get("/units/lookup/", {"unit_code": "金丝雀"}).content.decode()  # not its township
    assert client.get("/units/lookup/", {"unit_code": "1"}).content == b""  # two characters at least
    client.force_login(users.reviewer)
    towns = client.get("/units/lookup/townships/", {"township": "街道"}).content.decode()
    assert "坞城街道" in towns and "营盘街道" in towns and "南关街道" not in towns
    form = client.get("/supervision/rectifications/new/").content.decode()
    assert 'list="unit-options"' in form and 'id="township-options"' in form
    client.force_login(users.police)
    assert "金丝雀" not in client.get("/units/lookup/", {"unit_code": "金丝雀", "for": "incident"}).content.decode()


def test_demo_assessments_of_a_past_year_carry_dates_of_that_year(tree, campaign):
    from inspections.demo import seed_assessments
    from inspections.models import Assessment

    UnitFactory(township=tree.t1)
    UnitFactory(township=tree.t2)
    seed_assessments(campaign=campaign, year=2020, seed=1, log=lambda *_: None)
    for a in Assessment.objects.filter(year=2020):
        assert a.created_at.year == 2020
        if a.submitted_at:
            assert a.submitted_at.year == 2020
        if a.approved_at:
            assert a.approved_at.year == 2020


def test_demo_item_scores_written_set_wise_add_up_to_each_assessments_score(tree, campaign):
    from inspections import scoring
    from inspections.demo import seed_assessments
    from inspections.models import Assessment

    for _ in range(40):
        UnitFactory(township=tree.t1)
    _, n_scores, _ = seed_assessments(campaign=campaign, year=2021, seed=3, log=lambda *_: None)
    assessments = list(Assessment.objects.filter(year=2021).select_related("unit").prefetch_related("scores"))
    assert assessments and n_scores == sum(len(a.scores.all()) for a in assessments)
    finals = set()
    for a in assessments:
        items = list(scoring.applicable_items(a.standard, a.unit.category))
        assert {s.item_id for s in a.scores.all()} == {i.id for i in items}
        result = scoring.compute(items, {s.item_id: s.self_score for s in a.scores.all()})
        assert (result.final, result.veto_failed) == (a.final_score, a.veto_failed), a.pk
        finals.add(a.final_score)
    assert len(finals) > 5  # drawn from many patterns, not one


def test_the_zero_conditions_menu_only_where_a_campaign_has_them(users, campaign, login):
    officer = login(users.officer)
    page = officer.get("/assessments/").content.decode()
    assert "/assessments/conditions/" not in page  # the campaign has no 零盲区: no entry leading to a 404
    assert officer.get("/assessments/conditions/").status_code == 404
    campaign.conditions = ["grid_coverage"]
    campaign.save(update_fields=["conditions"])
    assert 'href="/assessments/conditions/"' in officer.get("/assessments/").content.decode()
    assert officer.get("/assessments/conditions/").status_code == 200


def test_no_progress_form_for_a_department_with_nothing_to_report(users, campaign, login):
    # 小店区's 教育局 under a campaign without special actions: the page says so, offers no form
    page = login(users.education).get("/supervision/actions/").content.decode()
    assert "本活动没有专项行动" in page and 'id="report-progress"' not in page


def test_the_published_list_comes_in_pages_numbered_on_within_each_category(users, tree, campaign, login, monkeypatch):
    import re

    from reports import rollup, views
    from tests.factories import make_assessment

    monkeypatch.setattr(views, "PUBLISHED_PAGE", 3)
    for n in range(5):
        make_assessment(unit=UnitFactory(township=tree.t1, name=f"村{n}"), campaign=campaign, status="approved")
    for n in range(2):
        make_assessment(
            unit=UnitFactory(township=tree.t1, name=f"企业{n}", kind="enterprise"), campaign=campaign, status="approved"
        )
    rollup.run(campaign_id=campaign.id, year=2022)
    client = login(users.province)
    q = {"campaign": campaign.slug, "year": 2022}
    pages = [client.get("/reports/published/", {**q, "page": p}).content.decode() for p in (1, 2, 3)]
    assert all("共 7 个单位" in p for p in pages) and "第 1 / 3 页" in pages[0]
    serials = [re.findall(r"<tr><td>(\d+)</td>", p) for p in pages]
    # 企事业单位 (enterprise_institution) sorts first: 1, 2; then 村（社区）1–5, across the pages
    assert serials == [["1", "2", "1"], ["2", "3", "4"], ["5"]]
    assert "企事业单位（2）" in pages[0] and "村（社区）（5）" in pages[1]


def test_the_units_list_filters_by_a_typed_region_code(users, tree, canary, login):
    UnitFactory(township=tree.t1, name="坞城村")
    UnitFactory(township=tree.t2, name="营盘村")
    city = login(users.city)
    page = city.get("/units/", {"region": tree.t1.code}).content.decode()
    assert "坞城村" in page and "营盘村" not in page
    assert "<option" not in page.split('name="region"')[0][-200:]  # a search field, not a select of every region
    foreign = city.get("/units/", {"region": tree.canary_township.code}).content.decode()
    assert f"区划代码 {tree.canary_township.code} 不存在或不在您的管辖范围内" in foreign and "金丝雀村" not in foreign

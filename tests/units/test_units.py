"""Units in the browser: scoped lists, register/edit/archive, bad input, bulk import."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests.factories import UnitFactory
from units import access
from units.models import AuditEvent, Unit


def xlsx(rows, header=("单位代码", "单位名称", "类型", "所属乡镇代码", "地址", "联系人", "联系电话")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "units.xlsx"
    return out


def csv_file(text, encoding="utf-8", name="units.csv"):
    f = io.BytesIO(text.encode(encoding))
    f.name = name
    return f


@pytest.fixture
def mine(tree):
    return [UnitFactory(township=tree.t1, name=f"本乡单位{i}") for i in range(3)]


def test_list_is_scoped_and_filters(login, users, tree, mine, canary, django_assert_max_num_queries):
    UnitFactory(township=tree.t2, name="邻乡单位")
    client = login(users.officer)
    with django_assert_max_num_queries(9):  # 8 + the top bar's unread-notification count
        resp = client.get("/units/")
    html = resp.content.decode()
    assert "本乡单位0" in html and "邻乡单位" not in html and "金丝雀村" not in html
    assert "金丝雀村" not in login(users.city).get("/units/").content.decode()
    assert "金丝雀村" in login(users.province).get("/units/").content.decode()
    resp = login(users.city).get("/units/", {"region": tree.t2.code})
    assert [u.name for u in resp.context["page"]] == ["邻乡单位"]
    resp = login(users.city).get("/units/", {"q": "本乡单位1"})
    assert [u.name for u in resp.context["page"]] == ["本乡单位1"]


def test_access_helpers(users, tree, mine, canary):
    assert set(access.visible_units(users.officer)) == set(mine)
    assert canary not in access.visible_units(users.reviewer)
    assert canary in access.visible_units(users.admin)
    assert not access.can_see_region(users.city, tree.canary_township)


def test_register_edit_archive(login, users, tree):
    client = login(users.officer)
    resp = client.post(
        "/units/new/", {"township": tree.t1.code, "code": "140105001123", "name": "新村", "kind": "village"}
    )
    assert resp.status_code == 302
    unit = Unit.objects.get(code="140105001123")
    assert unit.category == "village_community"
    client.post(f"/units/{unit.id}/edit/", {"name": "新村（改）", "kind": "community"})
    unit.refresh_from_db()
    assert unit.name == "新村（改）" and unit.township_id == tree.t1.code
    client.post(f"/units/{unit.id}/archive/")
    unit.refresh_from_db()
    assert unit.active is False
    assert list(
        AuditEvent.objects.filter(target_type="units.unit", target_id=str(unit.id))
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["unit.registered", "unit.updated", "unit.archived"]
    assert unit.history.count() == 3


@pytest.mark.parametrize(
    "data,message",
    [
        ({"code": "140105002001", "kind": "village"}, "不在所属乡镇"),
        ({"code": "140105001001", "kind": "village"}, "已被登记"),
        ({"code": "140105001777", "kind": "spaceport"}, "未知的类型"),
        ({"code": "12345", "kind": "village"}, "12 至 15 位数字"),
    ],
)
def test_register_bad_input_changes_nothing(login, users, tree, data, message):
    UnitFactory(township=tree.t1, code="140105001001")
    before = list(Unit.objects.values_list("code", "name"))
    resp = login(users.officer).post("/units/new/", {"township": tree.t1.code, "name": "坏单位", **data})
    assert resp.status_code == 200 and message in resp.content.decode()
    assert list(Unit.objects.values_list("code", "name")) == before


def test_officer_cannot_touch_other_township(login, users, tree, canary):
    client = login(users.officer)
    assert client.get(f"/units/{canary.id}/edit/").status_code == 404
    assert client.post(f"/units/{canary.id}/archive/").status_code == 404
    resp = client.post(
        "/units/new/", {"township": tree.t2.code, "code": "140105002555", "name": "越界", "kind": "village"}
    )
    assert resp.status_code == 200 and not Unit.objects.filter(code="140105002555").exists()
    canary.refresh_from_db()
    assert canary.active
    assert login(users.city).get("/units/new/").status_code == 404  # staff do not register units


def test_import_xlsx_all_rows(login, users, tree):
    f = xlsx(
        [
            ("140105001201", "甲村", "村", tree.t1.code, "", "", ""),
            ("140105001202", "乙校", "学校", tree.t1.code, "路 1 号", "李四", "0351-1234567"),
            ("140105001203", "丙厂", "factory_mine", tree.t1.code, "", "", ""),
        ]
    )
    resp = login(users.officer).post("/units/import/", {"file": f})
    assert resp.status_code == 302
    assert Unit.objects.filter(township=tree.t1).count() == 3
    assert Unit.objects.get(code="140105001202").category == "enterprise_institution"
    ev = AuditEvent.objects.get(action="unit.imported")
    assert ev.detail["count"] == 3


def test_import_csv_gb18030(login, users, tree):
    text = "单位代码,单位名称,类型,所属乡镇代码\n140105001301,丁社区,社区,140105001000\n"
    resp = login(users.officer).post("/units/import/", {"file": csv_file(text, "gb18030")})
    assert resp.status_code == 302 and Unit.objects.filter(code="140105001301", name="丁社区").exists()


def test_import_with_bad_rows_stores_nothing_and_reports_each(login, users, tree):
    UnitFactory(township=tree.t1, code="140105001999")
    f = xlsx(
        [
            ("140105001401", "好村", "村", tree.t1.code),
            ("140105001999", "重复村", "村", tree.t1.code),
            ("140105001402", "", "飞船", tree.t1.code),
            ("140105002403", "越界村", "村", tree.t2.code),
            ("140105001401", "又一个", "村", tree.t1.code),
            ("140105001405", "无乡村", "村", "149999999000"),
        ]
    )
    resp = login(users.officer).post("/units/import/", {"file": f})
    assert resp.status_code == 200
    errors = {(e.row, e.column): e.message for e in resp.context["errors"]}
    assert "已被登记" in errors[(3, "单位代码")]
    assert errors[(4, "单位名称")] == "必填" and "未知的类型“飞船”" in errors[(4, "类型")]
    assert "不在您的管辖范围内" in errors[(5, "所属乡镇代码")]
    assert "与第 2 行重复" in errors[(6, "单位代码")]
    assert "不存在" in errors[(7, "所属乡镇代码")]
    assert Unit.objects.count() == 1


@pytest.mark.parametrize(
    "upload,message",
    [
        (csv_file("x", name="units.txt"), "只支持 .xlsx 或 .csv"),
        (csv_file("", name="units.csv"), "提交的是空文件"),  # Django's own message
        (csv_file("\n\n", name="units.csv"), "文件是空的"),
        (csv_file("名称,地址\n甲,乙\n", name="units.csv"), "表头缺少必需的列：单位代码、单位名称、类型、所属乡镇代码"),
        (csv_file("PK\x03\x04garbage", name="units.xlsx"), "无法读取该 XLSX 文件"),
    ],
)
def test_import_malformed_file(login, users, tree, upload, message):
    resp = login(users.officer).post("/units/import/", {"file": upload})
    assert message in resp.content.decode()
    assert Unit.objects.count() == 0


def test_import_ten_thousand_rows(login, users, tree):
    rows = [(f"140105001{i:06d}", f"村{i}", "村", tree.t1.code) for i in range(10_000)]
    started = time.monotonic()
    resp = login(users.officer).post("/units/import/", {"file": xlsx(rows)})
    print(f"10,000-row import: {time.monotonic() - started:.1f}s")  # recorded in docs/benchmarks.md
    assert resp.status_code == 302
    assert Unit.objects.filter(township=tree.t1).count() == 10_000


def test_template_download(login, users):
    resp = login(users.officer).get("/units/import/template.xlsx")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"


def test_admin_unit_list_is_scoped(client, users, tree, canary):
    # the admin is for administrators; a region-scoped one (太原) sees its region only
    from tests.factories import UserFactory
    from units.models import Role

    taiyuan_admin = UserFactory(username="taiyuan_admin", role=Role.ADMIN, region=tree.city, is_staff=True)
    UnitFactory(township=tree.t1, name="太原单位")
    client.force_login(taiyuan_admin)
    html = client.get("/admin/units/unit/").content.decode()
    assert "太原单位" in html and "金丝雀村" not in html


def test_archive_restore_register_and_import_reach_this_years_rollup_not_a_past_one(
    login, users, tree, campaign, django_capture_on_commit_callbacks
):
    # given: one attained village in t1 in 2022 and this year, both rolled up
    from django.utils import timezone

    from reports import rollup
    from tests.factories import figures, make_assessment

    this = timezone.localdate().year
    campaign.end_year = this
    campaign.save(update_fields=["end_year"])
    unit = UnitFactory(township=tree.t1, name="杏花村")
    for year in (2022, this):
        make_assessment(unit=unit, campaign=campaign, year=year, status="approved")
        rollup.run(campaign_id=campaign.id, year=year)
    assert figures(campaign, tree.t1, year=this) == (1, 1) == figures(campaign, tree.t1, year=2022)
    client = login(users.officer)
    # when: it is archived through the page: it leaves this year's denominator
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/units/{unit.id}/archive/")
    assert figures(campaign, tree.t1, year=this) == (0, 0) and figures(campaign, tree.province, year=this) == (0, 0)
    # restored: back
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/units/{unit.id}/archive/", {"restore": "1"})
    assert figures(campaign, tree.t1, year=this) == (1, 1)
    # a unit registered through the page, and two imported, join this year's denominator
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/units/new/", {"township": tree.t1.code, "code": "140105001123", "name": "新村", "kind": "village"}
        )
    assert figures(campaign, tree.t1, year=this) == (2, 1)
    sheet = (
        "单位代码,单位名称,类型,所属乡镇代码\n140105001124,甲村,村,140105001000\n140105001125,乙村,村,140105001000\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/units/import/", {"file": SimpleUploadedFile("u.csv", sheet.encode())})
    assert resp.status_code == 302
    assert figures(campaign, tree.t1, year=this) == (4, 1) and figures(campaign, tree.province, year=this) == (4, 1)
    # and 2022 stands, even recomputed: none of it happened then
    rollup.run(campaign_id=campaign.id, year=2022)
    assert figures(campaign, tree.t1, year=2022) == (1, 1)

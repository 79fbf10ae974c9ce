"""The rectification ledger in a real browser: the county opens a task, the township
reports it done with a photo, the county closes it; an overdue task is highlighted and
the XLSX export matches. Screenshots go to test-artifacts/."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from supervision import services
from supervision.models import Rectification, TaskStatus
from tests.factories import UnitFactory, dept

from .test_dashboard import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
# a real 1×1 PNG: evidence must decode as the image it claims to be
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_open_report_close_and_overdue_in_the_browser(page, live_server, tree, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ART.mkdir(exist_ok=True)
    today = timezone.localdate()
    unit = UnitFactory(township=tree.t1, name="坞城村")
    dept(tree.t1, "emergency")
    late = services.task_open(
        unit=UnitFactory(township=tree.t2, name="营盘社区"),
        title="监控盲区未消除",
        leader="李书记",
        lead_department=dept(tree.t2),
        deadline=today,
        by=users.reviewer,
    )
    Rectification.objects.filter(pk=late.pk).update(deadline=today - dt.timedelta(days=3))
    services.mark_overdue()

    # the county opens a task from the browser; a past deadline is refused first
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/supervision/rectifications/new/")
    page.fill("input[name=unit_code]", unit.code)
    page.wait_for_load_state("networkidle")  # the picker's search for the typed code answered
    page.fill("input[name=title]", "消防通道堵塞")
    page.select_option("select[name=source]", "hazard")
    page.fill("input[name=leader]", "王镇长")
    page.select_option("select[name=lead_department]", label="小店区应急管理局")
    page.fill("input[name=deadline]", (today - dt.timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.click("form.narrow button[type=submit]")
    assert "早于今天" in page.inner_text(".errorlist")
    page.fill("input[name=deadline]", (today + dt.timedelta(days=7)).isoformat())
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('消防通道堵塞')")
    task = Rectification.objects.get(title="消防通道堵塞")

    # the ledger: overdue task first and highlighted, counts per township
    page.goto(f"{live_server.url}/supervision/rectifications/")
    rows = page.locator("table.tasks tbody tr")
    assert rows.nth(0).get_attribute("class") == "overdue" and "监控盲区未消除" in rows.nth(0).inner_text()
    assert page.inner_text("[data-count=overdue]") == "1" and page.inner_text("[data-count=open]") == "2"
    page.screenshot(path=str(ART / "rectification-ledger.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("text=导出 XLSX")
    ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
    exported = {r[3]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(exported) == {"监控盲区未消除", "消防通道堵塞"} and exported["监控盲区未消除"][12] == "是"

    # the township uploads a photo and reports it done; it cannot close it itself
    page.click("button:has-text('退出')")
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/supervision/rectifications/{task.pk}/")
    page.set_input_files("input[name=file]", {"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG})
    page.click("button:has-text('上传')")
    page.fill("textarea[name=note]", "已清理通道并设置警示标志")
    page.fill("textarea[name=root_cause]", "堆放杂物无人管理")
    page.fill("textarea[name=lasting_measure]", "每日巡查，纳入网格员职责")
    page.click("button:has-text('报告整改完成')")
    assert "已报告完成" in page.inner_text("h1")
    assert page.locator("button:has-text('验收销号')").count() == 0

    # the county verifies and closes it
    page.click("button:has-text('退出')")
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/supervision/rectifications/{task.pk}/")
    page.click("button:has-text('验收销号')")
    assert "已销号" in page.inner_text("h1")
    page.screenshot(path=str(ART / "rectification-closed.png"), full_page=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED and task.evidence.count() == 1

"""A department works a rectification task in a real browser: the county opens a task for
a township as a whole, led by its public security department (the lead cannot also
cooperate); the police filter the ledger to their own tasks, start the task, finish its
milestones, upload a photo and report it done — not before the cause is analysed (三不放过);
another department cannot even see it; the county closes it. Screenshot in test-artifacts/."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from supervision.models import Rectification, TaskStatus
from tests.factories import dept

from .test_dashboard import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
# a real 1×1 PNG: evidence must decode as the image it claims to be
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
TITLE = "治安盲区整治"
ROOT_CAUSE = "出租房屋流动人口底数不清"
LASTING_MEASURE = "网格员每周走访，派出所每月核查"


def test_department_works_a_township_task_to_closing(page, live_server, tree, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ART.mkdir(exist_ok=True)
    today = timezone.localdate()
    police = users.police.department
    political_legal = dept(tree.county, "political_legal")
    survey_by, fix_by = today + dt.timedelta(days=5), today + dt.timedelta(days=15)

    # the county opens a task for 坞城街道 as a whole; the lead cannot also cooperate
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/supervision/rectifications/new/")
    page.fill("input[name=township]", tree.t1.code)
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=source]", "hazard")
    page.fill("input[name=leader]", "张副区长")
    page.select_option("select[name=lead_department]", label=police.name)
    page.select_option("select[name=cooperating_departments]", label=[police.name, political_legal.name])
    page.fill("input[name=deadline]", (today + dt.timedelta(days=20)).isoformat())
    page.fill("textarea[name=milestones]", f"{survey_by.isoformat()} 完成摸排\n{fix_by.isoformat()} 完成整改")
    page.click("button[type=submit]")
    assert "配合部门不能与牵头部门相同" in page.inner_text(".errorlist")
    assert not Rectification.objects.filter(title=TITLE).exists()
    page.select_option("select[name=cooperating_departments]", label=[political_legal.name])
    page.click("button[type=submit]")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    task = Rectification.objects.get(title=TITLE)
    url = f"{live_server.url}/supervision/rectifications/{task.pk}/"

    # the police see it in the ledger, also filtered to their own department's tasks
    page.click("button:has-text('退出')")
    log_in(page, live_server, users.police.username)
    page.goto(f"{live_server.url}/supervision/rectifications/")
    assert TITLE in page.inner_text("table.tasks")
    page.select_option("select[name=department]", "mine")
    page.click("form.filters button:has-text('筛选')")
    page.wait_for_url("**department=mine**")
    assert page.locator("select[name=department] option:checked").inner_text() == "本部门"
    assert page.locator(f"table.tasks tr[data-task='{task.pk}']").count() == 1
    by_department = page.locator(f"table.by-department tr[data-department='{police.pk}']")
    assert police.name in by_department.inner_text()
    assert by_department.locator("td.num").first.inner_text() == "1"

    # they start it, finish both milestones and upload a photo
    page.click(f"table.tasks a:has-text('{TITLE}')")
    page.wait_for_selector(f"h1:has-text('{TITLE}')")
    page.click("button:has-text('开始整改')")
    expect(page.locator("h1")).to_contain_text("整改中")
    for m in task.milestones.all():
        row = page.locator(f"tr[data-milestone='{m.pk}']")
        row.locator("button:has-text('标记完成')").click()
        expect(row).to_contain_text("已完成")
    assert page.locator("tr[data-milestone] button:has-text('标记完成')").count() == 0
    page.set_input_files("input[name=file]", {"name": "走访照片.png", "mimeType": "image/png", "buffer": PNG})
    page.click("button:has-text('上传')")
    expect(page.locator("table.fields")).to_contain_text("走访照片.png")

    # reporting without the cause analysed is refused and changes nothing
    page.fill("textarea[name=note]", "已完成出租房屋摸排登记")
    page.fill("textarea[name=lasting_measure]", LASTING_MEASURE)
    page.click("button:has-text('报告整改完成')")
    expect(page.locator(".messages")).to_contain_text("剖析原因")
    assert "整改中" in page.inner_text("h1")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS and task.reported_at is None

    page.fill("textarea[name=note]", "已完成出租房屋摸排登记")
    page.fill("textarea[name=root_cause]", ROOT_CAUSE)
    page.fill("textarea[name=lasting_measure]", LASTING_MEASURE)
    page.click("button:has-text('报告整改完成')")
    expect(page.locator("h1")).to_contain_text("已报告完成")
    assert page.locator("button:has-text('验收销号')").count() == 0

    # the county's 教育局 neither supervises the township's sector nor takes part: a 404
    page.click("button:has-text('退出')")
    log_in(page, live_server, users.education.username)
    response = page.goto(url)
    assert response.status == 404
    page.goto(f"{live_server.url}/supervision/rectifications/")  # the 404 page has no 退出
    assert TITLE not in page.inner_text("table.tasks")

    # the county sees the analysis and closes the task
    page.click("button:has-text('退出')")
    log_in(page, live_server, users.reviewer.username)
    page.goto(url)
    fields = page.locator("table.fields")
    assert ROOT_CAUSE in fields.locator("tr:has(th:text-is('剖析原因')) td").inner_text()
    assert LASTING_MEASURE in fields.locator("tr:has(th:text-is('长效机制')) td").inner_text()
    page.click("button:has-text('验收销号')")
    expect(page.locator("h1")).to_contain_text("已销号")
    page.screenshot(path=str(ART / "department-task-closed.png"), full_page=True)

    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED
    assert task.unit is None and task.township == tree.t1 and task.lead_department == police
    assert list(task.cooperating_departments.all()) == [political_legal]
    assert task.milestones.count() == 2 and all(m.done_on for m in task.milestones.all())
    assert task.root_cause == ROOT_CAUSE and task.lasting_measure == LASTING_MEASURE

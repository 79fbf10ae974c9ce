"""The official result in a real browser (issue 15's walk): one unit through township →
county → city (with an adjustment) → province; the year closed; an appeal for another
unit filed by its township and upheld; publication with a 文号; an incident and the
摘牌 — and the official figures, the fingerprint and the published PDF (rendered to PNG
in test-artifacts/) stay as published."""

import hashlib
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from inspections import services as assessments
from inspections.models import Assessment, Status
from reports import results
from reports.models import OfficialResult, ResultRegion, ResultUnit, Revocation
from tests.e2e.test_assessment_flow import fill_all, log_in
from tests.factories import UnitFactory, make_assessment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
YEAR = 2022


def frozen(result):
    return (
        list(ResultUnit.objects.filter(result=result).order_by("seq").values()),
        list(ResultRegion.objects.filter(result=result).order_by("seq").values()),
    )


def test_the_chain_the_close_an_appeal_the_publication_and_the_revocation(
    page, live_server, tree, users, campaign, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ART.mkdir(exist_ok=True)
    campaign.review_levels = ["county", "city", "province"]
    campaign.city_grade_pass_mark = Decimal(95)
    campaign.save()
    UnitFactory(township=tree.t1, name="杏花村")
    peach = UnitFactory(township=tree.t1, name="桃园村")
    low = make_assessment(unit=peach, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})  # 70

    # the township fills and submits 杏花村
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/assessments/?campaign={campaign.slug}&year={YEAR}")
    page.click("tr:has-text('杏花村') >> text=开始自评")
    page.wait_for_selector("table.entry")
    fill_all(page)
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("button[value=submit]")
    page.wait_for_selector("text=已提交，等待县/区审核")
    a = Assessment.objects.get(unit__name="杏花村")

    # the county approves: it goes up to the city
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/assessments/queue/")
    page.click("tr:has-text('杏花村') >> a:text-is('审核')")
    page.click("button[value=approve]")
    page.wait_for_selector("text=已审核通过，报市审核")

    # the city adjusts 1.1 with its reason and approves
    log_in(page, live_server, users.city.username)
    page.goto(f"{live_server.url}/assessments/queue/")
    page.click("tr:has-text('杏花村') >> a:text-is('审核')")
    page.fill("tr[data-item='1.1'] input[type=number]", "36")
    page.click("button[value=approve]")
    page.wait_for_selector("text=须填写理由")  # refused without the reason
    page.fill("tr[data-item='1.1'] input[type=number]", "36")
    page.fill("tr[data-item='1.1'] input[name^=review_note]", "台账缺两个月")
    page.click("button[value=approve]")
    page.wait_for_selector("text=已审核通过，报省审核")

    # the province approves: the approval that counts
    log_in(page, live_server, users.province.username)
    page.goto(f"{live_server.url}/assessments/queue/")
    page.click("tr:has-text('杏花村') >> a:text-is('审核')")
    page.click("button[value=approve]")
    page.wait_for_selector("text=已审核通过。")
    a.refresh_from_db()
    assert (a.status, a.final_score) == (Status.APPROVED, Decimal("96.00"))
    page.goto(f"{live_server.url}/assessments/{a.pk}/")
    assert "台账缺两个月" in page.inner_text("table") and "市审核分" in page.content()
    page.screenshot(path=str(ART / "review-chain-detail.png"), full_page=True)

    # the province closes the year, with a notice of 7 days
    page.goto(f"{live_server.url}/reports/results/")
    form = page.locator(f"tr[data-year='{YEAR}'] form.close-form")
    form.locator("input[name=notice_days]").fill("7")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#result-status:has-text('公示中')")
    result = OfficialResult.objects.get(campaign=campaign, year=YEAR)
    assert ResultUnit.objects.get(result=result, unit__name="杏花村").attained

    # the township appeals for 桃园村 during the notice
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/reports/results/{result.pk}/")
    row = page.locator("table.not-named tr:has-text('桃园村')")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("1.1 台账齐全，县级扣分有误")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("text=已提交“桃园村”的申诉")

    # the province upholds it; the chain reviews 桃园村 again and approves it
    log_in(page, live_server, users.province.username)
    page.goto(f"{live_server.url}/reports/results/{result.pk}/")
    appeal = page.locator("table.appeals tr:has-text('桃园村')")
    appeal.locator("input[name=reason]").fill("经核实台账齐全")
    appeal.locator("button[value=upheld]").click()
    page.wait_for_selector("text=已处理“桃园村”的申诉")
    low.refresh_from_db()
    assert (low.status, low.review_level) == (Status.SUBMITTED, "county")
    item = low.scores.get(item__code="1.1").item_id
    low = assessments.assessment_save_scores(
        assessment=low,
        scores={item: ("40", "台账齐全")},
        lock_version=low.lock_version,
        by=users.reviewer,
        reviewer=True,
    )
    for who in (users.reviewer, users.city, users.province):
        low = assessments.assessment_approve(assessment=low, by=who)
    page.reload()
    assert "复核结果已计入" in page.inner_text("table.appeals")
    assert page.locator("table.named tr:has-text('桃园村')").count() == 1

    # the notice over, the province publishes with a 文号
    OfficialResult.objects.filter(pk=result.pk).update(notice_ends_on=timezone.localdate())
    page.reload()
    page.fill("#publish input[name=document_number]", "晋三零办〔2023〕8号")
    page.click("#publish button[type=submit]")
    page.wait_for_selector("#result-status:has-text('已发文命名')")
    result.refresh_from_db()
    published, digest, pdf_sha = frozen(result), result.digest, result.pdf_sha256
    page.screenshot(path=str(ART / "result-published.png"), full_page=True)
    href = page.get_attribute("a:has-text('发文 PDF')", "href")
    got = page.context.request.get(f"{live_server.url}{href}")  # the page's session
    assert got.ok and got.headers["content-type"] == "application/pdf"
    pdf_path = tmp_path / "notice.pdf"
    pdf_path.write_bytes(got.body())
    assert hashlib.sha256(pdf_path.read_bytes()).hexdigest() == pdf_sha
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(pdf_path), str(ART / "official-notice")],
            check=True,
        )

    # an incident at 杏花村: its title is taken away; the published result stands
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/incidents/")
    record = page.locator("form[action$='/incidents/new/']")
    record.locator("input[name=unit_code]").fill(a.unit.code)
    record.locator("select[name=kind]").select_option("criminal_case")
    record.locator("input[name=occurred_on]").fill(timezone.localdate().isoformat())
    record.locator("textarea[name=description]").fill("盗窃案一起")
    record.locator("button[type=submit]").click()
    page.wait_for_selector("text=已登记“杏花村”的事件")
    assert Revocation.objects.filter(result=result, unit__name="杏花村", lifted_on=None).exists()
    log_in(page, live_server, users.province.username)
    page.goto(f"{live_server.url}/reports/results/{result.pk}/")
    assert "摘牌" in page.inner_text("table.named tr:has-text('杏花村')")
    page.click("button:has-text('核验')")
    page.wait_for_selector("#verify-result.ok")
    assert digest in page.inner_text("#verify-result")
    page.screenshot(path=str(ART / "result-revoked.png"), full_page=True)
    result.refresh_from_db()
    assert frozen(result) == published and result.digest == digest and result.pdf_sha256 == pdf_sha
    assert results.verify(result)["ok"]

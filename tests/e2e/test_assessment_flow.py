"""Officer and county reviewer in a real browser: fill and submit with an evidence file,
return with a reason, correct and resubmit, approve; the history shows every step."""

from pathlib import Path

import pytest

from inspections.models import Assessment, Status
from tests.conftest import PASSWORD
from tests.factories import UnitFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ART = Path(__file__).resolve().parents[2] / "test-artifacts"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def log_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def fill_all(page, *, short=None):
    for inp in page.locator("table.entry input[type=number]").all():
        value = inp.get_attribute("data-max")
        inp.fill(str(short) if short is not None and inp.get_attribute("aria-label").startswith("1.1") else value)


def test_officer_and_reviewer_round_trip(page, live_server, tree, users, campaign, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ART.mkdir(exist_ok=True)
    UnitFactory(township=tree.t1, name="杏花村")
    evidence = tmp_path / "台账.pdf"
    evidence.write_bytes(PDF)

    # the officer starts, fills with 1.1 short, sees the running total, attaches a file and submits
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/assessments/?campaign={campaign.slug}&year=2022")
    page.click("tr:has-text('杏花村') >> text=开始自评")
    page.wait_for_selector("table.entry")
    fill_all(page, short=30)
    assert page.inner_text("#running-total") == "90.0"
    page.locator("tr[data-item='1.2'] input[type=number]").fill("29")
    assert page.is_visible("#veto-warning")
    page.locator("tr[data-item='1.2'] input[type=number]").fill("30")
    assert not page.is_visible("#veto-warning")
    page.set_input_files("tr[data-item='1.1'] input[type=file]", str(evidence))
    page.screenshot(path=str(ART / "assessment-entry.png"), full_page=True)
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("button[value=submit]")
    page.wait_for_selector("text=已提交，等待县/区审核")
    assert asked and "确定提交审核" in asked[0]  # 提交审核 asks first
    a = Assessment.objects.get(unit__name="杏花村")
    assert a.status == Status.SUBMITTED and a.scores.get(item__code="1.1").evidence.count() == 1

    # the reviewer returns it with a reason
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/assessments/queue/")
    page.click("tr:has-text('杏花村') >> a:text-is('审核')")
    page.fill("textarea[name=reason]", "1.1 台账不完整，请补充后重新提交")
    page.click("button[value=return]")
    page.wait_for_selector("text=已退回")

    # the officer sees the reason, corrects and resubmits
    log_in(page, live_server, users.officer.username)
    page.goto(f"{live_server.url}/assessments/{a.pk}/edit/")
    assert "1.1 台账不完整" in page.inner_text("#return-reason")
    fill_all(page)
    page.click("button[value=submit]")
    page.wait_for_selector("text=已提交，等待县/区审核")

    # the reviewer approves
    log_in(page, live_server, users.reviewer.username)
    page.goto(f"{live_server.url}/assessments/{a.pk}/review/")
    page.click("button[value=approve]")
    page.wait_for_selector("text=已审核通过")
    a.refresh_from_db()
    assert a.status == Status.APPROVED and a.final_score == 100

    # the history shows every step
    page.goto(f"{live_server.url}/assessments/{a.pk}/")
    history = page.inner_text("table.history")
    for step in ["开始自评", "上传佐证材料", "提交审核", "退回", "1.1 台账不完整", "审核通过", "1.1 自评分"]:
        assert step in history, step
    page.screenshot(path=str(ART / "assessment-history.png"), full_page=True)

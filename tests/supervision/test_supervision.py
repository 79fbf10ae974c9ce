"""Inspections, spot checks, samples and the rectification ledger."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from inspections.models import Assessment, Status
from inspections.services import ServiceError
from reports import attainment, rollup
from supervision import selectors, services
from supervision.models import CheckStatus, Inspection, Notification, Rectification, SpotCheck, TaskStatus
from tests.factories import UnitFactory, UserFactory, dept, figures, make_assessment
from units import access
from units.models import AuditEvent, Role

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def approved(tree, campaign):
    """12 approved units in t1, 8 in t2, 5 in the canary's city."""
    out = []
    for township, n in ((tree.t1, 12), (tree.t2, 8), (tree.canary_township, 5)):
        for _ in range(n):
            out.append(make_assessment(unit=UnitFactory(township=township), campaign=campaign, status="approved"))
    return out


def sample(user, region, campaign, **kw):
    if "count" not in kw:
        kw.setdefault("percent", 25)
    return services.inspection_draw_sample(
        region=region,
        campaign=campaign,
        year=2022,
        mode="unannounced",
        planned_on=TODAY,
        inspectors="张三、李四",
        by=user,
        **kw,
    )


# --- sampling ----------------------------------------------------------------------


def test_sample_is_reproducible_from_its_seed(users, tree, campaign, approved):
    a = sample(users.city, tree.city, campaign, seed=20221231)
    b = sample(users.city, tree.city, campaign, seed=20221231)
    codes_a = sorted(a.checks.values_list("unit__code", flat=True))
    assert codes_a == sorted(b.checks.values_list("unit__code", flat=True))
    assert a.pool_size == 20 and a.sample_size == 5  # ceil(20 × 25%)
    assert len(codes_a) == 5
    ok, message = services.sample_verify(a)
    assert ok, message
    assert "20221231" in message
    # a different seed gives (for this pool) a different draw, and the pure function agrees
    pool = services.sample_pool(tree.city, campaign, 2022)
    assert services.draw(pool, 5, 20221231) == codes_a
    assert services.draw(pool, 5, 7) != codes_a


def test_sample_stays_within_the_region_and_jurisdiction(users, tree, campaign, approved):
    ins = sample(users.reviewer, tree.county, campaign, count=100, seed=1)
    townships = set(ins.checks.values_list("unit__township_id", flat=True))
    assert townships <= {tree.t1.code, tree.t2.code}
    assert ins.checks.count() == 20  # capped at the pool: everything approved in 小店区, nothing from 大同
    with pytest.raises(ServiceError) as exc:
        sample(users.reviewer, tree.county2, campaign, seed=1)
    assert "不在您的管辖范围内" in str(exc.value)


def test_a_sample_verifies_from_its_pool_as_drawn_whatever_happens_since(users, tree, campaign, approved):
    ins = sample(users.city, tree.city, campaign)
    assert ins.sample_seed is not None
    assert AuditEvent.objects.filter(action="inspection.sampled", detail__seed=ins.sample_seed).exists()
    # the pool changes after the draw: a new approval, and one of the sample overturned
    make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    check = ins.checks.select_related("assessment").first()
    Assessment.objects.filter(unit=check.unit, campaign=campaign).update(status="overturned")
    ok, message = services.sample_verify(ins)
    assert ok and "从抽样时的总体" in message, message
    # the kept pool is checked against its fingerprint
    Inspection.objects.filter(pk=ins.pk).update(pool_codes=ins.pool_codes.replace(check.unit.code, "140105001000"))
    ins.refresh_from_db()
    ok, message = services.sample_verify(ins)
    assert not ok and "与其指纹不符" in message
    # a sample drawn before the pool was kept: today's pool, if it still matches
    Inspection.objects.filter(pk=ins.pk).update(pool_codes="")
    ins.refresh_from_db()
    ok, message = services.sample_verify(ins)
    assert not ok and "抽样总体已变化" in message


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"percent": 0}, "percent"),
        ({"percent": 150}, "percent"),
        ({"count": 0}, "count"),
        ({"percent": 10, "count": 3}, "size"),
        ({"percent": None}, "size"),
        ({"seed": -4, "percent": 5}, "seed"),
    ],
)
def test_bad_sample_requests_are_refused(users, tree, campaign, approved, kw, field):
    with pytest.raises(ServiceError) as exc:
        sample(users.city, tree.city, campaign, **kw)
    assert field in exc.value.message_dict
    assert not Inspection.objects.exists()


def test_townships_cannot_plan_or_see_inspections(users, tree, campaign, approved, login):
    with pytest.raises(PermissionDenied):
        sample(users.officer, tree.t1, campaign)
    sample(users.city, tree.city, campaign, seed=3)
    client = login(users.officer)
    assert client.get("/supervision/inspections/").status_code == 404
    ins = Inspection.objects.get()
    assert client.get(f"/supervision/inspections/{ins.pk}/").status_code == 404


# --- spot checks -------------------------------------------------------------------


def scores_for(check, **override):
    items = {s.item.code: s.item.max_score for s in check.assessment.scores.select_related("item")}
    items.update(override)
    return items


def test_overturn_revokes_attainment_and_records_deviation(
    users, tree, campaign, approved, django_capture_on_commit_callbacks, eager_tasks
):
    ins = services.inspection_plan(
        region=tree.county,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="announced",
        planned_on=TODAY,
        inspectors="王五",
        unit_codes=[approved[0].unit.code, approved[1].unit.code],
        by=users.reviewer,
    )
    c1, c2 = ins.checks.order_by("unit__code")
    unit = c1.unit
    assert attainment.reasons_for(unit, campaign, 2022) == []
    rollup.run(campaign_id=campaign.id, year=2022)
    before = figures(campaign, unit.township)
    with django_capture_on_commit_callbacks(execute=True):
        services.spot_check_record(
            check=c1,
            scores=scores_for(c1, **{"1.1": Decimal(20)}),
            outcome="overturned",
            reason="台账材料系补做",
            by=users.reviewer,
        )
    c1.refresh_from_db()
    assert c1.status == CheckStatus.OVERTURNED
    assert c1.self_final == Decimal("100.00") and c1.inspector_final == Decimal("80.00")
    assert c1.self_deviation == Decimal("20.00")
    assert c1.assessment.status == Status.OVERTURNED
    reasons = attainment.reasons_for(unit, campaign, 2022)
    assert any("被抽查否定：台账材料系补做" in r.text for r in reasons)
    # the overturn reached the roll-up through the assessment's event
    assert figures(campaign, unit.township) == (before[0], before[1] - 1)

    services.spot_check_record(check=c2, scores=scores_for(c2), outcome="confirmed", reason="", by=users.reviewer)
    c2.refresh_from_db()
    assert c2.status == CheckStatus.CONFIRMED and c2.self_deviation == 0
    assert c2.assessment.status == Status.APPROVED

    from supervision import selectors

    rows = selectors.deviation_by_township(selectors.checks(users.city, tree.city, campaign, 2022))
    by_code = {r["unit__township_id"]: r for r in rows}
    township = unit.township_id
    expected = Decimal(10) if c2.unit.township_id == township else Decimal(20)  # mean of 20 and 0, or 20
    assert Decimal(str(by_code[township]["self_dev"])).quantize(Decimal("0.01")) == expected


def test_spot_check_bad_input_changes_nothing(users, tree, campaign, approved):
    ins = services.inspection_plan(
        region=tree.t1,
        campaign=campaign,
        year=2022,
        kind="scheduled",
        mode="announced",
        planned_on=TODAY,
        inspectors="王五",
        unit_codes=[approved[0].unit.code],
        by=users.city,
    )
    c = ins.checks.get()
    cases = [
        ({"1.1": "abc"}, "confirmed", "", "不是数字"),
        ({"1.1": 999}, "confirmed", "", "超过该项满分"),
        ({}, "confirmed", "", "请填写检查分"),
        (scores_for(c), "overturned", "  ", "必须填写原因"),
        (scores_for(c), "maybe", "", "结论只能是"),
    ]
    for scores, outcome, reason, message in cases:
        with pytest.raises(ServiceError) as exc:
            services.spot_check_record(check=c, scores=scores, outcome=outcome, reason=reason, by=users.city)
        assert message in str(exc.value)
    c.refresh_from_db()
    assert c.status == CheckStatus.PENDING and not c.scores.exists()
    assert approved[0].__class__.objects.get(pk=approved[0].pk).status == Status.APPROVED


def test_plan_refuses_units_outside_the_region(users, tree, campaign, approved, canary):
    with pytest.raises(ServiceError) as exc:
        services.inspection_plan(
            region=tree.city,
            campaign=campaign,
            year=2022,
            kind="ad_hoc",
            mode="announced",
            planned_on=TODAY,
            inspectors="王五",
            unit_codes=[canary.code],
            by=users.city,
        )
    assert canary.code in str(exc.value)


def test_spot_check_page_records_a_conclusion(users, tree, campaign, approved, login):
    ins = sample(users.city, tree.city, campaign, count=1, seed=5)
    c = ins.checks.get()
    client = login(users.city)
    page = client.get(f"/supervision/inspections/check/{c.pk}/")
    assert page.status_code == 200 and "抽查否定" in page.content.decode()
    bad = client.post(f"/supervision/inspections/check/{c.pk}/", {"score_1.1": "x", "outcome": "confirmed"})
    assert bad.status_code == 400 and "不是数字" in bad.content.decode()
    data = {f"score_{code}": str(v) for code, v in scores_for(c).items()}
    resp = client.post(f"/supervision/inspections/check/{c.pk}/", {**data, "outcome": "confirmed"})
    assert resp.status_code == 302
    detail = client.get(f"/supervision/inspections/{ins.pk}/?verify=1").content.decode()
    assert "抽查确认" in detail and "结果与记录一致" in detail


# --- rectification tasks -----------------------------------------------------------


def open_task(by, unit, **kw):
    data = {
        "title": "网格员巡查记录不全",
        "leader": "赵书记",
        "lead_department": dept(unit),
        "cooperating_departments": [dept(unit, "public_security")],
        "deadline": TODAY + dt.timedelta(days=10),
    }
    data.update(kw)
    return services.task_open(unit=unit, by=by, **data)


def upload(name="photo.pdf", body=PDF):
    return SimpleUploadedFile(name, body)


@pytest.fixture
def unit1(tree):
    return UnitFactory(township=tree.t1, name="坞城村")


def test_task_lifecycle_open_to_closed(users, unit1, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    t = open_task(users.reviewer, unit1)
    assert t.opened_region_id == users.reviewer.region_id
    assert Notification.objects.filter(user=users.officer, key=f"task:{t.pk}:opened").exists()
    services.task_start(task=t, by=users.officer)
    with pytest.raises(ServiceError) as exc:
        services.task_report(
            task=t, note="已补齐", root_cause="台账制度缺失", lasting_measure="每周巡查并建立台账", by=users.officer
        )
    assert "须上传整改佐证" in str(exc.value)
    services.task_add_evidence(task=t, upload=upload(), by=users.officer)
    services.task_report(
        task=t, note="已补齐巡查日志", root_cause="台账制度缺失", lasting_measure="每周巡查并建立台账", by=users.officer
    )
    t.refresh_from_db()
    assert t.status == TaskStatus.REPORTED
    assert Notification.objects.filter(user=users.reviewer, message__contains="待验收销号").exists()
    # only the level that opened it verifies: not the township, not the city above
    for who in (users.officer, users.city):
        with pytest.raises(PermissionDenied) as exc:
            services.task_verify(task=t, by=who)
        assert "小店区" in str(exc.value)
    services.task_reopen(task=t, reason="照片不清晰", by=users.reviewer)
    t.refresh_from_db()
    assert t.status == TaskStatus.OPEN and t.reopen_reason == "照片不清晰"
    services.task_report(
        task=t, note="重新拍照", root_cause="台账制度缺失", lasting_measure="每周巡查并建立台账", by=users.officer
    )
    services.task_verify(task=t, by=users.reviewer)
    t.refresh_from_db()
    assert t.status == TaskStatus.CLOSED and t.closed_by == users.reviewer
    assert t.history.count() >= 5


@pytest.mark.parametrize(
    "kw, field, message",
    [
        ({"deadline": TODAY - dt.timedelta(days=1)}, "deadline", "早于今天"),
        ({"leader": " "}, "leader", "请填写包案领导"),
        ({"title": ""}, "title", "请填写整改事项"),
        ({"source": "rumour"}, "source", "未知的来源"),
    ],
)
def test_bad_task_input_is_refused(users, unit1, kw, field, message):
    with pytest.raises(ServiceError) as exc:
        open_task(users.reviewer, unit1, **kw)
    assert message in exc.value.message_dict[field][0]
    assert not Rectification.objects.exists()


def test_task_for_a_unit_outside_the_jurisdiction_is_refused(users, canary):
    with pytest.raises(ServiceError) as exc:
        open_task(users.reviewer, canary)
    assert "不在您的管辖范围内" in str(exc.value)
    assert not Rectification.objects.exists()


def test_closing_without_evidence_or_from_the_wrong_state_is_refused(users, unit1):
    t = open_task(users.reviewer, unit1)
    with pytest.raises(ServiceError) as exc:
        services.task_verify(task=t, by=users.reviewer)
    assert "不能“验收销号”" in str(exc.value)
    with pytest.raises(ServiceError):
        services.task_add_evidence(task=t, upload=upload("x.html", b"<html><script>"), by=users.officer)
    t.refresh_from_db()
    assert t.status == TaskStatus.OPEN and not t.evidence.exists()


def test_overdue_job_is_idempotent_and_notifies(users, unit1, tree):
    late = open_task(users.reviewer, unit1, title="逾期任务")
    soon = open_task(users.reviewer, unit1, title="未到期任务", deadline=TODAY + dt.timedelta(days=30))
    done = open_task(users.reviewer, unit1, title="已销号任务")
    Rectification.objects.filter(pk=done.pk).update(status=TaskStatus.CLOSED)
    Rectification.objects.filter(pk__in=[late.pk, done.pk]).update(deadline=TODAY - dt.timedelta(days=2))
    other = open_task(users.officer2, UnitFactory(township=tree.t2), title="营盘任务", source="hazard")
    Rectification.objects.filter(pk=other.pk).update(deadline=TODAY - dt.timedelta(days=1))

    first = services.mark_overdue()
    assert first == 2
    snapshot = {
        "tasks": sorted(Rectification.objects.values_list("pk", "overdue", "overdue_since")),
        "notes": Notification.objects.count(),
        "audit": AuditEvent.objects.filter(action="rectification.overdue").count(),
    }
    assert services.mark_overdue() == 0
    assert sorted(Rectification.objects.values_list("pk", "overdue", "overdue_since")) == snapshot["tasks"]
    assert Notification.objects.count() == snapshot["notes"]
    assert AuditEvent.objects.filter(action="rectification.overdue").count() == snapshot["audit"]
    late.refresh_from_db()
    soon.refresh_from_db()
    assert late.overdue and late.overdue_since == TODAY and not soon.overdue
    assert not Rectification.objects.get(pk=done.pk).overdue
    # the township's officer and the creator are told, in the portal and by mail
    assert Notification.objects.filter(user=users.officer, key=f"task:{late.pk}:overdue").exists()
    assert Notification.objects.filter(user=users.reviewer, key=f"task:{late.pk}:overdue").exists()
    assert not Notification.objects.filter(user=users.officer2, key=f"task:{late.pk}:overdue").exists()
    assert Notification.objects.filter(user=users.officer2, key=f"task:{other.pk}:overdue").exists()


def test_overdue_mail_is_sent_once_after_commit(users, unit1, django_capture_on_commit_callbacks):
    users.officer.email = "officer@example.org"
    users.officer.save()
    t = open_task(users.reviewer, unit1)
    Rectification.objects.filter(pk=t.pk).update(deadline=TODAY - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_overdue()
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_overdue()
    assert [m.to for m in mail.outbox] == [["officer@example.org"]]
    assert "逾期" in mail.outbox[0].subject and "网格员巡查记录不全" in mail.outbox[0].body


# --- the ledger ---------------------------------------------------------------------


@pytest.fixture
def ledger_tasks(users, tree, canary):
    u1, u2 = UnitFactory(township=tree.t1, name="坞城村"), UnitFactory(township=tree.t2, name="营盘社区")
    a = open_task(users.reviewer, u1, title="甲任务", deadline=TODAY + dt.timedelta(days=5))
    b = open_task(users.reviewer, u2, title="乙任务", deadline=TODAY + dt.timedelta(days=1))
    c = open_task(users.reviewer, u1, title="丙任务", deadline=TODAY + dt.timedelta(days=9))
    d = open_task(users.admin, canary, title="金丝雀任务")
    Rectification.objects.filter(pk=b.pk).update(deadline=TODAY - dt.timedelta(days=3))
    Rectification.objects.filter(pk=c.pk).update(status=TaskStatus.CLOSED)
    services.mark_overdue()
    return a, b, c, d


def test_ledger_is_scoped_sorted_and_counted(users, ledger_tasks, login):
    html = login(users.city).get("/supervision/rectifications/").content.decode()
    assert "金丝雀任务" not in html and "金丝雀村" not in html
    assert html.index("乙任务") < html.index("甲任务") < html.index("丙任务")  # by deadline
    assert 'class="overdue"' in html
    assert '<strong data-count="open">2</strong>' in html and '<strong data-count="overdue">1</strong>' in html
    officer = login(users.officer).get("/supervision/rectifications/").content.decode()
    assert "甲任务" in officer and "乙任务" not in officer  # another township of the same county
    overdue_only = login(users.city).get("/supervision/rectifications/?state=overdue").content.decode()
    assert "乙任务" in overdue_only and "甲任务" not in overdue_only


def test_ledger_xlsx_matches_and_is_audited(users, ledger_tasks, login):
    resp = login(users.reviewer).get("/supervision/rectifications/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "乡镇/街道"
    titles = {r[3]: r for r in rows[1:]}
    assert set(titles) == {"甲任务", "乙任务", "丙任务"}
    assert titles["乙任务"][12] == "是" and titles["甲任务"][12] == "否"
    assert AuditEvent.objects.filter(action="export.rectifications", actor=users.reviewer).exists()


def test_task_pages_and_actions_in_the_browser_flow(users, unit1, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    reviewer = login(users.reviewer)
    resp = reviewer.post(
        "/supervision/rectifications/new/",
        {
            "unit_code": unit1.code,
            "title": "消防通道堵塞",
            "source": "hazard",
            "leader": "钱主任",
            "lead_department": dept(unit1, "emergency").pk,
            "deadline": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert resp.status_code == 400 and "早于今天" in resp.content.decode()
    resp = reviewer.post(
        "/supervision/rectifications/new/",
        {
            "unit_code": unit1.code,
            "title": "消防通道堵塞",
            "source": "hazard",
            "leader": "钱主任",
            "lead_department": dept(unit1, "emergency").pk,
            "deadline": (TODAY + dt.timedelta(days=1)).isoformat(),
        },
    )
    t = Rectification.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/supervision/rectifications/{t.pk}/"
    officer = login(users.officer)
    officer.post(f"/supervision/rectifications/{t.pk}/evidence/", {"file": upload("现场.pdf")})
    officer.post(
        f"/supervision/rectifications/{t.pk}/report/",
        {"note": "已清理", "root_cause": "杂物无人管", "lasting_measure": "每日巡查"},
    )
    t.refresh_from_db()
    assert t.status == TaskStatus.REPORTED
    ev = t.evidence.get()
    download = officer.get(f"/supervision/rectifications/evidence/{ev.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert login(users.officer2).get(f"/supervision/rectifications/evidence/{ev.pk}/").status_code == 404
    officer = login(users.officer)  # one test client: sign the officer back in
    page = officer.get(f"/supervision/rectifications/{t.pk}/").content.decode()
    assert "验收销号" not in page  # the township cannot close its own task
    notes = officer.get("/supervision/notifications/").content.decode()
    assert "消防通道堵塞" in notes, Notification.objects.values_list("user__username", "message")
    reviewer = login(users.reviewer)  # the same test client, signed in as the reviewer again
    reviewer.post(f"/supervision/rectifications/{t.pk}/verify/")
    t.refresh_from_db()
    assert t.status == TaskStatus.CLOSED


def test_notification_link_is_own_only_and_marks_read(users, login):
    services.notify([users.officer], key="k1", message="测试通知", link="/supervision/rectifications/")
    n = Notification.objects.get()
    assert login(users.officer2).post(f"/supervision/notifications/{n.pk}/").status_code == 404
    resp = login(users.officer).post(f"/supervision/notifications/{n.pk}/")
    assert resp.status_code == 302 and resp["Location"] == "/supervision/rectifications/"
    n.refresh_from_db()
    assert n.read_at is not None
    assert services.notify([users.officer], key="k1", message="测试通知") == 0


def test_admin_opened_task_is_verified_at_province_level(users, unit1, tree):
    t = open_task(users.admin, unit1)
    assert t.opened_region_id == tree.province.code
    province = users.province
    assert province.region_id == tree.province.code
    staff = UserFactory(username="p2", role=Role.PROVINCE_STAFF, region=tree.province)
    from supervision import workflow

    assert "verify" in workflow.TASK.actions_from("reported")
    assert workflow.TASK.who["verify"](staff, t) and not workflow.TASK.who["verify"](users.reviewer, t)


def test_beat_runs_the_overdue_job_every_day(settings):
    from sanling.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks.py modules
    entry = settings.CELERY_BEAT_SCHEDULE["rectifications-overdue-daily"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {10}


def test_townships_cannot_reach_inspections_through_tasks(users, tree, campaign, approved, login):
    ins = sample(users.city, tree.city, campaign, count=2, seed=9)  # unannounced, planned by the city
    c = ins.checks.first()
    unit = access.visible_units(users.officer).filter(pk=c.unit_id).first() or c.unit
    # an inspection finding is opened by the inspecting level, not by the township
    with pytest.raises(ServiceError) as exc:
        open_task(users.officer, unit, source="inspection")
    assert "由检查单位交办" in str(exc.value)
    # linking a check: the same answer for a real one and a made-up id — nothing to probe
    answers = set()
    for check in (c, SpotCheck(pk=999999)):
        with pytest.raises(ServiceError) as exc:
            open_task(users.officer, unit, source="hazard", spot_check=check)
        answers.add(exc.value.message_dict["spot_check"][0])
    assert answers == {"来源检查不存在，或不是该单位的抽查。"}
    page = login(users.officer).get(f"/supervision/rectifications/new/?check={c.pk}").content.decode()
    assert c.unit.code not in page
    assert not Rectification.objects.exists()


def test_the_inspected_level_does_not_see_a_higher_levels_unannounced_inspection(users, tree, campaign, approved):
    from supervision.models import Inspection

    hidden = sample(users.city, tree.county, campaign, count=1, seed=1)  # 暗访 of 小店区 by the city
    announced = services.inspection_plan(
        region=tree.county,
        campaign=campaign,
        year=2022,
        kind="scheduled",
        mode="announced",
        planned_on=TODAY,
        inspectors="市督导组",
        unit_codes=[approved[0].unit.code],
        by=users.city,
    )
    own = services.inspection_plan(
        region=tree.county,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="unannounced",
        planned_on=TODAY,
        inspectors="县督导组",
        unit_codes=[approved[1].unit.code],
        by=users.reviewer,
    )
    seen = set(selectors.visible_inspections(users.reviewer, Inspection.objects.all()).values_list("pk", flat=True))
    assert seen == {announced.pk, own.pk} and hidden.pk not in seen
    assert set(selectors.visible_inspections(users.city, Inspection.objects.all()).values_list("pk", flat=True)) == {
        hidden.pk,
        announced.pk,
        own.pk,
    }
    # the county sees the city's announced inspection but does not record its conclusions
    c = announced.checks.get()
    with pytest.raises(PermissionDenied):
        services.spot_check_record(check=c, scores=scores_for(c), outcome="confirmed", reason="", by=users.reviewer)
    with pytest.raises(PermissionDenied):
        services.inspection_update(inspection=announced, findings="县里改写", by=users.reviewer)
    services.spot_check_record(check=c, scores=scores_for(c), outcome="confirmed", reason="", by=users.city)


def test_spot_check_of_a_unit_assessed_after_planning(users, tree, campaign, login):
    unit = UnitFactory(township=tree.t1)
    ins = services.inspection_plan(
        region=tree.t1,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="announced",
        planned_on=TODAY,
        inspectors="甲",
        unit_codes=[unit.code],
        by=users.city,
    )
    c = ins.checks.get()
    assert c.assessment is None
    a = make_assessment(unit=unit, campaign=campaign, status="approved")
    page = login(users.city).get(f"/supervision/inspections/check/{c.pk}/").content.decode()
    assert 'name="score_1.1"' in page
    data = {f"score_{s.item.code}": str(s.item.max_score) for s in a.scores.select_related("item")}
    resp = login(users.city).post(f"/supervision/inspections/check/{c.pk}/", {**data, "outcome": "confirmed"})
    assert resp.status_code == 302
    c.refresh_from_db()
    assert c.status == CheckStatus.CONFIRMED and c.assessment_id == a.pk


def test_a_pending_check_shows_the_units_scores_as_they_stand(users, tree, campaign, approved, login):
    ins = sample(users.reviewer, tree.county, campaign, count=3, seed=5)
    page = login(users.reviewer).get(f"/supervision/inspections/{ins.pk}/").content.decode()
    table = page.split('<table class="checks"')[1].split("</table>")[0]
    assert (
        table.count("100.00") >= 6
    )  # self and approved finals of the three, not “—”  # the full-score approved assessments, not “—”

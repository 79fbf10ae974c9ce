"""Departments (行业部门): the sector role sees the units of its kinds in its region and
nothing else, through every list, page, export and endpoint; the 信访/公安/应急
departments record incidents for any unit of their region; rectification tasks name their
departments by reference, may be a township's, have milestones and close only with a root
cause and a lasting measure — and bad input is refused with nothing stored."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from inspections import incidents
from inspections import services as assessments
from inspections.models import Incident
from reports import rollup
from sanling.kernel.errors import ServiceError
from supervision import selectors, services
from supervision.models import Milestone, Rectification, TaskStatus
from tests.factories import UnitFactory, UserFactory, dept, make_assessment, make_incident
from tests.test_url_walk import LISTS, first_patterns
from units import access
from units.departments import department_name, load_departments, load_sectors
from units.models import Department, Role, Sector

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def sector(tree, campaign):
    """In 小店区: a school and a kindergarten (the 教育局's), a village with an assessment,
    an incident and a task (not the 教育局's: the sector canary); in 平城区 a school."""
    school = UnitFactory(township=tree.t1, kind="school", name="坞城小学")
    kinder = UnitFactory(township=tree.t2, kind="kindergarten", name="营盘幼儿园")
    village = UnitFactory(township=tree.t1, kind="village", name="本县村庄哨兵")
    other_school = UnitFactory(township=tree.canary_township, kind="school", name="平城小学")
    for u in (school, kinder, village, other_school):
        make_assessment(unit=u, campaign=campaign, status="approved")
    make_incident(unit=village, occurred_on=dt.date(2022, 3, 1))
    return {"school": school, "kinder": kinder, "village": village, "other_school": other_school}


def test_standard_departments_and_sectors_are_data(tree):
    assert load_sectors() == 0  # the tree fixture loaded them: a rerun adds nothing
    assert Sector.objects.get(unit_kind="school").department_kind == "education"
    assert Sector.objects.get(unit_kind="hospital").department_kind == "health"
    assert Sector.objects.get(unit_kind="factory_mine").department_kind == "emergency"
    n = load_departments("14")
    assert n == Department.objects.count() and n > 0
    assert load_departments("14") == 0  # idempotent
    names = set(Department.objects.values_list("name", flat=True))
    assert {"山西省公安厅", "太原市公安局", "太原市公安局小店分局", "小店区教育局", "大同市卫生健康委员会"} <= names
    assert department_name(tree.county2, "public_security") == "大同市公安局平城分局"
    # a township has no departments
    assert not Department.objects.filter(region__level="township").exists()
    bad = Department(region=tree.t1, kind="education", name="坞城街道教育办")
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert "不属于乡镇/街道" in str(exc.value)


def test_a_department_account_must_name_its_department_and_its_region(tree):
    edu = dept(tree.county, "education")
    with pytest.raises(ValidationError) as exc:
        UserFactory.build(username="x", role=Role.DEPARTMENT_STAFF, region=tree.county).full_clean()
    assert "必须指定所属部门" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        UserFactory.build(username="y", role=Role.DEPARTMENT_STAFF, region=tree.city, department=edu).full_clean()
    assert "小店区" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        UserFactory.build(username="z", role=Role.COUNTY_REVIEWER, region=tree.county, department=edu).full_clean()
    assert "只有行业部门工作人员" in str(exc.value)


def test_a_county_education_bureau_sees_its_schools_and_nothing_else(users, sector, campaign, tree):
    edu = users.education
    assert set(access.visible_units(edu)) == {sector["school"], sector["kinder"]}
    assert set(access.visible_units(users.canary_education)) == {sector["other_school"]}
    assert set(access.scope(edu, Incident.objects.all())) == set()
    with pytest.raises(Http404):
        access.unit_for(edu, sector["village"].pk)
    # it cannot review: no approval, no queue
    assert not access.can_review(edu) and not access.can_see_review_queue(edu)
    waiting = make_assessment(
        unit=UnitFactory(township=tree.t1, kind="school", name="待审小学"), campaign=campaign, status="submitted"
    )
    with pytest.raises(PermissionDenied):
        assessments.assessment_approve(assessment=waiting, by=edu)
    waiting.refresh_from_db()
    assert waiting.status == "submitted"


def test_no_list_page_export_or_endpoint_shows_the_sector_canary(client, users, sector, campaign, tree):
    """The walk of every list, page and export (tests/test_url_walk.py's LISTS) as the
    county 教育局: the village of its own county, with an assessment, an incident and a
    task, never appears; its schools do where units are listed."""
    from django.urls import NoReverseMatch, reverse

    services.task_open(
        unit=sector["village"],
        title="村庄哨兵整改",
        leader="甲",
        lead_department=dept(tree.county),
        deadline=TODAY + dt.timedelta(days=5),
        by=users.reviewer,
    )
    rollup.run(campaign_id=campaign.id, year=2022)
    client.force_login(users.education)
    patterns = first_patterns()
    for name in sorted(LISTS):
        try:
            url = reverse(name)
        except NoReverseMatch:
            args = {k: "xlsx" if k == "fmt" else "0" for k in patterns[name].pattern.regex.groupindex}
            url = reverse(name, kwargs=args)
        for params in ({}, {"campaign": campaign.slug, "year": 2022, "region": tree.t1.code}):
            resp = client.get(url, params)
            body = resp.content.decode(errors="ignore")
            assert resp.status_code < 500, (url, params)
            for secret in ("本县村庄哨兵", sector["village"].code, "村庄哨兵整改", "平城小学"):
                assert secret not in body, (url, params, secret)
    units = client.get("/api/v1/units/").json()
    assert {u["name"] for u in units["results"]} == {"坞城小学", "营盘幼儿园"}
    assert "坞城小学" in client.get("/units/").content.decode()


def test_the_sector_page_shows_the_sectors_figures_by_kind(client, users, sector, campaign, tree):
    rollup.run(campaign_id=campaign.id, year=2022)
    client.force_login(users.education)
    assert client.get("/").url == "/reports/sector/"
    page = client.get("/reports/sector/", {"campaign": campaign.slug, "year": 2022}).content.decode()
    assert "小店区教育局" in page and 'data-count="total">2<' in page
    assert 'data-kind="school"' in page and 'data-kind="village"' not in page
    township = client.get("/reports/sector/", {"campaign": campaign.slug, "year": 2022, "region": tree.t1.code})
    body = township.content.decode()
    assert "坞城小学" in body and "本县村庄哨兵" not in body
    # another county's region is not its to see; other roles have dashboards instead
    assert client.get("/reports/sector/", {"region": tree.county2.code}).status_code == 404
    client.force_login(users.reviewer)
    assert client.get("/reports/sector/").status_code == 404  # access.require: like a missing page


def test_police_record_incidents_for_any_unit_of_their_county(users, sector, tree):
    village = sector["village"]
    inc = incidents.incident_record(
        unit=village,
        kind="criminal_case",
        occurred_on=TODAY,
        description="派出所接报盗窃案",
        severity="larger",
        by=users.police,
    )
    assert (inc.source, inc.department, inc.severity) == ("public_security", users.police.department, "larger")
    # the police see what they recorded (not the village's other incidents)
    seen = access.scope(users.police, Incident.objects.all(), department_field="department")
    assert list(seen) == [inc]
    # not for a unit of another county; the 教育局 records nothing
    with pytest.raises(Http404):
        incidents.incident_record(
            severity="general",
            unit=sector["other_school"],
            kind="petition",
            occurred_on=TODAY,
            description="x",
            by=users.police,
        )
    with pytest.raises(PermissionDenied):
        incidents.incident_record(
            severity="general",
            unit=sector["school"],
            kind="petition",
            occurred_on=TODAY,
            description="x",
            by=users.education,
        )
    # a township cannot pass its report off as the police's; a bad severity is named
    before = Incident.objects.count()
    with pytest.raises(ServiceError) as exc:
        incidents.incident_record(
            severity="general",
            unit=village,
            kind="petition",
            occurred_on=TODAY,
            description="x",
            source="petition",
            by=users.officer,
        )
    assert "只能由相应部门登记" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        incidents.incident_record(
            unit=village, kind="petition", occurred_on=TODAY, description="x", severity="huge", by=users.officer
        )
    assert "未知的事件等级" in str(exc.value)
    assert Incident.objects.count() == before


# --- tasks with departments ---------------------------------------------------------


def _task(by, tree, **kw):
    data = {
        "unit": UnitFactory(township=tree.t1, name="坞城村"),
        "title": "治安盲区整治",
        "leader": "赵书记",
        "lead_department": dept(tree.county, "public_security"),
        "deadline": TODAY + dt.timedelta(days=20),
    }
    data.update(kw)
    return services.task_open(by=by, **data)


@pytest.mark.parametrize(
    "change, field, message",
    [
        (
            lambda tree: {"lead_department": dept(tree.county2, "public_security")},
            "lead_department",
            "不在任务所在区域",
        ),
        (
            lambda tree: {"cooperating_departments": [dept(tree.county, "public_security")]},
            "cooperating_departments",
            "不能与牵头部门相同",
        ),
        (
            lambda tree: {"cooperating_departments": [dept(tree.county2, "justice")]},
            "cooperating_departments",
            "不在任务所在区域",
        ),
        (
            lambda tree: {"milestones": [("完成整改", TODAY + dt.timedelta(days=30))]},
            "milestones",
            "晚于整改期限",
        ),
        (lambda tree: {"milestones": [("", TODAY)]}, "milestones", "缺少内容"),
        (lambda tree: {"lead_department": None}, "lead_department", "请选择牵头部门"),
    ],
)
def test_bad_departments_and_milestones_are_refused_and_nothing_stored(users, tree, change, field, message):
    with pytest.raises(ServiceError) as exc:
        _task(users.reviewer, tree, **change(tree))
    assert field in exc.value.message_dict and message in " ".join(exc.value.message_dict[field])
    assert not Rectification.objects.exists() and not Milestone.objects.exists()


def test_a_department_works_the_task_it_leads_and_it_closes_only_with_cause_and_measure(
    users, tree, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    coop = dept(tree.county, "political_legal")
    t = _task(
        users.reviewer,
        tree,
        unit=None,
        township=tree.t1,  # the township's problem, not one unit's
        cooperating_departments=[coop],
        milestones=[("完成摸排", TODAY + dt.timedelta(days=5)), ("完成整改", TODAY + dt.timedelta(days=15))],
    )
    assert t.unit is None and t.township == tree.t1 and list(t.cooperating_departments.all()) == [coop]
    # who sees it: the township, the county, the lead department; not the other township
    # or a department that neither leads nor cooperates
    for who in (users.officer, users.reviewer, users.police):
        assert selectors.task_for(who, t.pk) == t
    for who in (users.officer2, users.education, users.canary_reviewer):
        with pytest.raises(Http404):
            selectors.task_for(who, t.pk)
    coop_staff = UserFactory(username="zfw", role=Role.DEPARTMENT_STAFF, region=tree.county, department=coop)
    assert selectors.task_for(coop_staff, t.pk) == t
    with pytest.raises(PermissionDenied):
        services.task_start(task=t, by=coop_staff)  # cooperating: sees it, the lead works it
    with pytest.raises(PermissionDenied):
        services.task_verify(task=t, by=users.police)  # a department does not close

    services.task_start(task=t, by=users.police)
    services.task_add_evidence(task=t, upload=SimpleUploadedFile("x.pdf", PDF), by=users.police)
    with pytest.raises(ServiceError) as exc:
        services.task_report(
            task=t, note="已整治", root_cause="警力不足", lasting_measure="网格化巡逻", by=users.police
        )
    assert "尚有进度节点未完成" in str(exc.value)
    for m in t.milestones.all():
        services.task_milestone_done(task=t, milestone=m.pk, by=users.police)
    with pytest.raises(ServiceError) as exc:
        services.task_milestone_done(task=t, milestone=t.milestones.first().pk, by=users.police)
    assert "已于" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        services.task_report(task=t, note="已整治", root_cause=" ", lasting_measure="", by=users.police)
    assert set(exc.value.message_dict) == {"root_cause", "lasting_measure"}
    t.refresh_from_db()
    assert t.status == TaskStatus.IN_PROGRESS and t.root_cause == ""
    services.task_report(task=t, note="已整治", root_cause="警力不足", lasting_measure="网格化巡逻", by=users.police)
    services.task_verify(task=t, by=users.reviewer)
    t.refresh_from_db()
    assert (t.status, t.root_cause, t.lasting_measure) == (TaskStatus.CLOSED, "警力不足", "网格化巡逻")


def test_a_task_reported_without_cause_and_measure_is_not_closed(users, tree):
    t = _task(users.reviewer, tree)
    Rectification.objects.filter(pk=t.pk).update(status=TaskStatus.REPORTED)
    t.evidence.create(file="rectification/x.pdf", original_name="x.pdf", content_type="application/pdf", size=1)
    with pytest.raises(ServiceError) as exc:
        services.task_verify(task=t, by=users.reviewer)
    assert "三不放过" in str(exc.value)
    t.refresh_from_db()
    assert t.status == TaskStatus.REPORTED


def test_the_ledger_filters_and_counts_by_department(users, tree, login):
    police, emergency = dept(tree.county, "public_security"), dept(tree.county, "emergency")
    _task(users.reviewer, tree, title="甲任务")
    _task(users.reviewer, tree, title="乙任务", lead_department=emergency, cooperating_departments=[police])
    late = _task(users.reviewer, tree, title="丙任务", lead_department=emergency)
    Rectification.objects.filter(pk=late.pk).update(overdue=True)
    counts = {
        r["lead_department__name"]: r for r in selectors.task_counts_by_department(selectors.tasks(users.reviewer))
    }
    assert (counts[emergency.name]["open"], counts[emergency.name]["overdue"]) == (2, 1)
    assert counts[police.name]["open"] == 1
    mine = {t.title for t in selectors.tasks(users.police, department=police)}
    assert mine == {"甲任务", "乙任务"}  # led, and cooperated in
    page = login(users.police).get("/supervision/rectifications/", {"department": "mine"}).content.decode()
    assert "甲任务" in page and "乙任务" in page and "丙任务" not in page
    county = login(users.reviewer).get("/supervision/rectifications/").content.decode()
    assert f'data-department="{emergency.pk}" class="overdue"' in county
    only = login(users.reviewer).get("/supervision/rectifications/", {"department": emergency.pk}).content.decode()
    assert "乙任务" in only and "丙任务" in only and "甲任务" not in only


def test_a_unit_task_follows_its_unit_when_it_moves(users, tree, django_capture_on_commit_callbacks):
    from units.services import unit_move

    t = _task(users.reviewer, tree)
    with django_capture_on_commit_callbacks(execute=True):
        unit_move(unit=t.unit, township=tree.t2, by=users.admin)
    t.refresh_from_db()
    assert t.township == tree.t2
    assert selectors.task_for(users.officer2, t.pk) == t
    with pytest.raises(Http404):
        selectors.task_for(users.officer, t.pk)


def test_whole_region_figures_are_not_a_departments(client, users, sector, campaign, tree):
    """The sector page is a department's figures: not the attainment list (cached for the
    county's reviewer under the same jurisdiction), not the daily figures, not the
    official results."""
    from reports.results import results_for

    rollup.run(campaign_id=campaign.id, year=2022)
    client.force_login(users.reviewer)
    assert client.get("/api/v1/attainment/", {"campaign": campaign.slug}).json()["count"] > 0
    client.force_login(users.education)
    assert client.get("/api/v1/attainment/", {"campaign": campaign.slug}).json()["count"] == 0
    daily = client.get(
        "/api/v1/attainment/daily/", {"campaign": campaign.slug, "year": 2022, "region_code": tree.county.code}
    )
    assert daily.status_code == 404
    assert not results_for(users.education).exists()

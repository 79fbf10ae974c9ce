"""Walk every URL pattern of the portal as every role.

Each pattern must be classified below — a new URL nobody classified fails this test.
Objects of another city (the canary's unit, assessment, incident, evidence, township)
must answer 404 (or 403 for a role that may not act at all) through every pattern that
takes an id, and no page, export or API list may show the canary to users of 太原."""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from inspections import services
from inspections.models import Evidence
from reports import rollup
from supervision import services as supervision
from tests.factories import UnitFactory, dept, make_assessment, make_incident

pytestmark = pytest.mark.django_db

PUBLIC = {
    "login",
    "logout",
    "set_language",
    "favicon",
    "api:token",
    "api:schema",
    "api:docs",
    "api:redoc",
    "api:api-root",
}
ADMIN_ONLY = {"api:tokens", "api:token-revoke"}
# name -> which canary object its id/code argument names
BY_OBJECT = {
    "units:edit": "unit",
    "units:archive": "unit",
    "reports:unit": "unit",
    "inspections:detail": "assessment",
    "inspections:entry": "assessment",
    "inspections:review": "assessment",
    "inspections:evidence": "evidence",
    "inspections:evidence_remove": "evidence",
    "inspections:condition_evidence": "condition_evidence",
    "incidents:judge": "incident",
    "incidents:refer_up": "incident",
    "incidents:resolve": "incident",
    "api:incident-refer-up": "incident",
    "api:incident-resolve": "incident",
    "api:unit-detail": "unit",
    "api:unit-status": "unit",
    "api:assessment-detail": "assessment",
    "api:assessment-submit": "assessment",
    "api:assessment-approve": "assessment",
    "api:assessment-return": "assessment",
    "api:incident-detail": "incident",
    "api:region-detail": "township",
    "api:attainment-detail": "snapshot",
    "supervision:task": "task",
    "supervision:task_action": "task",
    "supervision:task_evidence": "task_evidence",
    "supervision:inspection": "inspection",
    "supervision:check": "check",
    "supervision:notification": "notification",
    "api:inspection-detail": "inspection",
    "api:inspection-record": "inspection",
    "api:inspection-verify": "inspection",
    "api:rectification-detail": "task",
    "api:rectification-evidence": "task",
    "api:rectification-milestone-done": "task",
    # the official result: another city's campaign's result and appeal
    "api:result-detail": "result",
    "api:result-units": "result",
    "api:result-appeals": "result",
    "api:result-publish": "result",
    "api:result-revocations": "result",
    "api:result-verify": "result",
    "reports:result": "result",
    "reports:appeal_file": "result",
    "reports:publish": "result",
    "reports:verify": "result",
    "reports:official_pdf": "result",
    "reports:named_xlsx": "result",
    "api:appeal-decide": "appeal",
    "api:special-action-detail": "action",
    "api:special-action-progress": "action",
    "supervision:progress_evidence": "progress_evidence",
    "reports:appeal_decide": "appeal",
    "reports:appeal_evidence": "appeal",
    # 账号管理: another city's officer; 年度与目标: a campaign of 大同 only
    "accounts:edit": "account",
    "accounts:active": "account",
    "accounts:password": "account",
    "accounts:token": "account",
    "campaigns:years": "campaign",
    "campaigns:open": "campaign",
    "campaigns:targets": "campaign",
}
# lists, pages and exports without an id: checked for the canary in their content
LISTS = {
    "home",
    "units:list",
    "units:create",
    "units:import",
    "units:import_template",
    "units:lookup",
    "units:township_lookup",
    "inspections:worklist",
    "inspections:queue",
    "inspections:bulk_approve",
    "inspections:start",
    "inspections:conditions",
    "incidents:list",
    "incidents:create",
    "reports:dashboard",
    "reports:township",
    "reports:published",
    "reports:export_attainment",
    "reports:export_township",
    "reports:recompute",
    "reports:task",
    "reports:results",
    "api:result-list",
    "api:region-list",
    "api:region-changes",
    "api:unit-list",
    "api:standard-list",
    "api:standard-detail",
    "api:campaign-list",
    "api:campaign-detail",
    "api:assessment-list",
    "api:incident-list",
    "api:attainment-list",
    "api:attainment-trend",
    "api:attainment-daily",
    "api:attainment-recompute",
    "api:task",
    "supervision:ledger",
    "supervision:ledger_export",
    "supervision:task_create",
    "supervision:inspections",
    "supervision:inspection_create",
    "supervision:deviation",
    "supervision:notifications",
    "api:inspection-list",
    "api:rectification-list",
    "api:special-action-list",
    "api:appraisal",
    "supervision:actions",
    "supervision:action_progress",
    "reports:sector",
    "reports:region_indicator",
    "reports:appraisal",
    "reports:circular",
    "reports:appraisal_scheme",
    "reports:task_cancel",
    "units:region_lookup",
    "accounts:list",
    "accounts:create",
    "campaigns:index",
    "reports:screen",
    "api:screen",
}
ROLES = ["officer", "reviewer", "city", "city_admin", "api", "education", "police"]


def all_names(resolver=None, ns=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}{p.namespace}:" if p.namespace else ns
            if p.namespace == "admin":
                continue  # the admin site: staff only, querysets scoped in units/admin.py (tested there)
            yield from all_names(p, inner)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{ns}{p.name}", p


def first_patterns() -> dict:
    """name -> its first pattern (routers add a format-suffixed twin under the same name)."""
    out = {}
    for name, p in all_names():
        out.setdefault(name, p)
    return out


def test_every_url_is_classified():
    names = {name for name, _ in all_names()}
    unclassified = names - PUBLIC - ADMIN_ONLY - set(BY_OBJECT) - LISTS
    assert unclassified == set(), f"classify these URLs in tests/test_url_walk.py: {sorted(unclassified)}"


@pytest.fixture
def canary_objects(tree, users, campaign, canary, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    a = services.assessment_start(unit=canary, campaign=campaign, year=2022, by=users.admin)
    item = a.scores.first().item_id
    services.evidence_add(
        assessment=a, item_id=item, by=users.admin, upload=SimpleUploadedFile("x.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    make_assessment(unit=UnitFactory(township=tree.t1, name="本地村"), campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=2022)
    from reports.models import AttainmentSnapshot

    # supervision: an inspection of the canary's county, a task with evidence, a notification
    ins = supervision.inspection_plan(
        region=tree.county2,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="unannounced",
        planned_on=dt.date(2022, 6, 1),
        inspectors="甲",
        unit_codes=[canary.code],
        by=users.admin,
    )
    task = supervision.task_open(
        unit=canary,
        title="金丝雀村整改",
        leader="乙",
        lead_department=dept(canary),
        deadline=timezone.localdate() + dt.timedelta(days=3),
        by=users.admin,
    )
    supervision.task_add_evidence(task=task, upload=SimpleUploadedFile("y.pdf", b"%PDF-1.4\n%%EOF\n"), by=users.admin)
    supervision.notify([users.canary_officer], key="canary", message="金丝雀村通知", link="/")
    # a recorded change of the tree in the other city: its record, old name and new
    # name are the other city's too
    from units.changes import Target, region_change

    region_change(
        kind="rename",
        effective_on=dt.date(2023, 1, 1),
        sources=[tree.canary_township.code],
        targets=[Target(tree.canary_township.code, "金丝雀村街道")],
        basis="测试文号",
        by=users.admin,
    )
    # the official result of a campaign of 大同 only, with the canary's appeal
    from reports import results
    from supervision.models import Notification, TaskEvidence
    from tests.factories import make_campaign

    datong = make_campaign(scope=tree.city2, standard=campaign.standard, slug="datong-sanling")
    datong_result = results.result_close(campaign=datong, year=2022, notice_days=7, by=users.admin)
    appeal = results.appeal_file(result=datong_result, unit=canary, reason="金丝雀村申诉", by=users.canary_officer)
    # the canary's 零盲区 for 2022 (a campaign of 大同 with the condition), with evidence
    from inspections.conditions import condition_confirm

    datong.conditions = ["grid_coverage"]
    datong.save(update_fields=["conditions"])
    cond = condition_confirm(
        unit=canary,
        kind="grid_coverage",
        year=2022,
        uploads=[SimpleUploadedFile("grid.pdf", b"%PDF-1.4\n%%EOF\n")],
        by=users.canary_officer,
    )
    condition_evidence = cond.evidence.get().pk
    # a special action of 大同's campaign, with progress reported by 平城区's police
    from supervision.models import ActionTarget, SpecialAction
    from supervision.services import progress_record
    from tests.factories import UserFactory

    action = SpecialAction.objects.create(
        campaign=datong,
        code="canary-action",
        name="金丝雀村专项行动",
        lead_kind="public_security",
        starts_on=dt.date(2022, 1, 1),
        ends_on=dt.date(2022, 12, 31),
    )
    target = ActionTarget.objects.create(action=action, code="patrols", name="金丝雀村巡逻", measure="count", target=5)
    police_dt = UserFactory(
        username="police_dt",
        role="department_staff",
        region=tree.county2,
        department=dept(tree.county2, "public_security"),
    )
    progress = progress_record(
        target=target,
        region=tree.county2,
        as_of=dt.date(2022, 6, 1),
        value=3,
        uploads=[SimpleUploadedFile("p.pdf", b"%PDF-1.4\n%%EOF\n")],
        by=police_dt,
    )

    return {
        "inspection": ins.pk,
        "check": ins.checks.get().pk,
        "task": task.pk,
        "task_evidence": TaskEvidence.objects.get().pk,
        "notification": Notification.objects.get(key="canary").pk,
        "unit": canary.pk,
        "assessment": a.pk,
        "incident": make_incident(unit=canary).pk,
        "evidence": Evidence.objects.get().pk,
        "township": canary.township_id,
        "snapshot": AttainmentSnapshot.objects.get(
            campaign=campaign, region=tree.canary_township, category="village_community"
        ).pk,
        "result": datong_result.pk,
        "appeal": appeal.pk,
        "action": action.pk,
        "condition_evidence": condition_evidence,
        "progress_evidence": progress.evidence.get().pk,
        "account": users.canary_officer.pk,
        "campaign": datong.slug,
    }


def url_for(pattern_name, pattern, value):
    from django.urls import reverse

    kwargs = {key: value for key in pattern.pattern.regex.groupindex}
    return reverse(pattern_name, kwargs=kwargs)


# an id (or region code) that names nothing, for each kind of object
MISSING = {"township": "140213999000", "campaign": "no-such-campaign"}
MISSING_ID = 98765432


@pytest.mark.parametrize("role", ROLES)
def test_other_citys_objects_answer_exactly_like_missing_ones(client, users, canary_objects, role):
    """Through every URL that names an object, with every method the URL accepts (a
    POST-only action is tried with POST, an API detail also with PATCH), another city's
    object gets the same answer as an object that does not exist: the same status (404,
    or 403 where the role may not act at all, before any lookup) and, in the API, the
    same body. Never 405 for a method the URL takes; never the canary's data."""
    client.force_login(getattr(users, role))
    patterns = first_patterns()
    for name, what in BY_OBJECT.items():
        canary_url = url_for(name, patterns[name], canary_objects[what])
        missing_url = url_for(name, patterns[name], MISSING.get(what, MISSING_ID))
        methods = ["get", "post", *(["patch"] if name.startswith("api:") else [])]
        tried = []
        for method in methods:
            call = getattr(client, method)
            kwargs = {"content_type": "application/json", "data": "{}"} if method == "patch" else {}
            missing = call(missing_url, **kwargs)
            if missing.status_code == 405:
                continue  # the URL does not take this method (for any object)
            tried.append(method)
            got = call(canary_url, **kwargs)
            assert got.status_code == missing.status_code, (role, method, name, got.status_code, missing.status_code)
            assert got.status_code in (403, 404), (role, method, name, got.status_code)
            if got.get("Content-Type", "").startswith("application/json"):
                assert got.json() == missing.json(), (role, method, name)
            assert "金丝雀村" not in got.content.decode(errors="ignore"), (role, name)
        assert tried, f"{name} answered 405 to {methods}: the walk exercised nothing"


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_exports_never_show_the_canary(client, users, campaign, tree, canary_objects, role):
    from django.urls import NoReverseMatch, reverse

    client.force_login(getattr(users, role))
    patterns = first_patterns()
    for name in sorted(LISTS):
        try:
            url = reverse(name)
        except NoReverseMatch:
            args = {k: "xlsx" if k == "fmt" else "0" for k in patterns[name].pattern.regex.groupindex}
            url = reverse(name, kwargs=args)
        for params in (
            {},
            {"campaign": campaign.slug, "year": 2022},
            {"campaign": campaign.slug, "region": tree.canary_township.code},
            {"campaign": campaign.slug, "year": 2022, "region_code": tree.canary_township.code},
        ):
            resp = client.get(url, params)
            body = resp.content.decode(errors="ignore")
            assert resp.status_code < 500, (role, url, params)
            # the township's code may be echoed back from the query string; its data may not
            for secret in ("金丝雀村", "140213001999", tree.canary_township.name):
                assert secret not in body, (role, url, params, resp.status_code, secret)


def test_anonymous_is_sent_to_login_or_refused(client, canary_objects):
    patterns = first_patterns()
    for name in sorted(set(BY_OBJECT) | LISTS | ADMIN_ONLY):
        p = patterns[name]
        kwargs = {
            k: canary_objects.get(BY_OBJECT.get(name, "unit"), "1") if k != "fmt" else "csv"
            for k in p.pattern.regex.groupindex
        }
        from django.urls import reverse

        resp = client.get(reverse(name, kwargs=kwargs or None))
        assert resp.status_code in (302, 401, 403, 405), (name, resp.status_code)
        if resp.status_code == 302:
            assert "/accounts/login/" in resp["Location"]

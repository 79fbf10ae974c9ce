"""Issue 20, the admin as a side door: findings 1, 3, 4, 5 and 8, each through Django's test
client against the admin's own URLs. (Findings 2 and 17: tests/units/test_import_limits.py,
tests/inspections/test_evidence_content.py; the rest: tests/test_security_limits.py.)"""

import datetime as dt
import io

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from inspections.models import Assessment, Incident
from supervision import services as supervision
from tests.factories import UnitFactory, UserFactory, dept, make_assessment, make_incident
from units.models import AuditEvent, Region, Role, Unit, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def taiyuan_admin(tree):
    """An administrator scoped to 太原: staff, not a superuser."""
    from units.services import user_create

    return user_create(
        username="taiyuan_admin", role=Role.ADMIN, region=tree.city, password="pw-Sanling-2026", validate=False
    )


@pytest.fixture
def admin_client(client, users):
    client.force_login(users.admin)
    return client


def history_id(obj):
    return obj.history.order_by("-history_id").first().history_id


# --- 1: the history form saves nothing ------------------------------------------------


def test_the_history_form_cannot_rewrite_an_approved_assessment(admin_client, users, campaign, tree):
    # given: an approved assessment and its history
    a = make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    url = f"/admin/inspections/assessment/{a.pk}/history/{history_id(a)}/"
    before = AuditEvent.objects.count()
    # when: the admin posts the version form with a new score and status
    resp = admin_client.post(
        url,
        {
            "status": "approved",
            "final_score": "50.0",
            "veto_failed": "on",
            "unit": a.unit_id,
            "campaign": campaign.pk,
            "year": 2022,
            "standard": a.standard_id,
            "lock_version": 9,
        },
    )
    # then: refused, nothing changed; a GET only leads back to the read-only history list
    assert resp.status_code == 403
    a.refresh_from_db()
    assert (a.final_score, a.veto_failed, a.lock_version) == (100, False, 0)
    assert AuditEvent.objects.count() == before
    assert admin_client.get(url).status_code == 302


def test_the_history_of_another_citys_task_is_not_even_visible(client, taiyuan_admin, users, canary):
    t = supervision.task_open(
        unit=canary,
        title="金丝雀整改",
        leader="甲",
        lead_department=dept(canary),
        deadline=dt.date(2099, 1, 1),
        by=users.admin,
    )
    client.force_login(taiyuan_admin)
    assert client.get(f"/admin/supervision/rectification/{t.pk}/history/").status_code == 404
    assert client.post(
        f"/admin/supervision/rectification/{t.pk}/history/{history_id(t)}/", {"status": "closed"}
    ).status_code in (403, 404)
    t.refresh_from_db()
    assert t.status == "open"


# --- 3: a region-scoped admin is no superuser -------------------------------------------


def test_a_region_scoped_admin_manages_its_region_only(client, taiyuan_admin, users, tree, canary):
    assert taiyuan_admin.is_staff and not taiyuan_admin.is_superuser
    client.force_login(taiyuan_admin)
    # it sees its region's units and users, not 大同's, nor the province's accounts
    units = client.get("/admin/units/unit/").content.decode()
    assert "金丝雀村" not in units
    people = client.get("/admin/units/user/").content.decode()
    assert "officer1" in people and "officer_dt" not in people and "province1" not in people
    assert client.get(f"/admin/units/user/{users.province.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/units/unit/{canary.pk}/change/").status_code in (302, 404)
    # it cannot create a region in 大同, nor blank its own region to see everything
    resp = client.post(
        "/admin/units/region/add/",
        {"code": "140213009000", "name": "越界街道", "level": "township", "parent": tree.county2.code},
    )
    assert resp.status_code == 200 and not Region.objects.filter(code="140213009000").exists()
    resp = client.post(
        f"/admin/units/user/{taiyuan_admin.pk}/change/", {"username": "taiyuan_admin", "role": "admin", "region": ""}
    )
    assert resp.status_code == 403
    taiyuan_admin.refresh_from_db()
    assert taiyuan_admin.region == tree.city
    # the admin's unit import (which skipped the portal's validation) is gone
    with pytest.raises(NoReverseMatch):
        reverse("admin:units_unit_import")
    assert client.get("/admin/units/unit/import/").status_code != 200
    # and what it may change is audited: a unit renamed goes through the service
    unit = UnitFactory(township=tree.t1, name="旧名")
    resp = client.post(f"/admin/units/unit/{unit.pk}/change/", {"name": "新名", "kind": "village"})
    assert resp.status_code == 302
    unit.refresh_from_db()
    assert unit.name == "新名"
    assert set(
        AuditEvent.objects.filter(target_id=str(unit.pk), target_type="units.unit").values_list("action", flat=True)
    ) >= {"unit.updated", "admin.changed"}


def test_tokens_are_listed_masked_and_the_province_screen_is_out_of_reach(client, taiyuan_admin, users, tree):
    from units.services import token_issue

    screen = UserFactory(username="province_screen", role=Role.API_CLIENT, region=tree.province)
    _user, raw = token_issue(username="province_screen", by=users.admin)
    client.force_login(taiyuan_admin)
    page = client.get("/admin/units/apitoken/").content.decode()
    assert raw not in page and "province_screen" not in page  # masked, and not its region
    client.force_login(users.admin)
    page = client.get("/admin/units/apitoken/").content.decode()
    assert raw not in page and raw[:6] + "…" in page
    assert screen.auth_token_set.exists()


# --- 4: the trail never forgets who ----------------------------------------------------


def test_users_are_deactivated_never_deleted(admin_client, users):
    assert admin_client.post(f"/admin/units/user/{users.officer.pk}/delete/", {"post": "yes"}).status_code == 403
    with pytest.raises(ProtectedError), transaction.atomic():
        users.officer.delete()
    assert User.objects.filter(pk=users.officer.pk).exists()
    resp = admin_client.post("/admin/units/user/", {"action": "deactivate", "_selected_action": [users.officer.pk]})
    assert resp.status_code == 302
    users.officer.refresh_from_db()
    assert users.officer.is_active is False
    assert AuditEvent.objects.filter(action="user.deactivated", actor=users.admin).exists()


# --- 5: the incident admin is no workflow ----------------------------------------------


def test_the_incident_admin_cannot_dismiss_or_move_an_incident(admin_client, tree):
    inc = make_incident(unit=UnitFactory(township=tree.t1), occurred_on=dt.date(2022, 3, 1))
    resp = admin_client.post(
        f"/admin/inspections/incident/{inc.pk}/change/",
        {"status": "dismissed", "occurred_on": "2021-03-01", "reason": ""},
    )
    assert resp.status_code == 403
    inc.refresh_from_db()
    assert (inc.status, inc.occurred_on) == ("recorded", dt.date(2022, 3, 1))
    assert admin_client.get("/admin/inspections/assessment/add/").status_code == 403
    assert not Incident.objects.exclude(pk=inc.pk).exists() and not Assessment.objects.exists()


# --- 8: admin exports --------------------------------------------------------------


@pytest.mark.parametrize("fmt,index", [("csv", "0"), ("xlsx", "1")])
def test_admin_exports_escape_formulas_and_are_audited(admin_client, tree, fmt, index):
    UnitFactory(township=tree.t1, name='=HYPERLINK("http://evil.example","点我")')
    resp = admin_client.post(
        "/admin/units/unit/export/",
        {"format": index, "resource": "0", **{f"unitresource_{f}": "on" for f in ("code", "name")}},
    )
    assert resp.status_code == 200, resp.content[:500]
    if fmt == "csv":
        body = resp.content.decode("utf-8-sig")
        assert "=HYPERLINK" not in body.replace("'=HYPERLINK", "").replace("\"'=HYPERLINK", "")
    else:
        ws = load_workbook(io.BytesIO(resp.content)).active
        names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
        assert all(not str(n).startswith("=") for n in names), names
    assert AuditEvent.objects.filter(action="admin.exported", detail__model="units.unit").exists()


def test_the_standards_change_only_with_the_whole_portal_s_administrator(client, taiyuan_admin, campaign):
    client.force_login(taiyuan_admin)
    resp = client.post(f"/admin/standards/campaign/{campaign.pk}/change/", {"pass_mark": "10"})
    assert resp.status_code == 403
    campaign.refresh_from_db()
    assert campaign.pass_mark == 85
    assert Unit.objects.count() == 0


def test_a_region_is_renamed_only_by_a_recorded_change_and_changes_are_listed_in_scope(
    client, taiyuan_admin, users, tree
):
    from units.changes import Target, region_change

    client.force_login(taiyuan_admin)
    # the change form shows the name read-only: a POST with a new name changes nothing
    client.post(f"/admin/units/region/{tree.t1.code}/change/", {"name": "改名街道", "is_demo": ""})
    tree.t1.refresh_from_db()
    assert tree.t1.name == "坞城街道"
    # changes recorded in both cities: 太原's administrator lists 太原's only
    for region, name in ((tree.t1, "坞城新街道"), (tree.canary_township, "南关新街道")):
        region_change(
            kind="rename",
            effective_on=dt.date(2026, 1, 1),
            sources=[region.code],
            targets=[Target(region.code, name)],
            basis="测试文号",
            by=users.admin,
        )
    listed = client.get("/admin/units/regionchange/").content.decode()
    assert listed.count("测试文号") == 1
    other = Region.objects.get(code=tree.canary_township.code).changes_as_source.get()
    assert client.get(f"/admin/units/regionchange/{other.pk}/change/").status_code in (302, 404)
    # and no one edits a record of a change here
    mine = Region.objects.get(code=tree.t1.code).changes_as_source.get()
    client.post(f"/admin/units/regionchange/{mine.pk}/change/", {"basis": "改过的文号"})
    mine.refresh_from_db()
    assert mine.basis == "测试文号"

"""The inspections/ and rectifications/ endpoints: the contract, bad input, and the
jurisdiction matrix (every role × own / other city, guessed ids)."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections.models import Assessment
from supervision import services
from supervision.models import Inspection, Rectification
from tests.factories import UnitFactory, dept, make_assessment

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def world(tree, users, campaign, canary):
    own = [make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved") for _ in range(4)]
    can = make_assessment(unit=canary, campaign=campaign, status="approved")
    can_ins = services.inspection_plan(
        region=tree.county2,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="unannounced",
        planned_on=TODAY,
        inspectors="甲",
        unit_codes=[canary.code],
        by=users.admin,
    )
    can_task = services.task_open(
        unit=canary,
        title="金丝雀村整改",
        leader="乙",
        lead_department=dept(canary),
        deadline=TODAY + dt.timedelta(days=3),
        by=users.admin,
    )
    return {"own": own, "can": can, "can_ins": can_ins, "can_task": can_task}


def test_sample_record_and_verify_through_the_api(api, users, tree, campaign, world):
    city = api(users.city)
    resp = city.post(
        "/api/v1/inspections/",
        {
            "region_code": tree.county.code,
            "campaign": campaign.slug,
            "year": 2022,
            "kind": "sample",
            "mode": "unannounced",
            "planned_on": TODAY.isoformat(),
            "inspectors": "市委政法委督导组",
            "count": 2,
            "seed": 42,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["sample_seed"] == 42 and body["pool_size"] == 4 and len(body["checks"]) == 2
    assert all(c["unit_code"].startswith(tree.t1.code[:9]) for c in body["checks"])
    ins_id, check = body["id"], body["checks"][0]
    assert city.get(f"/api/v1/inspections/{ins_id}/verify/").json()["reproducible"] is True

    a = Assessment.objects.get(pk=check["assessment"])
    scores = [{"item": s.item.code, "score": str(s.item.max_score)} for s in a.scores.select_related("item")]
    scores[0]["score"] = "0"
    bad = city.post(
        f"/api/v1/inspections/{ins_id}/record/",
        {"check": check["id"], "scores": scores, "outcome": "overturned", "reason": ""},
        format="json",
    )
    assert bad.status_code == 400 and "必须填写原因" in bad.json()["error"]["message"]
    ok = city.post(
        f"/api/v1/inspections/{ins_id}/record/",
        {"check": check["id"], "scores": scores, "outcome": "overturned", "reason": "材料造假"},
        format="json",
    )
    assert ok.status_code == 200
    rec = next(c for c in ok.json()["checks"] if c["id"] == check["id"])
    assert rec["status"] == "overturned" and rec["self_deviation"] > 0
    a.refresh_from_db()
    assert a.status == "overturned"


def test_inspection_bad_input(api, users, tree, campaign, world):
    city = api(users.city)
    base = {
        "region_code": tree.county.code,
        "campaign": campaign.slug,
        "year": 2022,
        "kind": "sample",
        "mode": "announced",
        "planned_on": TODAY.isoformat(),
        "inspectors": "甲",
    }
    cases = [
        ({"region_code": tree.county2.code, "percent": 10}, "region_code"),
        ({"campaign": "nope", "percent": 10}, "campaign"),
        ({"percent": 10, "count": 2}, "size"),
        ({"year": 2019, "percent": 10}, "year"),
        ({"kind": "ad_hoc", "units": []}, "unit_codes"),
    ]
    for extra, field in cases:
        resp = city.post("/api/v1/inspections/", {**base, **extra}, format="json")
        assert resp.status_code == 400, (extra, resp.json())
        assert field in resp.json()["error"]["fields"], (extra, resp.json())
    assert Inspection.objects.count() == 1  # only the canary's, from the fixture


def test_rectification_lifecycle_through_the_api(api, users, world, tree):
    unit = world["own"][0].unit
    reviewer, officer = api(users.reviewer), api(users.officer)
    data = {
        "unit": unit.id,
        "title": "监控探头损坏",
        "leader": "孙镇长",
        "lead_department": dept(unit, "public_security").pk,
        "deadline": (TODAY + dt.timedelta(days=7)).isoformat(),
        "source": "hazard",
    }
    past = reviewer.post("/api/v1/rectifications/", {**data, "deadline": "2020-01-01"}, format="json")
    assert past.status_code == 400 and "deadline" in past.json()["error"]["fields"]
    resp = reviewer.post("/api/v1/rectifications/", data, format="json")
    assert resp.status_code == 201, resp.json()
    task = resp.json()
    assert task["status"] == "open" and task["opened_region_code"] == tree.county.code
    url = f"/api/v1/rectifications/{task['id']}/"
    early = officer.patch(url, {"status": "reported", "note": "已修复"}, format="json")
    assert early.status_code == 400 and "file" in early.json()["error"]["fields"]
    up = officer.post(
        url + "evidence/", {"file": SimpleUploadedFile("修复.pdf", b"%PDF-1.4\n%%EOF\n")}, format="multipart"
    )
    assert up.status_code == 201 and up.json()["evidence"][0]["name"] == "修复.pdf"
    done = {"status": "reported", "note": "已修复", "root_cause": "线路老化", "lasting_measure": "每月巡检"}
    assert officer.patch(url, done, format="json").json()["status"] == "reported"
    assert officer.patch(url, {"status": "closed"}, format="json").status_code == 403
    assert api(users.city).patch(url, {"status": "closed"}, format="json").status_code == 403
    assert reviewer.patch(url, {"status": "closed"}, format="json").json()["status"] == "closed"
    listed = reviewer.get("/api/v1/rectifications/", {"region_code": tree.t1.code, "status": "closed"}).json()
    assert [r["id"] for r in listed["results"]] == [task["id"]]


@pytest.mark.parametrize("role", ["officer", "reviewer", "city", "api"])
def test_other_citys_inspections_and_tasks_are_invisible(api, users, world, role):
    client = api(getattr(users, role))
    for url in ("/api/v1/inspections/", "/api/v1/rectifications/"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert "金丝雀村" not in resp.content.decode() and resp.json()["count"] == 0, (role, url)
    ins, task = world["can_ins"], world["can_task"]
    for url in (
        f"/api/v1/inspections/{ins.pk}/",
        f"/api/v1/inspections/{ins.pk}/verify/",
        f"/api/v1/rectifications/{task.pk}/",
    ):
        assert client.get(url).status_code == 404, (role, url)
    assert client.patch(f"/api/v1/rectifications/{task.pk}/", {"status": "in_progress"}, format="json").status_code in (
        403,
        404,
    )
    assert client.post(f"/api/v1/inspections/{ins.pk}/record/", {}, format="json").status_code in (403, 404)
    task.refresh_from_db()
    assert task.status == "open"


def test_townships_see_no_inspections_and_api_clients_only_read(api, users, world, tree, campaign):
    services.inspection_plan(
        region=tree.t1,
        campaign=campaign,
        year=2022,
        kind="scheduled",
        mode="unannounced",
        planned_on=TODAY,
        inspectors="甲",
        unit_codes=[world["own"][0].unit.code],
        by=users.city,
    )
    assert api(users.officer).get("/api/v1/inspections/").json()["count"] == 0  # 暗访 is not announced
    assert api(users.city).get("/api/v1/inspections/").json()["count"] == 1
    assert api(users.api).get("/api/v1/inspections/").json()["count"] == 0
    resp = api(users.api).post("/api/v1/rectifications/", {}, format="json")
    assert resp.status_code == 403
    assert Rectification.objects.count() == 1

"""results/ and appeals/ as a REST client uses them, in the common error shape."""

from decimal import Decimal

import pytest
from django.utils import timezone

from reports.models import OfficialResult
from tests.factories import UnitFactory, make_assessment, make_campaign

pytestmark = pytest.mark.django_db
YEAR = 2022


@pytest.fixture
def units(tree, campaign, canary):
    ok = UnitFactory(township=tree.t1, name="达标村")
    short = UnitFactory(township=tree.t1, name="差分村")
    make_assessment(unit=ok, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(10)})
    make_assessment(unit=canary, campaign=campaign, status="approved")
    return {"ok": ok, "short": short}


def test_the_whole_course_through_the_api(api, users, campaign, units, tree):
    province, officer = api(users.province), api(users.officer)
    # close
    resp = province.post("/api/v1/results/", {"campaign": campaign.slug, "year": YEAR, "notice_days": 5}, format="json")
    assert resp.status_code == 201, resp.json()
    result = resp.json()
    assert (result["status"], result["units_total"], result["attained_units"]) == ("notice", 3, 2)
    assert len(result["digest"]) == 64
    rid = result["id"]
    # the rows of 太原 only for 太原's city staff; all three for the province
    rows = api(users.city).get(f"/api/v1/results/{rid}/units/").json()["results"]
    assert {r["unit_name"] for r in rows} == {"达标村", "差分村"}
    short = next(r for r in rows if r["unit_name"] == "差分村")
    assert (short["attained"], short["failed_conditions"], short["grade"], short["appeal"]) == (
        False,
        ["score"],
        "",
        None,
    )
    assert len(province.get(f"/api/v1/results/{rid}/units/").json()["results"]) == 3
    # and the totals a township officer sees are its township's
    mine = officer.get(f"/api/v1/results/{rid}/").json()
    assert (mine["units_total"], mine["attained_units"]) == (2, 1)
    # appeal, decided by the campaign's level
    resp = officer.post(
        f"/api/v1/results/{rid}/appeals/", {"unit": units["short"].pk, "reason": "扣分有误"}, format="json"
    )
    assert resp.status_code == 201, resp.json()
    appeal = resp.json()["id"]
    again = officer.post(
        f"/api/v1/results/{rid}/appeals/", {"unit": units["short"].pk, "reason": "再诉"}, format="json"
    )
    assert again.status_code == 400 and "不能重复申诉" in again.json()["error"]["message"]
    resp = api(users.city).post(
        f"/api/v1/appeals/{appeal}/decide/", {"outcome": "rejected", "reason": "否"}, format="json"
    )
    assert resp.status_code == 403
    resp = province.post(
        f"/api/v1/appeals/{appeal}/decide/", {"outcome": "rejected", "reason": "扣分无误"}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    # publish: not before the notice ends
    body = {"document_number": "晋三零〔2023〕3号", "issued_on": timezone.localdate().isoformat(), "issuer": "领导小组"}
    resp = province.post(f"/api/v1/results/{rid}/publish/", body, format="json")
    assert resp.status_code == 400 and "公示期至" in resp.json()["error"]["message"]
    OfficialResult.objects.filter(pk=rid).update(notice_ends_on=timezone.localdate())
    resp = province.post(f"/api/v1/results/{rid}/publish/", body, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    assert resp.json()["document_number"] == "晋三零〔2023〕3号" and len(resp.json()["pdf_sha256"]) == 64
    # verify, revocations
    check = api(users.city).get(f"/api/v1/results/{rid}/verify/").json()
    assert check == {"ok": True, "digest": result["digest"], "stored": result["digest"]}
    assert api(users.city).get(f"/api/v1/results/{rid}/revocations/").json()["results"] == []
    # the attainment rows say which figures are official
    rows = api(users.city).get("/api/v1/attainment/", {"year": YEAR, "region_code": tree.county.code}).json()
    village = next(r for r in rows["results"] if r["category"] == "village_community")
    assert village["figures"] == "live"
    assert village["official"]["status"] == "published" and village["official"]["attained_units"] == 1


def test_refusals_in_the_error_shape(api, users, campaign, units, tree):
    make_assessment(unit=UnitFactory(township=tree.t2, name="待审村"), campaign=campaign, status="submitted")
    body = {"campaign": campaign.slug, "year": YEAR, "notice_days": 5}
    resp = api(users.city).post("/api/v1/results/", body, format="json")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "permission_denied"
    resp = api(users.province).post("/api/v1/results/", body, format="json")
    assert resp.status_code == 400
    assert "营盘街道：1 份" in " ".join(resp.json()["error"]["fields"]["pending"])
    resp = api(users.province).post("/api/v1/results/", {**body, "notice_days": 365}, format="json")
    assert resp.status_code == 400 and "notice_days" in resp.json()["error"]["fields"]
    assert api(users.api).post("/api/v1/results/", body, format="json").status_code == 403
    assert not OfficialResult.objects.exists()
    resp = api(users.province).post("/api/v1/results/", {**body, "count_pending": True}, format="json")
    assert resp.status_code == 201 and resp.json()["pending_counted"] == 1


def test_another_citys_result_is_a_404_like_a_missing_one(api, users, tree, standard, canary):
    datong = make_campaign(scope=tree.city2, standard=standard, slug="datong")
    resp = api(users.admin).post(
        "/api/v1/results/", {"campaign": "datong", "year": YEAR, "notice_days": 0}, format="json"
    )
    assert resp.status_code == 201
    rid = resp.json()["id"]
    for path in (f"/api/v1/results/{rid}/", f"/api/v1/results/{rid}/units/", f"/api/v1/results/{rid}/verify/"):
        got, missing = api(users.city).get(path), api(users.city).get(path.replace(str(rid), "98765"))
        assert got.status_code == missing.status_code == 404 and got.json() == missing.json()
    assert datong.results.count() == 1

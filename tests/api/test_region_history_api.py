"""The tree of a day and its recorded changes through the API (regions/?as_of=,
regions/changes/), and past years' figures under the names of their year."""

import datetime as dt

import pytest

from reports import rollup
from tests.factories import UnitFactory, make_assessment
from units.models import Region, RegionChange, Unit

AFTER_2022 = "2023-01-01"
MERGE = {
    "kind": "merge",
    "effective_on": AFTER_2022,
    "sources": ["140105001000", "140105002000"],
    "targets": [{"code": "140105003000", "name": "坞城营盘街道", "parent_code": "140105000000"}],
    "basis": "晋政函〔2022〕99号",
}


@pytest.fixture
def merged(api, users, tree, campaign):
    """2022 counted on the old tree; then 坞城街道 and 营盘街道 merge from 2023."""
    for township in (tree.t1, tree.t2):
        make_assessment(unit=UnitFactory(township=township), campaign=campaign, year=2022, status="approved")
    rollup.run(campaign_id=campaign.id, year=2022)
    resp = api(users.admin).post("/api/v1/regions/changes/", MERGE, format="json")
    assert resp.status_code == 201, resp.json()
    return resp.json()


def test_a_change_is_recorded_and_answered_with_its_record(merged, users):
    assert merged["kind"] == "merge"
    assert merged["effective_on"] == AFTER_2022
    assert sorted(merged["sources"]) == MERGE["sources"]
    assert merged["targets"] == ["140105003000"]
    assert merged["recorded_by"] == users.admin.username
    assert merged["basis"] == MERGE["basis"]
    assert Unit.objects.filter(township_id="140105003000").count() == 2


def test_the_tree_of_a_day(api, merged, users):
    client = api(users.city)
    then = client.get("/api/v1/regions/", {"as_of": "2022-12-31", "level": "township"}).json()["results"]
    now = client.get("/api/v1/regions/", {"level": "township"}).json()["results"]
    by_code = {r["code"]: r for r in then}
    assert set(by_code) == {"140105001000", "140105002000"}  # not the other city's 南关街道
    assert by_code["140105001000"]["became"] == [{"code": "140105003000", "name": "坞城营盘街道"}]
    assert by_code["140105001000"]["valid_to"] == "2022-12-31"
    assert [(r["code"], r["valid_from"], r["became"]) for r in now] == [("140105003000", AFTER_2022, [])]


def test_a_bad_day_is_a_clear_400(api, users, tree):
    resp = api(users.city).get("/api/v1/regions/", {"as_of": "2022-13-01"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "invalid" and "as_of" in error["fields"]
    assert "YYYY-MM-DD" in error["fields"]["as_of"][0]


def test_changes_are_listed_within_the_jurisdiction_only(api, merged, users):
    mine = api(users.officer).get("/api/v1/regions/changes/").json()["results"]
    assert [c["id"] for c in mine] == [merged["id"]]  # officer1 is now the successor's officer
    assert api(users.canary_officer).get("/api/v1/regions/changes/").json()["results"] == []
    # an API client with a statistics token reads them
    assert api(users.api, scope="statistics").get("/api/v1/regions/changes/").status_code == 200


@pytest.mark.parametrize("who", ["reviewer", "city", "api"])
def test_only_administrators_record_changes(api, users, tree, who):
    resp = api(getattr(users, who)).post("/api/v1/regions/changes/", MERGE, format="json")
    assert resp.status_code == 403
    assert RegionChange.objects.count() == 0
    assert Region.objects.filter(code="140105003000").count() == 0


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"sources": ["140105001000", "140105000000"]}, "sources", "同一层级"),
        ({"targets": [{"code": "140213001000", "name": "x", "parent_code": "140105000000"}]}, "targets", "已存在"),
        ({"effective_on": "2023-02-30"}, "effective_on", "YYYY-MM-DD"),
        ({"kind": "annex"}, "kind", "annex"),
        ({"basis": ""}, "basis", ""),
        ({"sources": []}, "sources", ""),
        ({"targets": [{"code": "12AB", "name": "x"}]}, "targets", "12"),
    ],
)
def test_bad_changes_are_refused_in_the_error_shape_and_store_nothing(api, users, tree, change, field, text):
    before = list(Region.objects.values_list("code", "valid_to"))
    resp = api(users.admin).post("/api/v1/regions/changes/", {**MERGE, **change}, format="json")
    assert resp.status_code == 400, resp.json()
    error = resp.json()["error"]
    assert error["code"] == "invalid"
    assert any(key.startswith(field) for key in error["fields"]), error
    assert text in " ".join(m for key, ms in error["fields"].items() if key.startswith(field) for m in ms)
    assert list(Region.objects.values_list("code", "valid_to")) == before
    assert RegionChange.objects.count() == 0


def test_past_figures_under_the_names_of_their_year(api, users, tree, campaign, merged):
    # a rename of the county from 2023 as well
    resp = api(users.admin).post(
        "/api/v1/regions/changes/",
        {
            "kind": "rename",
            "effective_on": AFTER_2022,
            "sources": ["140105000000"],
            "targets": [{"code": "140105000000", "name": "小店新区"}],
            "basis": "晋政函〔2022〕100号",
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    rows = api(users.city).get("/api/v1/attainment/", {"year": 2022, "category": "village_community"}).json()
    by_code = {r["region_code"]: r for r in rows["results"]}
    assert by_code["140105000000"]["region_name"] == "小店区"
    assert by_code["140105000000"]["became"] == []
    assert by_code["140105001000"]["region_name"] == "坞城街道"
    assert by_code["140105001000"]["became"] == [{"code": "140105003000", "name": "坞城营盘街道"}]
    assert (by_code["140105001000"]["total_units"], by_code["140105001000"]["attained_units"]) == (1, 1)


def test_the_schema_documents_both(api, users):
    schema = api(users.city).get("/api/v1/schema/?format=json").json()
    assert set(schema["paths"]["/api/v1/regions/changes/"]) >= {"get", "post"}
    params = {p["name"] for p in schema["paths"]["/api/v1/regions/"]["get"]["parameters"]}
    assert "as_of" in params


def test_dashboards_of_a_past_year_note_what_became_of_a_region(login, users, tree, campaign, merged):
    page = login(users.city).get("/reports/", {"campaign": campaign.slug, "year": 2022, "region": "140105000000"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "坞城街道" in body and "已撤并入" in body and "坞城营盘街道" in body
    # the successor's page for 2022: founded later, the predecessors hold that year
    page = login(users.officer).get("/reports/", {"campaign": campaign.slug, "year": 2022, "region": "140105003000"})
    body = page.content.decode()
    assert "本区划设立于 2023-01-01" in body
    assert "region=140105001000" in body and "region=140105002000" in body
    # and the officer, now of the successor, opens the predecessor's 2022 ledger
    ledger = login(users.officer).get(
        "/reports/township/", {"campaign": campaign.slug, "year": 2022, "region": "140105001000"}
    )
    assert ledger.status_code == 200
    assert "坞城街道" in ledger.content.decode() and "data-became" in ledger.content.decode()
    assert dt.date(2022, 12, 31) == Region.objects.get(code="140105001000").valid_to


def test_the_published_list_of_a_past_year_names_the_townships_of_that_year(login, users, tree, campaign, merged):
    page = login(users.city).get(
        "/reports/published/", {"campaign": campaign.slug, "year": 2022, "region": "140105001000"}
    )
    body = page.content.decode()
    assert page.status_code == 200
    unit = Unit.objects.get(township_id="140105003000", code__startswith="140105001")
    assert unit.name in body and "<td>坞城街道</td>" in body
    assert "共 1 个单位" in body and "坞城街道2022年度" in body


def test_nothing_new_goes_under_a_region_that_has_ended(api, login, users, tree, merged):
    """The ended townships stay visible for their past, but no unit, region or inspection
    is put under them — through the service, the form, the import and the API — each with
    the reason; the successor takes them."""
    from sanling.kernel.errors import ServiceError
    from tests.units.test_units import csv_file
    from units import services
    from units.models import User

    officer = User.objects.get(pk=users.officer.pk)  # now the successor's officer
    assert officer.region_id == "140105003000"
    before = Unit.objects.count()
    with pytest.raises(ServiceError) as exc:
        services.unit_register(township=tree.t1, code="140105001777", name="新村", kind="village", by=officer)
    assert "已于 2022-12-31 撤销" in exc.value.message_dict["township"][0]
    # the form offers only the successor
    form = login(officer).get("/units/new/").content.decode()
    assert 'value="140105003000"' in form and 'value="140105001000"' not in form
    # the import names the township and its end
    text = "单位代码,单位名称,类型,所属乡镇代码\n140105001301,丁社区,社区,140105001000\n"
    resp = login(officer).post("/units/import/", {"file": csv_file(text, "utf-8")})
    errors = [e.message for e in resp.context["errors"]]
    assert any("坞城街道" in m and "已于 2022-12-31 撤销" in m for m in errors), errors
    # the API refuses the old township as it refuses a missing one
    resp = api(officer).post(
        "/api/v1/units/", {"code": "140105001778", "name": "新村", "kind": "village", "region_code": "140105001000"}
    )
    assert resp.status_code == 400 and "region_code" in resp.json()["error"]["fields"]
    # a region under an ended parent
    with pytest.raises(ServiceError) as exc:
        services.region_create(code="140105001100", name="x", level="township", parent=tree.t1, by=users.admin)
    assert Unit.objects.count() == before
    # and the successor takes new units
    unit = services.unit_register(
        township=Region.objects.get(code="140105003000"),
        code="140105003001",
        name="新村",
        kind="village",
        by=officer,
    )
    assert unit.township_id == "140105003000"


def test_the_record_names_only_the_callers_own_accounts(api, users, tree):
    """A change spanning two cities: 太原's staff see that 太原's accounts moved, not who
    in 大同 did."""
    resp = api(users.admin).post(
        "/api/v1/regions/changes/",
        {
            **MERGE,
            "sources": [tree.t1.code, tree.canary_township.code],
            "targets": [{"code": "140105003000", "name": "跨市街道", "parent_code": "140105000000"}],
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    assert set(resp.json()["detail"]["officers"]) == {tree.t1.code, tree.canary_township.code}  # the superuser
    seen = api(users.city).get("/api/v1/regions/changes/").json()["results"][0]["detail"]["officers"]
    assert seen == {tree.t1.code: [users.officer.username]}


def test_oversized_changes_are_refused_before_their_entries_are_read(api, users, tree):
    many = [{"code": f"140105{i:03d}000", "name": "x", "parent_code": "140105000000"} for i in range(100, 160)]
    resp = api(users.admin).post("/api/v1/regions/changes/", {**MERGE, "targets": many}, format="json")
    assert resp.status_code == 400 and "最多 50 项" in resp.json()["error"]["fields"]["targets"][0]
    units = {f"1401050{i:05d}": "140105003000" for i in range(20001)}
    resp = api(users.admin).post("/api/v1/regions/changes/", {**MERGE, "kind": "split", "units": units}, format="json")
    assert resp.status_code == 400 and "最多 20000 项" in resp.json()["error"]["fields"]["units"][0]
    resp = api(users.admin).post("/api/v1/regions/changes/", {**MERGE, "effective_on": "0001-01-01"}, format="json")
    assert resp.status_code == 400 and "1949-10-01" in resp.json()["error"]["fields"]["effective_on"][0]
    assert RegionChange.objects.count() == 0

"""REST API v1 as external clients use it, and who may do what where."""

import datetime as dt

import pytest
from django.utils import timezone

from inspections.models import Incident
from reports import rollup
from tests.conftest import PASSWORD
from tests.factories import UnitFactory, make_assessment, make_incident
from units.models import AuditEvent, Unit

YEAR = 2022


def test_token_login_and_wrong_password(api, users):
    client = api()
    resp = client.post("/api/v1/auth/token/", {"username": users.api.username, "password": PASSWORD}, format="json")
    assert resp.status_code == 200 and len(resp.json()["token"]) == 64  # knox: only its digest is stored
    bad = client.post("/api/v1/auth/token/", {"username": users.api.username, "password": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid" and "用户名或密码不正确" in bad.json()["error"]["message"]
    resp = api().get("/api/v1/units/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "authentication_failed"


def test_lockout_after_repeated_failures(api, users, settings):
    client = api()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": users.officer.username, "password": "x"}, format="json")
    resp = client.post("/api/v1/auth/token/", {"username": users.officer.username, "password": PASSWORD}, format="json")
    assert resp.status_code in (400, 403, 429)
    assert "token" not in resp.json()


def test_admin_issues_and_revokes_client_tokens(api, users):
    resp = api(users.admin).post("/api/v1/auth/tokens/", {"username": users.api.username}, format="json")
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert api().get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert api(users.admin).delete(f"/api/v1/auth/tokens/{users.api.username}/").status_code == 204
    assert api().get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert api(users.city).post("/api/v1/auth/tokens/", {"username": users.api.username}).status_code == 403
    assert set(AuditEvent.objects.filter(action__startswith="token.").values_list("action", flat=True)) == {
        "token.issued",
        "token.revoked",
    }


def test_external_client_end_to_end(api, users, tree, campaign):
    # a unit registered today is in this year's campaign (not in the years before it)
    from django.utils import timezone

    YEAR = timezone.localdate().year  # noqa: N806 - this test's year
    campaign.end_year = YEAR
    campaign.save(update_fields=["end_year"])
    officer, reviewer = api(users.officer), api(users.reviewer)
    # an officer registers a unit and enters a full assessment
    resp = officer.post(
        "/api/v1/units/",
        {"code": "140105001501", "name": "接口村", "kind": "village", "region_code": tree.t1.code},
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    unit_id = resp.json()["id"]
    scores = [{"item": "1.1", "score": 40}, {"item": "1.2", "score": 30}, {"item": "2.1", "score": 30, "note": "好"}]
    resp = officer.post(
        "/api/v1/assessments/",
        {"unit": unit_id, "campaign": campaign.slug, "year": YEAR, "scores": scores},
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    a = resp.json()
    assert (a["status"], a["final_score"], a["veto_failed"]) == ("draft", "100.00", False)
    resp = officer.patch(
        f"/api/v1/assessments/{a['id']}/",
        {"scores": [{"item": "1.1", "score": 38}], "lock_version": a["lock_version"]},
        format="json",
    )
    assert resp.json()["total_score"] == "98.0"
    assert officer.post(f"/api/v1/assessments/{a['id']}/submit/").json()["status"] == "submitted"
    assert officer.post(f"/api/v1/assessments/{a['id']}/approve/").status_code == 403
    assert reviewer.post(f"/api/v1/assessments/{a['id']}/approve/").json()["status"] == "approved"
    # staff recompute and read the figures
    city = api(users.city)
    resp = city.post("/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": YEAR}, format="json")
    assert resp.status_code == 202
    assert city.get(f"/api/v1/tasks/{resp.json()['task_id']}/").json()["state"] == "SUCCESS"
    rows = city.get(
        "/api/v1/attainment/",
        {"campaign": campaign.slug, "year": YEAR, "region_code": tree.city.code, "category": "village_community"},
    ).json()["results"]
    assert (rows[0]["total_units"], rows[0]["attained_units"], rows[0]["rate"]) == (1, 1, 1.0)
    # an incident revokes it
    resp = officer.post(
        "/api/v1/incidents/",
        {
            "unit": unit_id,
            "kind": "criminal_case",
            "severity": "general",
            "occurred_on": timezone.localdate().isoformat(),
            "description": "盗窃",
        },
        format="json",
    )
    assert resp.status_code == 201
    city.post("/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": YEAR}, format="json")
    status = city.get(f"/api/v1/units/{unit_id}/status/", {"campaign": campaign.slug, "year": YEAR}).json()
    assert status["attained"] is False and status["failed_conditions"][0]["code"] == "no_incident"
    children = city.get(
        "/api/v1/attainment/", {"campaign": campaign.slug, "year": YEAR, "parent_code": tree.city.code}
    ).json()["results"]
    assert {r["region_code"] for r in children} == {tree.county.code}
    trend = city.get("/api/v1/attainment/trend/", {"campaign": campaign.slug, "region_code": tree.city.code}).json()
    assert [r["year"] for r in trend] == [YEAR, YEAR]
    # the county dismisses it as unfounded and the unit attains again
    inc = Incident.objects.get(unit_id=unit_id)
    resp = reviewer.patch(
        f"/api/v1/incidents/{inc.pk}/", {"status": "dismissed", "reason": "经核实不属实"}, format="json"
    )
    assert resp.json()["status"] == "dismissed"
    status = city.get(f"/api/v1/units/{unit_id}/status/", {"campaign": campaign.slug, "year": YEAR}).json()
    assert status["attained"] is True


def test_bad_input_gives_field_errors_and_changes_nothing(api, users, tree, campaign):
    officer = api(users.officer)
    resp = officer.post(
        "/api/v1/units/",
        {"code": "140105002601", "name": "越界", "kind": "village", "region_code": tree.t2.code},
        format="json",
    )
    assert resp.status_code == 400 and "region_code" in resp.json()["error"]["fields"]
    resp = officer.post(
        "/api/v1/units/", {"code": "1", "name": "", "kind": "ufo", "region_code": tree.t1.code}, format="json"
    )
    fields = resp.json()["error"]["fields"]
    assert {"code", "name", "kind"} <= set(fields)
    unit = UnitFactory(township=tree.t1)
    resp = officer.post(
        "/api/v1/assessments/",
        {"unit": unit.id, "campaign": campaign.slug, "year": YEAR, "scores": [{"item": "1.1", "score": 99}]},
        format="json",
    )
    assert resp.status_code == 400 and "超过该项满分" in resp.json()["error"]["message"]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    resp = officer.post(
        "/api/v1/incidents/",
        {"unit": unit.id, "kind": "criminal_case", "severity": "general", "occurred_on": tomorrow, "description": "x"},
        format="json",
    )
    assert resp.status_code == 400 and "occurred_on" in resp.json()["error"]["fields"]
    assert Incident.objects.count() == 0 and Unit.objects.count() == 1


# --- the permission matrix --------------------------------------------------------


@pytest.fixture
def world(tree, users, campaign, canary):
    own = UnitFactory(township=tree.t1, name="本地村")
    own_a = make_assessment(unit=own, campaign=campaign, status="submitted")
    own_i = make_incident(unit=own, occurred_on=dt.date(YEAR, 1, 5))
    can_a = make_assessment(unit=canary, campaign=campaign, status="submitted")
    can_i = make_incident(unit=canary, occurred_on=dt.date(YEAR, 1, 5))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    return {"own": own, "own_a": own_a, "own_i": own_i, "can_a": can_a, "can_i": can_i, "canary": canary}


LISTS = ["/api/v1/units/", "/api/v1/assessments/", "/api/v1/incidents/", "/api/v1/attainment/", "/api/v1/regions/"]


@pytest.mark.parametrize("role", ["officer", "reviewer", "city", "city_admin", "api"])
def test_lists_never_show_the_canary_to_taiyuan_users(api, users, world, role):
    client = api(getattr(users, role))
    for url in LISTS:
        resp = client.get(url)
        assert resp.status_code == 200, (role, url)
        body = resp.content.decode()
        assert "金丝雀村" not in body and world["canary"].township_id not in body, (role, url)
        ids = {r.get("id") for r in resp.json()["results"]}
        assert world["can_a"].id not in ids or url != "/api/v1/assessments/"
        assert world["can_i"].id not in ids or url != "/api/v1/incidents/"


@pytest.mark.parametrize("role", ["province", "admin"])
def test_province_and_admin_see_the_canary(api, users, world, role):
    client = api(getattr(users, role))
    assert "金丝雀村" in client.get("/api/v1/units/").content.decode()
    ids = {r["id"] for r in client.get("/api/v1/assessments/").json()["results"]}
    assert world["can_a"].id in ids


@pytest.mark.parametrize("role", ["officer", "reviewer", "city", "city_admin", "api"])
def test_guessed_ids_of_other_regions_are_404(api, users, world, role):
    client = api(getattr(users, role))
    for url in [
        f"/api/v1/units/{world['canary'].id}/",
        f"/api/v1/units/{world['canary'].id}/status/",
        f"/api/v1/assessments/{world['can_a'].id}/",
        f"/api/v1/incidents/{world['can_i'].id}/",
        f"/api/v1/regions/{world['canary'].township_id}/",
    ]:
        assert client.get(url).status_code == 404, (role, url)
    for url in [
        f"/api/v1/assessments/{world['can_a'].id}/approve/",
        f"/api/v1/assessments/{world['can_a'].id}/submit/",
    ]:
        assert client.post(url).status_code in (403, 404), (role, url)
    resp = client.patch(
        f"/api/v1/incidents/{world['can_i'].id}/", {"status": "dismissed", "reason": "x"}, format="json"
    )
    assert resp.status_code in (403, 404)
    world["can_i"].refresh_from_db()
    assert world["can_i"].status == "recorded"


def test_api_client_is_read_only(api, users, world, tree):
    client = api(users.api)
    assert client.get("/api/v1/attainment/").status_code == 200
    assert (
        client.post(
            "/api/v1/units/",
            {"code": "140105001700", "name": "x", "kind": "village", "region_code": tree.t1.code},
            format="json",
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/assessments/{world['own_a'].id}/approve/").status_code == 403
    assert client.post("/api/v1/attainment/recompute/", {"campaign": "test-sanling", "year": YEAR}).status_code == 403


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("officer", False),
        ("reviewer", True),
        ("city", False),
        ("province", False),
        ("admin", True),
        # an administrator of 太原 acts at the city level of the review chain: it does not
        # approve for the county (层层审核, issue 15)
        ("city_admin", False),
    ],
)
def test_who_may_approve_own_region(api, users, world, role, allowed):
    resp = api(getattr(users, role)).post(f"/api/v1/assessments/{world['own_a'].id}/approve/")
    assert (resp.status_code == 200) == allowed, resp.json()


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("officer", False),
        ("reviewer", True),
        ("city", True),
        ("province", True),
        ("admin", True),
        ("api", False),
        ("city_admin", True),
    ],
)
def test_who_may_recompute(api, users, world, role, allowed, campaign):
    resp = api(getattr(users, role)).post(
        "/api/v1/attainment/recompute/", {"campaign": campaign.slug, "year": YEAR}, format="json"
    )
    assert (resp.status_code == 202) == allowed


def test_only_admin_creates_regions(api, users, tree):
    data = {"code": "140105009000", "name": "新街道", "level": "township", "parent_code": tree.county.code}
    assert api(users.city).post("/api/v1/regions/", data, format="json").status_code == 403
    resp = api(users.admin).post("/api/v1/regions/", data, format="json")
    assert resp.status_code == 201
    bad = api(users.admin).post("/api/v1/regions/", {**data, "code": "140200001000"}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()["error"]["fields"]


def test_anonymous_gets_401_everywhere(api, world):
    for url in ["/api/v1/units/", "/api/v1/attainment/", "/api/v1/regions/", "/api/v1/schema/"]:
        assert api().get(url).status_code == 401


def test_list_query_counts(api, users, tree, campaign, django_assert_max_num_queries):
    for _ in range(30):
        make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign)
    rollup.run(campaign_id=campaign.id, year=YEAR)
    client = api(users.province)
    for url in ["/api/v1/units/", "/api/v1/assessments/", "/api/v1/attainment/"]:
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200


def test_schema_is_served(api, users):
    resp = api(users.city).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.") and "/api/v1/attainment/" in doc["paths"]
    html = api(users.city).get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "//unpkg" not in html


def test_unrouted_api_paths_answer_json(api, users):
    resp = api(users.city).get("/api/v1/regions/a.b.c/")
    assert resp.status_code == 404 and resp["Content-Type"] == "application/json"
    resp = api(users.city).get("/api/v1/no-such-thing/x.y")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_attainment_answers_are_cached_per_jurisdiction_until_the_next_rollup(
    api, users, tree, campaign, django_assert_max_num_queries, django_assert_num_queries
):
    unit = UnitFactory(township=tree.t1)
    rollup.run(campaign_id=campaign.id, year=YEAR)
    plain = f"/api/v1/attainment/?campaign={campaign.slug}&year={YEAR}&region_code={tree.t1.code}"
    general = plain + "&page=last"  # the general path's (snapshot_page hands it on): cached
    city = api(users.city)
    first = city.get(general).json()
    assert [r["attained_units"] for r in first["results"]] == [0, 0]
    with django_assert_max_num_queries(4):  # token, version, and no snapshot queries
        assert city.get(general).json() == first
    # a plain request is one statement, outside any transaction of its own (no savepoint
    # inside the test's), never cached
    with django_assert_num_queries(1):
        assert city.get(plain).json()["results"] == first["results"]
    # another jurisdiction never gets this answer
    assert api(users.city2).get(general).json()["count"] == 0
    # the next roll-up changes the version, and the figures
    make_assessment(unit=unit, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    for url in (general, plain):
        assert [r["attained_units"] for r in city.get(url).json()["results"]] == [0, 1]  # enterprises, villages
    # and so does an incremental update of one township
    make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
    rollup.run_for_township(campaign_id=campaign.id, year=YEAR, township_code=tree.t1.code)
    for url in (general, plain):
        assert [r["attained_units"] for r in city.get(url).json()["results"]] == [0, 2]


def test_cached_token_answers_are_dropped_on_revoke_deactivate_and_move(api, users, tree):
    from django.core.cache import cache
    from knox.crypto import hash_token

    from sanling.kernel.authentication import token_cache_key

    client = api(users.api)
    assert client.get("/api/v1/regions/").status_code == 200
    key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    cached, _auth = cache.get(token_cache_key(hash_token(key)))  # keyed by the digest, never the token
    assert cached is not None and cached.pk == users.api.pk and cached.password == ""
    # moved to another city: the next request is scoped to the new region
    users.api.region = tree.city2
    users.api.save()
    codes = {r["code"] for r in client.get("/api/v1/regions/").json()["results"]}
    assert tree.city2.code in codes and tree.city.code not in codes
    # revoked by an administrator: refused at once
    assert api(users.admin).delete(f"/api/v1/auth/tokens/{users.api.username}/").status_code in (200, 204)
    assert client.get("/api/v1/regions/").status_code == 401
    # deactivated: refused at once, and the token is gone for good (issue 20: tokens do not
    # survive a deactivation; reactivating the account does not bring it back)
    client = api(users.api)
    assert client.get("/api/v1/regions/").status_code == 200
    users.api.is_active = False
    users.api.save()
    assert client.get("/api/v1/regions/").status_code == 401
    users.api.is_active = True
    users.api.save()
    assert client.get("/api/v1/regions/").status_code == 401


def test_clients_are_throttled_per_window_with_retry_after(api, users, monkeypatch):
    from sanling.kernel.throttling import UserThrottle

    monkeypatch.setitem(UserThrottle.THROTTLE_RATES, "user", "3/min")
    monkeypatch.setattr("sanling.kernel.throttling.time.time", lambda: 1_800_000_030.0)  # mid-window, fixed
    client, other = api(users.api), api(users.city)
    assert [client.get("/api/v1/regions/").status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get("/api/v1/regions/")
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "throttled" and resp["Retry-After"] == "30"
    assert other.get("/api/v1/regions/").status_code == 200  # counted per client


def test_daily_figures_are_history_then_the_snapshot(api, users, tree, campaign):
    from unittest import mock

    from inspections.models import Assessment

    # given: a unit that attains on 1 June and loses it on 2 June (a roll-up each day)
    unit = UnitFactory(township=tree.t1)
    make_assessment(unit=unit, campaign=campaign, status="approved")
    tz = timezone.get_current_timezone()
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2022, 6, 1, 18, tzinfo=tz)):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    Assessment.objects.filter(unit=unit).update(status="returned")
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2022, 6, 2, 9, tzinfo=tz)):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    query = {"campaign": campaign.slug, "year": YEAR, "region_code": tree.county.code, "category": "village_community"}
    # when: the county's reviewer asks for the county's days
    points = api(users.reviewer).get("/api/v1/attainment/daily/", query).json()
    # then: 1 June's closing figures from history, then the snapshot under 2 June
    assert [(p["day"], p["attained_units"], p["total_units"]) for p in points] == [
        ("2022-06-01", 1, 1),
        ("2022-06-02", 0, 1),
    ]
    assert points[0]["rate"] == 1.0 and points[1]["met"] is False and points[1]["gap_units"] == 1
    # an officer of another township and the other city's reviewer see nothing of it
    assert (
        api(users.officer2).get("/api/v1/attainment/daily/", {**query, "region_code": tree.t1.code}).status_code == 404
    )
    assert api(users.canary_reviewer).get("/api/v1/attainment/daily/", query).status_code == 404
    # a year outside the campaign is refused, saying which years
    bad = api(users.reviewer).get("/api/v1/attainment/daily/", {**query, "year": "2019"})
    assert bad.status_code == 400 and "2020–2022" in bad.json()["error"]["message"]
    bad = api(users.reviewer).get("/api/v1/attainment/daily/", {**query, "year": "2019"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and bad.json()["error"]["message"].endswith("one of the campaign's years: 2020–2022.")
    # malformed or missing parameters: a 400 naming the parameter, never a server error
    for params, field in [
        ({**query, "year": "²"}, "year"),
        ({**query, "year": "20x2"}, "year"),
        ({k: v for k, v in query.items() if k != "region_code"}, "region_code"),
        ({**query, "category": "farm"}, "category"),
    ]:
        bad = api(users.reviewer).get("/api/v1/attainment/daily/", params)
        assert bad.status_code == 400 and field in bad.json()["error"]["fields"], (params, bad.content)
    campaign.categories = ["village_community"]
    campaign.save()
    bad = api(users.reviewer).get("/api/v1/attainment/daily/", {**query, "category": "enterprise_institution"})
    assert bad.status_code == 400 and "不包含这一类别" in bad.json()["error"]["fields"]["category"][0]


def test_only_the_statistics_routes_that_read_run_outside_a_transaction():
    """reports.api.AttainmentViewSet.as_view: list, retrieve, trend and daily read and
    skip ATOMIC_REQUESTS; recompute writes and keeps it, as every other route does."""
    from django.urls import resolve

    def non_atomic(path):
        return getattr(resolve(path).func, "_non_atomic_requests", set())

    for path in (
        "/api/v1/attainment/",
        "/api/v1/attainment/1/",
        "/api/v1/attainment/trend/",
        "/api/v1/attainment/daily/",
    ):
        assert non_atomic(path) == {"default"}, path
    for path in ("/api/v1/attainment/recompute/", "/api/v1/units/", "/api/v1/assessments/"):
        assert non_atomic(path) == set(), path

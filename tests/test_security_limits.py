"""Issue 20: findings 6, 7, 9–16, 18–20 and the permanent audit trail — each with a test
that failed before and passes now."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from knox.crypto import hash_token
from rest_framework.test import APIClient

from inspections import services as assessments
from tests.conftest import PASSWORD
from tests.factories import UnitFactory, UserFactory, dept, make_assessment
from units.audit import audit, verify_chain
from units.models import ApiToken, AuditEvent, Role, Unit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def api(user=None, token=None):
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    if token is not None:
        c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c


# --- 6: the optimistic lock is not optional --------------------------------------------


def test_an_edit_without_its_version_or_a_second_post_overwrites_nothing(users, campaign, tree):
    unit = UnitFactory(township=tree.t1)
    a = assessments.assessment_start(unit=unit, campaign=campaign, year=2022, by=users.officer)
    a = assessments.assessment_save_scores(
        assessment=a, scores={a.scores.first().item_id: ("35", "甲")}, lock_version=a.lock_version, by=users.officer
    )
    client = api(users.officer)
    resp = client.patch(f"/api/v1/assessments/{a.pk}/", {"scores": [{"item": "1.1", "score": 1}]}, format="json")
    assert resp.status_code == 400 and "lock_version" in resp.json()["error"]["fields"]
    resp = client.post(
        "/api/v1/assessments/",
        {"unit": unit.pk, "campaign": campaign.slug, "year": 2022, "scores": [{"item": "1.1", "score": 2}]},
        format="json",
    )
    assert resp.status_code == 400 and str(a.pk) in resp.json()["error"]["message"]
    assert a.scores.get(item__code="1.1").self_score == 35


# --- 7: the client's address -----------------------------------------------------------


def test_a_rotating_forwarded_for_header_does_not_escape_the_anonymous_throttle(settings):
    client = APIClient()
    codes = [
        client.post(
            "/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(35)
    ]
    assert 429 in codes  # 30/min for the one real address, whatever the header says


def test_behind_a_trusted_proxy_the_audit_and_the_lockout_see_the_client(settings, rf):
    from sanling.kernel.http import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.1.1", REMOTE_ADDR="10.0.0.2")
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"  # the header is ignored unless proxies are trusted
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "10.1.1.1"  # what nginx (the one trusted proxy) saw
    assert settings.AXES_CLIENT_IP_CALLABLE == "sanling.kernel.http.axes_client_ip"


# --- 9, 19: fail closed ---------------------------------------------------------------


def _run(code: str, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True)


def test_debug_is_off_unless_the_development_command_asks_for_it():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    assert _run(code, DJANGO_SETTINGS_MODULE="sanling.settings.dev").stdout.strip() == "False"
    assert _run(code, DJANGO_SETTINGS_MODULE="sanling.settings.dev", DJANGO_DEBUG="1").stdout.strip() == "True"
    assert "DJANGO_DEBUG=1" in (ROOT / "Makefile").read_text()  # make run asks for it
    # and the development key is no published constant
    assert "dev-only-not-secret" not in (ROOT / "sanling/settings/base.py").read_text()


def test_seed_demo_refuses_to_run_under_production_settings():
    res = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--users"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DJANGO_SETTINGS_MODULE": "sanling.settings.production",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "x",
            "DATABASE_URL": "postgres://u@127.0.0.1:1/x",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
    )
    assert res.returncode != 0 and "does not run under sanling.settings.production" in res.stderr


# --- 10: a township does not close its own task ----------------------------------------


def test_a_townships_own_hazard_task_is_verified_by_its_county(users, tree):
    from supervision import services

    t = services.task_open(
        unit=UnitFactory(township=tree.t1),
        title="隐患",
        leader="甲",
        lead_department=dept(tree.t1),
        source="hazard",
        deadline=dt.date(2099, 1, 1),
        by=users.officer,
    )
    assert t.opened_region == tree.county
    from supervision.models import TaskStatus
    from supervision.workflow import allowed_actions

    t.status = TaskStatus.REPORTED
    assert "verify" not in allowed_actions(t, users.officer) and "verify" in allowed_actions(t, users.reviewer)


# --- 11: login limits per address -------------------------------------------------------


def test_one_address_cannot_try_passwords_across_many_accounts(client, tree, settings):
    settings.LOGIN_RATE_PER_MINUTE = 1000  # the rate limit on its own below
    victims = [UserFactory(username=f"v{n}", role=Role.TOWNSHIP_OFFICER, region=tree.t1) for n in range(9)]
    for user in victims:
        for attempt in range(4):  # under the per-account lock-out (5)
            client.post("/accounts/login/", {"username": user.username, "password": f"guess{attempt}"})
    # after LOGIN_ADDRESS_FAILURE_LIMIT failures, even the right password does not get in
    fresh = UserFactory(username="untouched", role=Role.TOWNSHIP_OFFICER, region=tree.t1)
    resp = client.post("/accounts/login/", {"username": fresh.username, "password": PASSWORD})
    assert resp.status_code == 200 and "已暂停登录" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_logins_from_one_address_are_rate_limited(client, users, settings):
    statuses = [
        client.post("/accounts/login/", {"username": users.officer.username, "password": PASSWORD}) for _ in range(40)
    ]
    refused = [r for r in statuses if r.status_code == 200 and "登录尝试过于频繁" in r.content.decode()]
    assert len(refused) == 40 - settings.LOGIN_RATE_PER_MINUTE


# --- 12, 20: tokens -----------------------------------------------------------------


def test_tokens_are_hashed_expire_and_end_with_a_new_password(users):
    client = APIClient()
    raw = client.post(
        "/api/v1/auth/token/", {"username": users.officer.username, "password": PASSWORD}, format="json"
    ).json()["token"]
    stored = ApiToken.objects.get(user=users.officer)
    assert stored.digest == hash_token(raw) and raw not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert stored.expiry is not None
    assert api(token=raw).get("/api/v1/units/").status_code == 200
    users.officer.set_password("a-new-Sanling-2027")
    users.officer.save()
    assert api(token=raw).get("/api/v1/units/").status_code == 401
    assert not ApiToken.objects.filter(user=users.officer).exists()


def test_an_expired_token_is_refused(users):
    _t, raw = ApiToken.objects.create(user=users.officer, expiry=dt.timedelta(seconds=-1))
    assert api(token=raw).get("/api/v1/units/").status_code == 401


def test_a_statistics_token_reads_figures_not_people_or_incident_text(users, campaign, tree):
    from units.services import token_issue

    make_assessment(
        unit=UnitFactory(township=tree.t1, contact_person="张三", contact_phone="13800000000"),
        campaign=campaign,
        status="approved",
    )
    _u, raw = token_issue(username=users.api.username, by=users.admin)  # statistics by default
    client = api(token=raw)
    for url in ("/api/v1/attainment/", "/api/v1/regions/", "/api/v1/campaigns/", "/api/v1/standards/"):
        assert client.get(url).status_code == 200, url
    for url in (
        "/api/v1/units/",
        "/api/v1/incidents/",
        "/api/v1/assessments/",
        "/api/v1/rectifications/",
        f"/api/v1/units/{Unit.objects.get().pk}/status/",
    ):
        resp = client.get(url)
        assert resp.status_code == 403 and "统计数据" in resp.json()["error"]["message"], url
        assert "张三" not in resp.content.decode()


# --- 13: no existence oracle across townships ------------------------------------------


def test_registering_another_townships_code_says_prefix_not_taken(users, tree, canary, login):
    resp = api(users.officer).post(
        "/api/v1/units/",
        {"code": canary.code, "name": "试探", "kind": "village", "region_code": tree.t1.code},
        format="json",
    )
    assert resp.status_code == 400
    assert "前缀" in resp.json()["error"]["message"] and "已被登记" not in resp.content.decode()
    page = login(users.officer).post(
        "/units/new/", {"township": tree.t1.code, "code": canary.code, "name": "试探", "kind": "village"}
    )
    assert "前缀" in page.content.decode() and "已被登记" not in page.content.decode()


# --- 14, 18: malformed input is a 400 in the error shape --------------------------------


def test_malformed_values_are_400s_not_500s(login, users, campaign, tree):
    client = login(users.officer)
    client.raise_request_exception = False
    a = assessments.assessment_start(unit=UnitFactory(township=tree.t1), campaign=campaign, year=2022, by=users.officer)
    assert client.post(f"/assessments/{a.pk}/edit/", {"lock_version": "abc"}).status_code == 400
    assert (
        client.post("/assessments/start/", {"unit": "abc", "campaign": campaign.slug, "year": "2022"}).status_code
        == 404
    )
    deep = "[" * 100_000 + "]" * 100_000
    for c in (APIClient(), api(users.officer)):
        resp = c.post("/api/v1/auth/token/", deep, content_type="application/json")
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "parse_error"


def test_nested_errors_read_as_text_and_a_huge_body_gets_the_api_shape(users, campaign, tree, settings):
    a = assessments.assessment_start(unit=UnitFactory(township=tree.t1), campaign=campaign, year=2022, by=users.officer)
    resp = api(users.officer).patch(
        f"/api/v1/assessments/{a.pk}/",
        {"lock_version": a.lock_version, "scores": [{"item": "1.1", "score": "x"}]},
        format="json",
    )
    body = resp.json()
    assert resp.status_code == 400 and "ErrorDetail" not in json.dumps(body, ensure_ascii=False)
    assert body["error"]["fields"]["scores"][0].startswith("scores[0].score：")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    c = api(users.officer)
    c.raise_request_exception = False
    resp = c.post("/api/v1/incidents/", {"description": "x" * 5000}, format="json")
    assert resp.status_code == 400 and resp["Content-Type"].startswith("application/json")
    assert resp.json()["error"]["code"] == "bad_request"


# --- 15: Content-Security-Policy ----------------------------------------------------------


def test_every_page_carries_a_content_security_policy_and_no_template_needs_inline_script(login, users):
    resp = login(users.officer).get("/assessments/")
    csp = resp["Content-Security-Policy"]
    script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'self'" in script
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+=", text), path  # inline event handlers
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or "nonce" in tag, (path, tag)


def test_the_apis_data_carries_a_policy_that_allows_nothing(login, users, campaign, tree):
    """JSON and the schema are no documents: their policy allows nothing (a constant, not
    the page policy built per response); the API's HTML pages keep the page policy."""
    from sanling.kernel.csp import DATA_POLICY
    from units.services import token_issue

    _u, raw = token_issue(username=users.api.username, by=users.admin)
    client = api(token=raw)
    for url in ("/api/v1/attainment/?campaign=sx&region_code=140000000000", "/api/v1/regions/", "/api/v1/nowhere/"):
        resp = client.get(url)
        assert resp["Content-Type"].startswith("application/json"), url
        assert resp["Content-Security-Policy"] == DATA_POLICY, url
        assert "default-src 'none'" in DATA_POLICY and "frame-ancestors 'none'" in DATA_POLICY
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert schema["Content-Security-Policy"] == DATA_POLICY
    page = login(users.admin).get("/api/v1/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert (
        "default-src 'self'" in page["Content-Security-Policy"]
        and "script-src 'self'" in page["Content-Security-Policy"]
    )


# --- 16: SQLite starts write transactions at once ---------------------------------------


def test_sqlite_transactions_begin_immediate(settings):
    if connection.vendor == "sqlite":
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


# --- the trail: append-only and hash-chained ------------------------------------------


def test_the_audit_trail_is_chained_and_a_changed_row_is_named(users, tree):
    for n in range(5):
        audit(actor=users.officer, action="test.event", detail={"n": n}, ip="::ffff:10.0.0.1")
    assert list(verify_chain()) == []
    call_command("verify_audit")
    victim = AuditEvent.objects.order_by("id")[2]
    if connection.vendor == "sqlite":  # PostgreSQL refuses the UPDATE itself (integration test)
        AuditEvent.objects.filter(pk=victim.pk).update(detail={"n": 99})
        broken = list(verify_chain())
        assert broken and broken[0].id == victim.pk and "content" in broken[0].reason
        with pytest.raises(Exception, match=f"row {victim.pk}"):
            call_command("verify_audit")


def test_the_import_does_not_reveal_another_townships_codes(users, tree, canary):
    from units import imports

    sheet = f"单位代码,单位名称,类型,所属乡镇代码\n{canary.code},试探,村,{tree.t1.code}\n".encode()
    result = imports.parse_sheet(user=users.officer, name="u.csv", data=sheet)
    messages = " ".join(e.message for e in result.errors)
    assert "前缀" in messages and "已被登记" not in messages

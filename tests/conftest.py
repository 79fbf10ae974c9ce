"""Shared fixtures: a small region tree with a canary township elsewhere, users per
role, a small standard and a campaign."""

import os
from types import SimpleNamespace

import pytest

from units.models import Level, Role

from .factories import RegionFactory, UnitFactory, UserFactory, dept, make_campaign, make_standard

PASSWORD = "pw-Sanling-2026"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the portal's language: a request with Accept-Language: en leaves
    English active in the thread (LocaleMiddleware activates, nothing deactivates), which
    would otherwise leak into the messages of services a later test calls directly."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (throttle counters, cached API answers)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tree(db):
    """山西 › 太原 › 小店区 › {t1, t2};  山西 › 大同 › 平城区 › canary township."""
    p = RegionFactory(code="140000000000", name="山西省", level=Level.PROVINCE)
    city = RegionFactory(code="140100000000", name="太原市", level=Level.CITY, parent=p)
    county = RegionFactory(code="140105000000", name="小店区", level=Level.COUNTY, parent=city)
    t1 = RegionFactory(code="140105001000", name="坞城街道", level=Level.TOWNSHIP, parent=county)
    t2 = RegionFactory(code="140105002000", name="营盘街道", level=Level.TOWNSHIP, parent=county)
    city2 = RegionFactory(code="140200000000", name="大同市", level=Level.CITY, parent=p)
    county2 = RegionFactory(code="140213000000", name="平城区", level=Level.COUNTY, parent=city2)
    t3 = RegionFactory(code="140213001000", name="南关街道", level=Level.TOWNSHIP, parent=county2)
    from standards.kinds import load_tree
    from units.departments import load_sectors

    # shipped data (the kind tree by a migration, sectors by load_departments): a
    # transactional test's flush empties their tables
    load_sectors()
    load_tree()
    return SimpleNamespace(
        province=p, city=city, county=county, t1=t1, t2=t2, city2=city2, county2=county2, canary_township=t3
    )


@pytest.fixture
def users(tree):
    def mk(username, role, region):
        return UserFactory(username=username, role=role, region=region)

    return SimpleNamespace(
        officer=mk("officer1", Role.TOWNSHIP_OFFICER, tree.t1),
        officer2=mk("officer2", Role.TOWNSHIP_OFFICER, tree.t2),
        canary_officer=mk("officer_dt", Role.TOWNSHIP_OFFICER, tree.canary_township),
        reviewer=mk("reviewer1", Role.COUNTY_REVIEWER, tree.county),
        canary_reviewer=mk("reviewer_dt", Role.COUNTY_REVIEWER, tree.county2),
        city=mk("city1", Role.CITY_STAFF, tree.city),
        city2=mk("city2", Role.CITY_STAFF, tree.city2),
        province=mk("province1", Role.PROVINCE_STAFF, tree.province),
        admin=UserFactory(username="admin1", role=Role.ADMIN, region=None, is_staff=True, is_superuser=True),
        # an administrator of 太原 only: staff, not a superuser (issue 20)
        city_admin=UserFactory(username="admin_ty", role=Role.ADMIN, region=tree.city, is_staff=True),
        api=mk("api1", Role.API_CLIENT, tree.city),
        # 行业部门: the county's 教育局 (schools and kindergartens), its police (records
        # incidents for any unit of the county), and the other city's 教育局
        education=UserFactory(
            username="edu1", role=Role.DEPARTMENT_STAFF, region=tree.county, department=dept(tree.county, "education")
        ),
        police=UserFactory(
            username="police1",
            role=Role.DEPARTMENT_STAFF,
            region=tree.county,
            department=dept(tree.county, "public_security"),
        ),
        canary_education=UserFactory(
            username="edu_dt",
            role=Role.DEPARTMENT_STAFF,
            region=tree.county2,
            department=dept(tree.county2, "education"),
        ),
    )


@pytest.fixture
def canary(tree):
    """A unit in another city's township: it must never appear to users of 太原."""
    return UnitFactory(township=tree.canary_township, code="140213001999", name="金丝雀村")


@pytest.fixture
def standard(db):
    return make_standard()


@pytest.fixture
def campaign(tree, standard):
    return make_campaign(scope=tree.province, standard=standard)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def pytest_configure(config):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def eager_tasks():
    """Celery tasks run in-process for this test, also where a real broker is configured
    (the integration run): for tests of what a task does, not of the queue."""
    from sanling.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before

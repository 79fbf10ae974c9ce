"""Settings: production passes Django's deploy checks; the embedded default needs nothing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True)


def test_production_settings_pass_check_deploy(tmp_path):
    res = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="sanling.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-a-long-random-production-secret-key-value",
        DJANGO_ALLOWED_HOSTS="sanling.example.gov.cn",
        DATABASE_URL="postgres://sanling@127.0.0.1:1/sanling",  # not connected to by `check`
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no issues" in res.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path):
    res = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="sanling.settings.production",
        DJANGO_ALLOWED_HOSTS="x",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert res.returncode != 0
    assert "DJANGO_SECRET_KEY" in res.stderr


def test_default_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans" and settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True  # no REDIS_URL in the fast run


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "sanling.settings.production",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "sanling.example.gov.cn",
    "DATABASE_URL": "postgres://sanling@127.0.0.1:1/sanling",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


@pytest.mark.parametrize(
    "override,named",
    [
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "PostgreSQL"),
    ],
)
def test_production_fails_closed_naming_what_is_missing(override, named):
    # production without its services would run on SQLite, in-process tasks and a
    # per-process cache: it refuses to start instead, and says what to set
    res = run_manage("check", **{**PRODUCTION, **override})
    assert res.returncode != 0
    assert named in res.stderr and "ImproperlyConfigured" in res.stderr


@pytest.mark.parametrize("module", ["sanling.wsgi", "sanling.asgi", "sanling.celery"])
def test_servers_and_workers_default_to_production_settings(module):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
    code = f"import os, {module}; print(os.environ['DJANGO_SETTINGS_MODULE'])"
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, **{k: v for k, v in PRODUCTION.items() if k != "DJANGO_SETTINGS_MODULE"}},
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "sanling.settings.production"
    # and without the production environment they do not start at all
    res = subprocess.run(
        [sys.executable, "-c", f"import {module}; from django.conf import settings; settings.DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0 and "DJANGO_SECRET_KEY" in res.stderr


def test_test_settings_ignore_the_developers_dotenv(tmp_path):
    # given: a copy of the settings package with a .env beside it, as a developer has
    (tmp_path / "sanling").mkdir()
    (tmp_path / "sanling" / "__init__.py").write_text("")
    shutil.copytree(ROOT / "sanling" / "settings", tmp_path / "sanling" / "settings")
    (tmp_path / ".env").write_text("DJANGO_SECRET_KEY=from-dotenv\nDATABASE_URL=sqlite:////tmp/from-dotenv.db\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL")}

    def secret(module):
        code = f"from sanling.settings import {module} as s; print(s.SECRET_KEY, s.DATABASES['default']['NAME'])"
        res = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stderr
        return res.stdout.split()

    # then: the development settings read it, the test settings do not
    assert secret("dev") == ["from-dotenv", "/tmp/from-dotenv.db"]
    assert "from-dotenv" not in " ".join(secret("test"))


@pytest.mark.parametrize("value", ["lots", "64", "0MB", "64MB; SET jit = on"])
def test_a_roll_up_work_mem_that_is_no_size_stops_the_start(value):
    res = run_manage("check", ROLLUP_WORK_MEM=value)
    assert res.returncode != 0 and "ROLLUP_WORK_MEM" in res.stderr and "64MB" in res.stderr


def test_the_roll_up_runs_with_its_work_mem(settings):
    assert run_manage("check", ROLLUP_WORK_MEM="256MB").returncode == 0
    assert settings.ROLLUP_WORK_MEM == "64MB"


@pytest.mark.parametrize("value", ["two", "-1", "65", "2; SET jit = on"])
def test_roll_up_parallel_workers_that_are_no_count_stop_the_start(value):
    res = run_manage("check", ROLLUP_PARALLEL_WORKERS=value)
    assert res.returncode != 0 and "ROLLUP_PARALLEL_WORKERS" in res.stderr and "0 to 64" in res.stderr


def test_roll_up_parallel_workers_are_the_servers_unless_set(settings):
    assert run_manage("check", ROLLUP_PARALLEL_WORKERS="0").returncode == 0
    assert settings.ROLLUP_PARALLEL_WORKERS is None

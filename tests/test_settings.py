"""Settings: production passes Django's deploy checks; the embedded default needs nothing."""

import os
import subprocess
import sys
from pathlib import Path

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

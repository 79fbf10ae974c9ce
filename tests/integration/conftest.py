"""Integration tests: real PostgreSQL, Redis and a Celery worker process.

Run through `python -m tests.services -- python -m pytest -m integration`, which starts
the servers and sets DATABASE_URL/REDIS_URL. Without them these tests skip (the fast
run), and `make test` runs them in a second step.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
REAL = bool(os.environ.get("REDIS_URL")) and os.environ.get("DATABASE_URL", "").startswith("postgres")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.integration)
            if not REAL:
                item.add_marker(pytest.mark.skip(reason="needs real PostgreSQL and Redis: run via tests.services"))


def _worker_env() -> dict:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="sanling.settings.test")


def start_worker(*, name: str = "w1", concurrency: int = 1, queues: str | None = None) -> subprocess.Popen:
    """A worker process; by default on every queue (settings.WORKER_ALL_QUEUES)."""
    log = open(ROOT / "test-artifacts" / f"celery-{name}.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sanling",
            "worker",
            "-n",
            f"{name}@%h",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "-Q",
            queues or settings.WORKER_ALL_QUEUES,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=_worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from sanling.celery import app

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {proc.returncode}; see test-artifacts/celery-{name}.log")
        try:
            if any(f"{name}@" in host for reply in app.control.ping(timeout=0.5) for host in reply):
                return proc
        except Exception:  # noqa: BLE001, S110 - broker not ready yet
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("celery worker did not answer a ping within 30 s")


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def celery_worker(transactional_db):
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    proc = start_worker()
    yield proc
    stop_worker(proc)


def wait_for(predicate, *, timeout: float = 20, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()

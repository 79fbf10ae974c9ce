"""Shared by the benchmarks: a throwaway PostgreSQL (and Redis) from this machine's
binaries, Django configured against it, and a seeded demo province."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def services(redis: bool = False, database: str | None = None):
    """A throwaway PostgreSQL (and Redis), or with `database` an existing PostgreSQL
    (a province seeded once, e.g. the 5 M units that take a while to seed)."""
    from tests.services import postgresql
    from tests.services import redis as redis_server

    pg_ctx = contextlib.nullcontext({"url": database}) if database else postgresql()
    with pg_ctx as pg, redis_server() if redis else contextlib.nullcontext() as rd:
        os.environ["DATABASE_URL"] = pg["url"]
        if rd:
            os.environ["REDIS_URL"] = rd["url"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanling.settings.dev")
        import django

        django.setup()
        yield pg, rd


def seed(units: int, *, seed: int = 1, year: int = 2022) -> dict:
    from django.core.management import call_command

    t = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("load_regions", province=["14"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("load_standards", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("seed_demo", units=units, seed=seed, assessments=True, campaign=["shanxi-sanling"], year=[year])
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {"seed_s": round(time.monotonic() - t, 1)}


def cpu_reference_ms() -> float:
    """How fast this (shared, virtualised) machine is right now: the best of three runs of
    a fixed pure-Python loop. The same loop took 340–550 ms here within minutes; a figure
    measured beside it can be judged against it."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        x = 0
        for i in range(5_000_000):
            x += i
        best = min(best, time.perf_counter() - t)
    return round(best * 1000, 1)


def machine() -> dict:
    import django
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "date": time.strftime("%Y-%m-%d"),
        "cpu_reference_ms": cpu_reference_ms(),
    }

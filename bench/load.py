"""Bounded mixed load on loopback: township officers saving assessments, staff reading
dashboards, approvals whose incremental updates run on a real Celery worker, and one full
roll-up on that worker in the middle — then count the rows.

    python bench/load.py --units 100000 --officers 200 --staff 20 --seconds 60
    python bench/load.py --database postgres://…  # a province seeded before

Seeds a province in a throwaway PostgreSQL (or reuses one), starts Redis, gunicorn on
127.0.0.1 and a worker on every queue, runs locust headless (bounded by --seconds) while
this process approves a submitted assessment every --approve-every seconds (each queues
its township's incremental update, as a reviewer's approval does) and queues one full
roll-up halfway, then checks: no failed request, and every acknowledged save is in the
database (each assessment's lock_version equals its officer's count of successful saves —
no lost write). Officers wait --officer-think seconds between one save and the next
entry page (filling in items), staff --staff-think between pages. Prints JSON with
p50/p95/p99 per request type, the approvals' time to the province figure and the full
roll-up's duration under the load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import ROOT, machine, seed, services

PASSWORD = "Load-Test-2026"  # noqa: S105 - throwaway users in a throwaway database


def session_for(user) -> str:
    """A signed-in session made directly, so the run measures work rather than a storm of
    deliberately slow password hashes (PBKDF2) at the start."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def plan(officers: int, staff: int, run: str = "") -> dict:
    """Officers with a draft each, and staff; `run` tells the accounts of one run from the
    last one's in a reused province (users are deactivated, never deleted)."""
    from inspections import services as assessments
    from standards.models import Campaign
    from units.models import Level, Region, Role, Unit, User

    campaign = Campaign.objects.get(slug="shanxi-sanling")
    # where a local campaign implements the province's (Jinzhong's), units assess under it
    # and their Shanxi assessment is derived: officers elsewhere assess for Shanxi
    local = [c.scope.prefix for c in Campaign.objects.filter(implements=campaign).select_related("scope")]
    townships = [
        code
        for code in Region.objects.filter(level=Level.TOWNSHIP, code__startswith="14")
        .order_by("code")
        .values_list("code", flat=True)
        if not code.startswith(tuple(local))
    ]
    step = max(1, len(townships) // officers)
    out = []
    for n, code in enumerate(townships[::step][:officers]):
        user = User.objects.create_user(
            f"load{run}-officer-{n}", password=PASSWORD, role=Role.TOWNSHIP_OFFICER, region_id=code
        )
        # unordered: `.first()` orders by id, and PostgreSQL then walks the primary key
        # through the province for a township's first unassessed unit (~2 s a township at 5M)
        unassessed = (
            Unit.objects.filter(township_id=code, active=True, category__in=campaign.categories)
            .exclude(assessments__campaign=campaign, assessments__year=2022)
            .order_by()[:1]
        )
        unit = next(iter(unassessed), None) or Unit.objects.create(
            township_id=code, code=f"{code}{900 + n:03d}", name=f"压测单位{n}", kind="village"
        )
        a = assessments.assessment_start(unit=unit, campaign=campaign, year=2022, by=user)
        out.append(
            {
                "username": user.username,
                "session": session_for(user),
                "assessment": a.pk,
                "start_version": a.lock_version,
            }
        )
    reader = User.objects.create_user(
        f"load{run}-staff", password=PASSWORD, role=Role.PROVINCE_STAFF, region=Region.objects.get(code="140000000000")
    )
    cities = list(Region.objects.filter(level=Level.CITY, code__startswith="14").values_list("code", flat=True))
    return {
        "officers": out,
        "staff": [session_for(reader) for _ in range(staff)],
        "campaign": campaign.slug,
        "year": 2022,
        "cities": cities,
        "officer_weight": officers,
        "staff_weight": staff,
    }


def approvals(stop: threading.Event, every: float, seconds: int, latencies: list[float], full: dict) -> None:
    """Approve a submitted assessment every `every` seconds, each queueing its township's
    incremental update on the worker, and time each until the province figure moves;
    halfway, queue one full roll-up on the worker."""
    from django.db import connection, transaction
    from django.db.models import Q

    from inspections.models import Assessment, Status
    from reports import tasks
    from reports.models import AttainmentSnapshot
    from standards.models import Campaign

    campaign = Campaign.objects.select_related("scope").get(slug="shanxi-sanling")
    local = Q()  # where a local campaign implements the province's, units assess under it
    for c in Campaign.objects.filter(implements=campaign).select_related("scope"):
        local |= Q(unit__township__code__startswith=c.scope.prefix)
    queue = iter(
        Assessment.objects.exclude(local)
        .filter(
            campaign=campaign,
            year=2022,
            status=Status.SUBMITTED,
            veto_failed=False,
            final_score__gte=campaign.pass_mark,
            unit__incidents__isnull=True,
            unit__township__code__startswith="14",
        )
        .select_related("unit")
        .order_by("id")[:5000]
    )
    started = time.monotonic()
    while not stop.is_set():
        if not full and time.monotonic() - started > seconds / 2:
            full["queued_at"] = time.monotonic()
            full["task"] = tasks.rollup_campaign_year.delay(campaign.pk, 2022).id
        a = next(queue)
        prov = dict(campaign=campaign, year=2022, region_id=campaign.scope.code, category=a.unit.category)
        before = AttainmentSnapshot.objects.get(**prov).attained_units
        t = time.monotonic()
        with transaction.atomic():
            Assessment.objects.filter(pk=a.pk).update(status=Status.APPROVED)
            transaction.on_commit(lambda a=a: tasks.schedule_unit_rollup(a.unit_id, campaign.id, 2022))
        while AttainmentSnapshot.objects.get(**prov).attained_units == before and time.monotonic() - t < 30:
            time.sleep(0.01)
        latencies.append(round(time.monotonic() - t, 3))
        stop.wait(max(0.0, every - (time.monotonic() - t)))
    connection.close()


def percentiles(stats_csv: Path) -> dict:
    out = {}
    with stats_csv.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "rps": round(float(row["Requests/s"]), 1),
            }
    return out


def split(times: list, window: tuple[float, float]) -> dict:
    """p50/p95 per request type, for the requests that started while the full roll-up ran
    and for the others (the steady state): the roll-up's window is a few seconds of the
    run, and its share of the requests decides whether it shows in the run's p95."""
    lo, hi = window
    groups: dict = {}
    for name, start, ms in times:
        during = start is not None and lo <= start <= hi
        groups.setdefault((name, "during_rollup" if during else "outside"), []).append(ms)

    def pick(values: list, q: float) -> int:
        return round(values[min(len(values) - 1, int(q * len(values)))])

    out: dict = {}
    for (name, part), values in sorted(groups.items()):
        values.sort()
        out.setdefault(name, {})[part] = {
            "requests": len(values),
            "p50_ms": pick(values, 0.5),
            "p95_ms": pick(values, 0.95),
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--officers", type=int, default=50)
    ap.add_argument("--staff", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--officer-think", type=float, nargs=2, default=[10, 30], metavar=("MIN", "MAX"))
    ap.add_argument("--staff-think", type=float, nargs=2, default=[1, 3], metavar=("MIN", "MAX"))
    ap.add_argument("--approve-every", type=float, default=0.5, help="seconds between two approvals")
    ap.add_argument("--database", help="an already seeded PostgreSQL (URL) instead of a throwaway one")
    args = ap.parse_args()
    with services(redis=True, database=args.database):
        from inspections.models import Assessment
        from reports import rollup
        from reports.models import RollupState
        from standards.models import Campaign

        info = {"seed_s": "reused"} if args.database else seed(args.units)
        rollup.run(campaign_id=Campaign.objects.get(slug="shanxi-sanling").id, year=2022)
        load_plan = plan(args.officers, args.staff, run=time.strftime("%H%M%S") if args.database else "")
        load_plan.update(officer_think=args.officer_think, staff_think=args.staff_think)
        tmp = Path(tempfile.mkdtemp(prefix="sanling-load-"))
        (tmp / "plan.json").write_text(json.dumps(load_plan), encoding="utf-8")
        port = 18766
        from django.conf import settings

        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="sanling.settings.dev",
            DJANGO_DEBUG="false",
            LOG_LEVEL="WARNING",
            SANLING_LOAD_PLAN=str(tmp / "plan.json"),
            SANLING_LOAD_OUT=str(tmp / "saved.json"),
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sanling.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sanling", "worker", "-Q", settings.WORKER_ALL_QUEUES]
            + ["-c", "2", "--without-gossip", "--without-mingle", "-l", "WARNING"],
            cwd=ROOT,
            env=env,
        )
        stop, latencies, full = threading.Event(), [], {}
        try:
            time.sleep(4)
            approver = threading.Thread(
                target=approvals, args=(stop, args.approve_every, args.seconds, latencies, full)
            )
            approver.start()
            users = args.officers + args.staff
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "-u",
                    str(users),
                    "-r",
                    str(max(1, users // 10)),  # all users started within 10 s
                    "-t",
                    f"{args.seconds}s",
                    "-H",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(tmp / "load"),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                    "--stop-timeout",
                    "10",
                    "--reset-stats",
                ],
                cwd=ROOT,
                env=env,
                check=False,
            )
            stop.set()
            approver.join()
            from celery.result import AsyncResult

            if full.get("task"):
                AsyncResult(full["task"]).get(timeout=600)
        finally:
            server.terminate()
            worker.terminate()
            server.wait(20)
            worker.wait(20)
        dumped = json.loads((tmp / "saved.json").read_text(encoding="utf-8"))
        saved = dumped["saved"]
        state = RollupState.objects.get(campaign__slug="shanxi-sanling", year=2022)
        # the full run's start: the time it wrote on every snapshot row (the approvals'
        # updates after it rewrite only their townships' paths, and RollupState's time)
        from django.db.models import Count

        from reports.models import AttainmentSnapshot

        full_at = (
            AttainmentSnapshot.objects.filter(campaign__slug="shanxi-sanling", year=2022)
            .values("computed_at")
            .annotate(n=Count("id"))
            .order_by("-n")[0]["computed_at"]
        )
        window = (full_at.timestamp(), full_at.timestamp() + state.duration_ms / 1000)
        lost = []
        for o in load_plan["officers"]:
            version = Assessment.objects.get(pk=o["assessment"]).lock_version - o["start_version"]
            if version != saved.get(str(o["assessment"]), 0):
                lost.append(
                    {"assessment": o["assessment"], "db": version, "acknowledged": saved.get(str(o["assessment"]))}
                )
        stats = percentiles(tmp / "load_stats.csv")
        from units.models import Unit

        out = {
            "units": Unit.objects.count(),
            **info,
            "officers": args.officers,
            "staff": args.staff,
            "seconds": args.seconds,
            "gunicorn_workers": args.workers,
            "requests": stats,
            "saves_acknowledged": sum(saved.values()),
            "lost_or_extra_writes": lost,
            "officer_think_s": args.officer_think,
            "staff_think_s": args.staff_think,
            "approvals": len(latencies),
            "approval_to_province_s": {
                "median": sorted(latencies)[len(latencies) // 2] if latencies else None,
                "p95": sorted(latencies)[int(len(latencies) * 0.95)] if latencies else None,
                "max": max(latencies, default=None),
            },
            "full_rollup_under_load_s": state.duration_ms / 1000,
            "rollup_settings": {
                k: getattr(settings, k) for k in ("ROLLUP_PARALLEL_WORKERS", "ROLLUP_BATCH_UNITS", "ROLLUP_BATCH_PAUSE")
            },
            "by_rollup_window": split(dumped["times"], window),
            "machine": machine(),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        failures = stats.get("Aggregated", {}).get("failures", 1)
        sys.exit(0 if not lost and failures == 0 else 1)


if __name__ == "__main__":
    main()

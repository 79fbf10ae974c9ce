"""Benchmark pages that read the snapshot, on PostgreSQL with a seeded province.

    python bench/pages.py --units 1000000

Times pages server-side (Django's test client, in-process, N sequential requests after a
warm-up) and reports p50/p95/max: the dashboards (they read the snapshot, so the figure
should not depend on the number of units), the big screen's API, and the province's
lists that issue #18 found slow or cut (worklist, review queue, published list, units,
incidents, ledger — paginated now); then a login (the password hash) and a token issue.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _setup import machine, seed, services


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--list-requests", type=int, default=50, help="requests to each list page")
    ap.add_argument("--database", help="an already seeded PostgreSQL (URL) instead of a throwaway one")
    args = ap.parse_args()
    run = time.strftime("%H%M%S") if args.database else ""  # accounts are never deleted: one set a run
    with services(database=args.database):
        from django.test import Client
        from django.test.utils import setup_test_environment

        from reports import rollup
        from standards.models import Campaign
        from units.models import Region, Role, Unit, User

        info = {"seed_s": "reused"} if args.database else seed(args.units)
        setup_test_environment()
        campaign = Campaign.objects.get(slug="shanxi-sanling")
        rollup.run(campaign_id=campaign.id, year=2022)
        user = User.objects.create(
            username=f"bench-province{run}", role=Role.PROVINCE_STAFF, region=Region.objects.get(code="140000000000")
        )
        client = Client()
        client.force_login(user)
        out = {"units": Unit.objects.count(), **info}
        q = "campaign=shanxi-sanling&year=2022"
        for name, url, n in [
            ("province_dashboard", f"/reports/?{q}", args.requests),
            ("city_dashboard", f"/reports/?{q}&region=140100000000", args.requests),
            ("screen_api", f"/api/v1/screen/?{q}", args.requests),
            ("province_worklist", f"/assessments/?{q}", args.list_requests),
            ("province_worklist_page_40", f"/assessments/?{q}&page=40", args.list_requests),
            ("province_review_queue", "/assessments/queue/", args.list_requests),
            ("published_list", f"/reports/published/?{q}", args.list_requests),
            ("units_list", "/units/", args.list_requests),
            ("incidents_list", "/incidents/", args.list_requests),
            ("rectification_ledger", "/supervision/rectifications/", args.list_requests),
        ]:
            for _ in range(5):
                assert client.get(url).status_code == 200, url  # noqa: S101 - warm-up sanity
            times = []
            for _ in range(n):
                t = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "requests": len(times),
            }
        # a login through the form (PBKDF2 at Django's 1,000,000 iterations) and a token issue
        from units import services as unit_services

        user.set_password("Bench-password-2026")
        user.save()
        api = User.objects.create(username=f"bench-api{run}", role=Role.API_CLIENT, region=user.region)
        admin = User.objects.create(username=f"bench-admin{run}", role=Role.ADMIN, is_staff=True, is_superuser=True)
        for name, act in [
            (
                "login",
                lambda: Client().post(
                    "/accounts/login/", {"username": user.username, "password": "Bench-password-2026"}
                ),
            ),
            ("token_issue", lambda: unit_services.token_issue(username=api.username, by=admin)),
        ]:
            times = []
            for _ in range(10):
                t = time.perf_counter()
                act()
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "requests": 10}
        out["machine"] = machine()
        print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

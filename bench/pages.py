"""Benchmark pages that read the snapshot, on PostgreSQL with a seeded province.

    python bench/pages.py --units 1000000

Times the province dashboard server-side (Django's test client, in-process, N sequential
requests after a warm-up) and reports p50/p95/max. Pages read the snapshot, so the
figure should not depend on the number of units.
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
    args = ap.parse_args()
    with services():
        from django.test import Client
        from django.test.utils import setup_test_environment

        from reports import rollup
        from standards.models import Campaign
        from units.models import Region, Role, User

        info = seed(args.units)
        setup_test_environment()
        campaign = Campaign.objects.get(slug="shanxi-sanling")
        rollup.run(campaign_id=campaign.id, year=2022)
        user = User.objects.create(
            username="bench-province", role=Role.PROVINCE_STAFF, region=Region.objects.get(code="140000000000")
        )
        client = Client()
        client.force_login(user)
        out = {"units": args.units, **info}
        for name, url in [
            ("province_dashboard", "/reports/?campaign=shanxi-sanling&year=2022"),
            ("city_dashboard", "/reports/?campaign=shanxi-sanling&year=2022&region=140100000000"),
        ]:
            for _ in range(10):
                assert client.get(url).status_code == 200  # noqa: S101 - warm-up sanity
            times = []
            for _ in range(args.requests):
                t = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "requests": len(times),
            }
        out["machine"] = machine()
        print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

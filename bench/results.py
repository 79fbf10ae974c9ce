"""Benchmark closing a year (锁定) and verifying its fingerprint on PostgreSQL.

    python bench/results.py --units 1000000

Seeds the demo province (the real villages plus N enterprises and institutions, 2022
assessments), then times: the close (a full roll-up, every unit's outcome in one
INSERT … SELECT, the region rows, the fingerprint, in one transaction); the verification
(the fingerprint recomputed from the stored rows); and the nightly roll-up afterwards (it
never touches the official rows). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _setup import machine, seed, services

YEAR = 2022


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    args = ap.parse_args()
    with services():
        seeded = seed(args.units, year=YEAR)
        from reports import results, rollup
        from reports.models import ResultRegion, ResultUnit
        from standards.models import Campaign
        from units.models import Region, Role, User

        campaign = Campaign.objects.get(slug="shanxi-sanling")
        staff, _ = User.objects.get_or_create(
            username="bench-province",
            defaults={"role": Role.PROVINCE_STAFF, "region": Region.objects.get(code="140000000000")},
        )
        t = time.perf_counter()
        result = results.result_close(campaign=campaign, year=YEAR, notice_days=7, by=staff, count_pending=True)
        close_s = time.perf_counter() - t
        t = time.perf_counter()
        check = results.verify(result)
        verify_s = time.perf_counter() - t
        t = time.perf_counter()
        rollup.run(campaign_id=campaign.pk, year=YEAR)
        rollup_s = time.perf_counter() - t
        print(
            json.dumps(
                {
                    "machine": machine(),
                    **seeded,
                    "units": args.units,
                    "result_unit_rows": ResultUnit.objects.filter(result=result).count(),
                    "result_region_rows": ResultRegion.objects.filter(result=result).count(),
                    "pending_counted": result.pending_counted,
                    "close_s": round(close_s, 2),
                    "verify_s": round(verify_s, 2),
                    "verify_ok": check["ok"],
                    "rollup_after_close_s": round(rollup_s, 3),
                    "pid": os.getpid(),
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

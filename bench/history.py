"""Benchmark the real tree and its history on PostgreSQL.

    python bench/history.py --units 1000000 --rounds 5

1. Loading Shanxi (1,352 townships, 21,895 village and community committees as units)
   with `load_regions --province 14` into an empty schema, and the rerun that changes
   nothing.
2. A past year's roll-up without history and with it: the demo province is seeded (the
   real villages plus N enterprises and institutions, assessments for 2022), 2022 is
   rolled up `--rounds` times; then a later year's changes are recorded through their
   services — five counties recoded (every unit in them moves, `units.changes`), and
   units archived and re-kinded — so 2022 must be counted with the state at its end
   (units.history joins UnitState); 2022 is rolled up `--rounds` times again, and its
   figures are checked to be exactly those from before. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time

from _setup import machine, services

YEAR = 2022
LATER = dt.date(2023, 3, 1)


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--counties", type=int, default=5)
    ap.add_argument("--archive", type=int, default=2000)
    ap.add_argument("--rekind", type=int, default=2000)
    args = ap.parse_args()
    with services():
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        devnull = open(os.devnull, "w")  # noqa: SIM115
        t = time.perf_counter()
        call_command("load_regions", province=["14"], stdout=devnull)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        call_command("load_regions", province=["14"], stdout=devnull)
        rerun_s = time.perf_counter() - t

        from reports import rollup
        from reports.models import AttainmentSnapshot
        from standards.models import Campaign
        from units import changes
        from units import services as unit_services
        from units.models import Level, Region, Unit, UnitState, User

        call_command("load_standards", stdout=devnull)
        call_command("seed_demo", units=args.units, seed=1, assessments=True, campaign=["shanxi-sanling"], year=[YEAR])
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        campaign = Campaign.objects.get(slug="shanxi-sanling")
        total_units = Unit.objects.count()

        def run():
            rollup.run(campaign_id=campaign.id, year=YEAR)

        def figures():
            return sorted(
                AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list(
                    "region_id", "category", "total_units", "attained_units", "rate", "gap_units"
                )
            )

        run()  # warm
        without = median_time(run, args.rounds)
        before = figures()

        # a later year's changes, through their services
        admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": "admin", "is_superuser": True})
        counties = list(
            Region.objects.filter(level=Level.COUNTY, code__startswith="1402").order_by("code")[: args.counties]
        )
        t = time.perf_counter()
        for i, county in enumerate(counties):
            free = 80 + i
            changes.region_change(
                kind="recode",
                effective_on=LATER,
                sources=[county.code],
                targets=[changes.Target(f"1402{free:02d}000000", county.name, "140200000000")],
                basis="bench",
                by=admin,
            )
        recode_s = time.perf_counter() - t
        moved = UnitState.objects.count()
        others = Unit.objects.filter(state_since__isnull=True).order_by("id")
        for unit in others[: args.archive]:
            unit_services.unit_set_active(unit=unit, active=False, by=admin, effective_on=LATER)
        swap = {"village": "community", "community": "village", "school": "hospital", "hospital": "school"}
        for unit in others.filter(kind__in=list(swap))[: args.rekind]:
            unit_services.unit_update(unit=unit, kind=swap[unit.kind], by=admin, effective_on=LATER)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        states = UnitState.objects.count()

        run()  # warm
        with_history = median_time(run, args.rounds)
        after = figures()
        if after != before:
            raise SystemExit("2022 changed after later changes: the history is wrong")

        print(
            json.dumps(
                {
                    "machine": machine(),
                    "load_regions_14_s": round(load_s, 2),
                    "load_regions_rerun_s": round(rerun_s, 2),
                    "units": total_units,
                    "counties_recoded": len(counties),
                    "units_moved_by_recode": moved,
                    "recode_s": round(recode_s, 2),
                    "unit_states": states,
                    "rollup_2022_without_history_s": round(without, 3),
                    "rollup_2022_with_history_s": round(with_history, 3),
                    "ratio": round(with_history / without, 3),
                    "figures_identical": after == before,
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

"""Time this tree's roll-up against an earlier revision's on the same database, taking
turns (full run and the incremental update of one township), medians of the rounds.

    python bench/rollup_vs_revision.py --units 100000 --rev 3ec1159

The earlier revision's reports/rollup.py is loaded from git beside the current code; it
must be importable against today's models (module paths that moved since are mapped in
MOVED). Prints JSON with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import types

from _setup import ROOT, machine, seed, services

YEAR = 2022
# imports of an old reports/rollup.py that have moved since
MOVED = {
    "from sanling.bulk import bulk_insert": "from sanling.kernel.bulk import bulk_insert",
    "from . import attainment": "from reports import attainment",
    "from .models import": "from reports.models import",
}


def load_old(rev: str):
    src = subprocess.run(
        ["git", "show", f"{rev}:reports/rollup.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for a, b in MOVED.items():
        src = src.replace(a, b)
    mod = types.ModuleType("rollup_at_" + rev)
    sys.modules[mod.__name__] = mod
    exec(compile(src, mod.__name__, "exec"), mod.__dict__)  # noqa: S102 - our own code at a git revision
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--rev", required=True)
    ap.add_argument("--rounds", type=int, default=25)
    args = ap.parse_args()
    with services():
        from reports import rollup as new
        from standards.models import Campaign
        from units.models import Region

        info = seed(args.units)
        old = load_old(args.rev)
        c = Campaign.objects.select_related("scope").get(slug="shanxi-sanling")
        towns = list(Region.objects.filter(level="township", code__startswith="14").order_by("code"))
        township = towns[len(towns) // 2].code
        fns = {
            "old_full": lambda: old.run(campaign_id=c.id, year=YEAR),
            "new_full": lambda: new.run(campaign_id=c.id, year=YEAR),
            "old_incremental": lambda: old.run_for_township(campaign_id=c.id, year=YEAR, township_code=township),
            "new_incremental": lambda: new.run_for_township(campaign_id=c.id, year=YEAR, township_code=township),
        }
        for fn in fns.values():
            fn()
        times = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, fn in fns.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        result = {"units": args.units, "rev": args.rev, "rounds": args.rounds, **info}
        result.update({f"{k}_s": round(statistics.median(v), 4) for k, v in times.items()})
        result["full_new_over_old"] = round(result["new_full_s"] / result["old_full_s"], 3)
        result["incremental_new_over_old"] = round(result["new_incremental_s"] / result["old_incremental_s"], 3)
        result["machine"] = machine()
        print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

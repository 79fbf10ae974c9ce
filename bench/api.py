"""Benchmark GET /api/v1/attainment/?parent_code=… under gunicorn on loopback.

    python bench/api.py --units 1000000        # needs wrk (apt-get install wrk)

Seeds a province in a throwaway PostgreSQL, rolls it up, starts gunicorn on 127.0.0.1,
then runs wrk twice (bounded in time): 1 connection for latency percentiles, and 16
concurrent connections for throughput. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _setup import ROOT, cpu_reference_ms, machine, seed, services

# Each request the next path of the list (wrk's Lua hooks): distinct queries, none repeated
# within a run — the uncached case (issue #19: a different region, category, year each time).
DISTINCT_LUA = """
local paths, i = {}, 0
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i - 1) % #paths + 1])
end
"""


# wrk prints p50/p75/p90/p99; p95 from its latency histogram, in microseconds
P95_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("p95 %d\\n", latency:percentile(95)))
end
"""


def wrk(url: str, token: str, connections: int, seconds: int, script: str | None = None) -> dict:
    if script is None:
        script = str(ROOT / "test-artifacts" / "api-p95.lua")
        Path(script).parent.mkdir(exist_ok=True)
        Path(script).write_text(P95_LUA)
    out = subprocess.run(
        [
            "wrk",
            "-s",
            script,
            "-t",
            str(min(connections, 2)),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Token {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return round(v / 1000 if unit == "us" else v * 1000 if unit == "s" else v, 2)

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "connections": connections,
        "seconds": seconds,
        "requests_per_s": rps,
        "p50_ms": ms("50"),
        "p90_ms": ms("90"),
        "p95_ms": round(int(re.search(r"^p95 (\d+)$", out, re.M).group(1)) / 1000, 2),
        "p99_ms": ms("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    # 3 sync workers suited 2 cores best (2: 700, 3: 869, 4: 526, 5: 386 req/s; docs/benchmarks.md)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="distinct-query throughput runs (the median is reported)")
    ap.add_argument("--redis", action="store_true", help="cache and throttle in Redis, as in production")
    ap.add_argument("--database", help="an already seeded PostgreSQL (URL) instead of a throwaway one")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    with services(redis=args.redis, database=args.database):
        from reports import rollup
        from standards.models import Campaign
        from units.models import ApiToken, Region, Role, Unit, User

        info = {"seed_s": "reused"} if args.database else seed(args.units)
        campaign = Campaign.objects.get(slug="shanxi-sanling")
        rollup.run(campaign_id=campaign.id, year=2022)
        # a reused province keeps the last run's account (users are deactivated, never deleted)
        user, _ = User.objects.get_or_create(
            username="bench-bigscreen",
            defaults={"role": Role.API_CLIENT, "region": Region.objects.get(code="140000000000")},
        )
        _token, token = ApiToken.objects.create(user=user, scope="statistics")
        port = 18765
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="sanling.settings.dev",
            DJANGO_DEBUG="false",
            API_THROTTLE_USER="1000000/min",
            LOG_LEVEL="WARNING",
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
        try:
            time.sleep(4)
            out = {"units": Unit.objects.count(), **info, "workers": args.workers}
            for name, path in [
                (
                    "children_of_province",
                    "/api/v1/attainment/?campaign=shanxi-sanling&year=2022&parent_code=140000000000",
                ),
                (
                    "children_of_county",
                    "/api/v1/attainment/?campaign=shanxi-sanling&year=2022&parent_code=140105000000",
                ),
            ]:
                url = f"http://127.0.0.1:{port}{path}"
                wrk(url, token, 4, 3)  # warm-up
                out[name] = {
                    "latency": wrk(url, token, 1, args.seconds),
                    "throughput": wrk(url, token, 16, args.seconds),
                }
            # distinct queries: every region of the province × category × year, in an order
            # that changes region, category and year from one request to the next
            codes = list(Region.objects.filter(code__startswith="14").values_list("code", flat=True))
            paths = [
                f"/api/v1/attainment/?campaign=shanxi-sanling&year={y}&region_code={c}&category={cat}"
                for c in codes
                for cat in ("village_community", "enterprise_institution")
                for y in range(2020, 2023)
            ]
            import random

            random.Random(1).shuffle(paths)
            tmp = ROOT / "test-artifacts"
            tmp.mkdir(exist_ok=True)
            (tmp / "api-paths.txt").write_text("\n".join(paths) + "\n")
            (tmp / "api-distinct.lua").write_text(DISTINCT_LUA + P95_LUA)
            os.environ["PATHS_FILE"] = str(tmp / "api-paths.txt")
            base = f"http://127.0.0.1:{port}/"
            script = str(tmp / "api-distinct.lua")
            runs = []
            for _ in range(args.rounds):  # the machine's speed drifts: each run beside a reference
                run = wrk(base, token, 16, args.seconds, script)
                run["cpu_reference_ms"] = cpu_reference_ms()
                runs.append(run)
            runs.sort(key=lambda r: r["requests_per_s"])
            out["distinct_queries"] = {
                "paths": len(paths),
                "latency": wrk(base, token, 1, args.seconds, script),
                "throughput": runs[len(runs) // 2],
                "throughput_runs": runs,
            }
            out["machine"] = machine()
            print(json.dumps(out, ensure_ascii=False, indent=2))
        finally:
            server.terminate()
            server.wait(20)


if __name__ == "__main__":
    main()

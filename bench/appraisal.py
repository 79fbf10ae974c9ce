"""Benchmark the appraisal (考核), the departments' ledger counts and the sector role on
PostgreSQL at province scale.

    python bench/appraisal.py --units 1000000 [--tasks 100000] [--checks 20000] [--rounds 5]

Seeds the demo province (the real villages plus N enterprises and institutions, 2022
assessments and incidents), rolls 2022 up, adds the standard departments, Jinzhong's
eight special actions copied onto the provincial campaign with a figure per county and
target, rectification tasks spread over the townships (a tenth overdue, led by county
departments), concluded spot checks, and a major incident in one county in eight. Then
times, best of `--rounds` (each a fresh read): the ranking of the province's cities and of
太原's counties, the departments' appraisal of the province, the ledger's counts by lead
department for the province, a county 教育局's visible units (count) and its sector page
figures. Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from decimal import Decimal

from _setup import machine, seed, services

YEAR = 2022


def best(fn, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return round(min(times), 4), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--checks", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with services():
        seeded = seed(args.units, year=YEAR)
        from django.core.management import call_command
        from django.db import connection

        from inspections.models import Incident
        from reports import appraisal, rollup
        from reports import selectors as report_selectors
        from sanling.kernel.bulk import bulk_insert
        from standards.models import Campaign
        from supervision import actions, selectors
        from supervision.models import ActionTarget, Inspection, Rectification, SpecialAction, SpotCheck
        from units import access
        from units.models import Department, Level, Region, Role, Unit, User

        rnd = random.Random(1)  # noqa: S311 - benchmark data
        campaign = Campaign.objects.get(slug="shanxi-sanling")
        t = time.perf_counter()
        rollup.run(campaign_id=campaign.pk, year=YEAR)
        call_command("load_departments", province="14", stdout=open("/dev/null", "w"))  # noqa: SIM115
        # Jinzhong's eight actions, onto the provincial campaign, one figure per county and target
        call_command("load_standards", stdout=open("/dev/null", "w"))  # noqa: SIM115
        call_command("load_actions", stdout=open("/dev/null", "w"))  # noqa: SIM115
        for a in SpecialAction.objects.filter(campaign__slug="jinzhong-sanzhi-sanling").prefetch_related("targets"):
            targets = list(a.targets.all())
            a.pk, a.campaign = None, campaign
            a.save()
            ActionTarget.objects.bulk_create(
                ActionTarget(
                    action=a, code=x.code, name=x.name, measure=x.measure, unit_label=x.unit_label, target=x.target
                )
                for x in targets
            )
        SpecialAction.objects.filter(campaign__slug="jinzhong-sanzhi-sanling").delete()
        actions.seed_demo_progress(seed=1, log=lambda *_: None)
        townships = list(
            Region.objects.filter(level=Level.TOWNSHIP, valid_to__isnull=True).values_list("code", "parent_id")
        )
        leads = {
            (d.region_id, d.kind): d.pk
            for d in Department.objects.filter(region__level=Level.COUNTY, kind__in=["public_security", "emergency"])
        }
        rows = []
        for i in range(args.tasks):
            town, county = townships[i % len(townships)]
            overdue = rnd.random() < 0.1
            rows.append(
                {
                    "title": f"整改{i}",
                    "description": "",
                    "source": "hazard",
                    "township_id": town,
                    "leader": "甲",
                    "lead_department_id": leads[(county, rnd.choice(["public_security", "emergency"]))],
                    "deadline": dt.date(YEAR, 1 + i % 12, 1 + i % 28),
                    "status": "closed" if rnd.random() < 0.6 else "open",
                    "overdue": overdue,
                    "overdue_since": None,
                    "report_note": "",
                    "root_cause": "",
                    "lasting_measure": "",
                    "reopen_reason": "",
                    "opened_region_id": county,
                    "opened_at": dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC),
                    "lock_version": 0,
                }
            )
        bulk_insert(Rectification, rows, list(rows[0]))
        counties = list(Region.objects.filter(level=Level.COUNTY, valid_to__isnull=True))
        ins = {
            c.code: Inspection.objects.create(
                region=c,
                campaign=campaign,
                year=YEAR,
                kind="ad_hoc",
                mode="announced",
                planned_on=dt.date(YEAR, 9, 1),
                inspectors="乙",
            ).pk
            for c in counties
        }
        sample = list(
            Unit.objects.filter(assessments__campaign=campaign, assessments__year=YEAR)
            .order_by("?")
            .values_list("pk", "township__parent_id")[: args.checks]
        )
        checks = [
            {
                "inspection_id": ins[county],
                "unit_id": pk,
                "assessment_id": None,
                "status": "confirmed",
                "reason": "",
                "self_final": Decimal(rnd.randint(80, 100)),
                "reviewer_final": None,
                "inspector_final": Decimal(rnd.randint(70, 100)),
                "county_final": None,
                "city_final": None,
                "province_final": None,
                "checked_by_id": None,
                "checked_at": None,
            }
            for pk, county in sample
            if county in ins
        ]
        bulk_insert(SpotCheck, checks, list(checks[0]))
        for c in counties[::8]:
            first = Incident.objects.filter(unit__township__parent=c, occurred_on__year=YEAR).order_by("pk").first()
            if first:
                Incident.objects.filter(pk=first.pk).update(severity="major", status="confirmed")
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        setup_s = round(time.perf_counter() - t, 1)

        province = Region.objects.get(code="140000000000")
        taiyuan = Region.objects.get(code="140100000000")
        county = Region.objects.get(code="140105000000")
        staff, _ = User.objects.get_or_create(
            username="bench-province", defaults={"role": Role.PROVINCE_STAFF, "region": province}
        )
        edu, _ = User.objects.get_or_create(
            username="bench-edu",
            defaults={
                "role": Role.DEPARTMENT_STAFF,
                "region": county,
                "department": Department.objects.get(region=county, kind="education"),
            },
        )
        out = {}
        out["ranking_cities_s"], ranking = best(lambda: appraisal.appraise(campaign, YEAR, province), args.rounds)
        out["ranking_counties_of_taiyuan_s"], _ = best(lambda: appraisal.appraise(campaign, YEAR, taiyuan), args.rounds)
        out["departments_province_s"], depts = best(
            lambda: appraisal.appraise_departments(campaign, YEAR, province), args.rounds
        )
        out["ledger_counts_by_department_s"], by_dept = best(
            lambda: selectors.task_counts_by_department(selectors.tasks(staff, province)), args.rounds
        )
        out["sector_units_count_s"], n_sector = best(lambda: access.visible_units(edu).count(), args.rounds)
        out["sector_page_figures_s"], _ = best(
            lambda: report_selectors.sector_rows(campaign, YEAR, county, access.sector_kinds(edu)), args.rounds
        )
        print(
            json.dumps(
                {
                    "machine": machine(),
                    **seeded,
                    "setup_s": setup_s,
                    "units": Unit.objects.count(),
                    "tasks": Rectification.objects.count(),
                    "spot_checks": SpotCheck.objects.count(),
                    "departments": Department.objects.count(),
                    "vetoed_cities": sum(1 for a in ranking if a.vetoed),
                    "departments_appraised": len(depts),
                    "lead_departments_counted": len(by_dept),
                    "sector_units": n_sector,
                    **out,
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()

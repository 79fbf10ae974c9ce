import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inspections import demo as assessment_demo
from standards.models import Campaign
from units import demo as unit_demo


class Command(BaseCommand):
    """Demo data is composed here, at the top: each app seeds its own (units.demo, then
    inspections.demo), so no lower app reaches up for the data of a higher one."""

    help = "Generate a deterministic demo province fast: seed_demo --units N --seed S [--assessments] [--users]"

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--province", default="14")
        parser.add_argument(
            "--assessments",
            action="store_true",
            help="also assessments with all item scores, and incidents, for each campaign-year",
        )
        parser.add_argument("--campaign", action="append", help="campaign slug(s) for --assessments (default all)")
        parser.add_argument("--year", type=int, action="append", help="year(s) for --assessments (default all)")
        parser.add_argument("--users", action="store_true", help="also one demo account per role")

    def handle(self, *args, units, seed, province, assessments, campaign, year, users, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "seed_demo writes demo data and demo accounts with a published password: it does not run under "
                f"{settings.SETTINGS_MODULE}. Use the development settings (sanling.settings.dev) on a demo machine."
            )
        log = self.stdout.write
        started = time.monotonic()
        try:
            unit_demo.seed_units(units=units, seed=seed, province=province, log=log)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if assessments:
            qs = Campaign.objects.select_related("standard", "scope").filter(active=True)
            if campaign:
                qs = qs.filter(slug__in=campaign)
            for c in qs:
                if not c.scope.code.startswith(province[:2]):
                    continue
                for y in year or c.years:
                    if y in c.years:
                        assessment_demo.seed_assessments(campaign=c, year=y, seed=seed, log=log)
            from supervision.actions import seed_demo_progress

            seed_demo_progress(seed=seed, log=log)
        if users:
            self.stdout.write(self.style.WARNING("演示账号 / demo accounts (demo data only):"))
            for username, password, what in unit_demo.seed_users(province=province, log=log):
                self.stdout.write(f"  {username:<10} {password}  {what}")
        self.stdout.write(self.style.SUCCESS(f"seed_demo done in {time.monotonic() - started:.1f}s"))

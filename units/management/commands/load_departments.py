from django.core.management.base import BaseCommand

from units import departments
from units.audit import audit


class Command(BaseCommand):
    help = "Ship each province's, city's and county's standard departments, and which department kind supervises which unit kind. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--province", default="", help="2-digit province code (default: every loaded region)")

    def handle(self, *args, province="", **options):
        sectors = departments.load_sectors()
        n = departments.load_departments(province[:2])
        audit(actor=None, action="departments.loaded", detail={"departments": n, "sectors": sectors})
        self.stdout.write(f"部门：新增 {n} 个；行业监管：新增 {sectors} 项")

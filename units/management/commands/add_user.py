from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from units.models import Department, Region, Role
from units.services import user_create


class Command(BaseCommand):
    help = "Provision an account: add_user USERNAME --role ROLE --region CODE --password PASSWORD"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--region", default=None, help="12-digit region code (optional for admin)")
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="full name shown in the portal")
        parser.add_argument(
            "--department",
            default="",
            help="department_staff: the department's kind (education, public_security …); its region is --region",
        )

    def handle(self, *args, username, role, region, password, name, department, **options):
        reg = None
        if region:
            reg = Region.objects.filter(code=region).first()
            if reg is None:
                raise CommandError(f"区划 {region} 不存在 / region {region} does not exist")
        extra = {}
        if department:
            dept = Department.objects.filter(region=reg, kind=department, active=True).first()
            if dept is None:
                raise CommandError(
                    f"{region} 没有类型为 {department} 的部门（先运行 load_departments）"
                    f" / no {department} department in {region} (run load_departments first)"
                )
            extra["department"] = dept
        try:
            user = user_create(username=username, role=role, region=reg, password=password, first_name=name, **extra)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"created {user.username} ({role}, {region or 'all regions'})"))

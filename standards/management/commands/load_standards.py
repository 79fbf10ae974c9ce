from django.core.management.base import BaseCommand

from standards.loader import load_all


class Command(BaseCommand):
    help = "Load the shipped standards (Shanxi 7/23, Jinzhong 3/17) and campaigns. Idempotent."

    def handle(self, *args, **options):
        load_all(self.stdout)

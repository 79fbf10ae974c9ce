from django.core.management.base import BaseCommand

from supervision.actions import load_actions
from units.audit import audit


class Command(BaseCommand):
    help = "Ship the campaigns' special actions (Jinzhong's 八项行动) with their targets. Idempotent."

    def handle(self, *args, **options):
        n = load_actions()
        audit(actor=None, action="actions.loaded", detail={"actions": n})
        self.stdout.write(f"专项行动：新增 {n} 项")

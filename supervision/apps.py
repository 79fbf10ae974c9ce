from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("督导检查与整改")

    def ready(self):
        # tasks follow their units when they move (units imports nothing of supervision)
        from inspections.events import assessment_decided
        from units.events import tree_changed, units_changed

        from . import receivers

        assessment_decided.connect(receivers.on_assessment_decided, dispatch_uid="supervision.notify.assessment")
        units_changed.connect(receivers.on_units_changed, dispatch_uid="supervision.tasks.units")
        tree_changed.connect(receivers.on_tree_changed, dispatch_uid="supervision.tasks.tree")

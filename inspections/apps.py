from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("自评、事件与检查")

    def ready(self):
        # a campaign's review chain edited: waiting assessments move to a level it has
        from standards.events import campaign_changed

        from . import services

        campaign_changed.connect(services.reseat, dispatch_uid="inspections.reseat")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("达标统计")

    def ready(self):
        # The roll-up follows what the lower apps announce; they import nothing of reports.
        from inspections.events import assessment_decided, condition_changed, incident_changed
        from standards.events import campaign_changed
        from units.events import tree_changed, units_changed

        from . import results, tasks

        assessment_decided.connect(tasks.on_assessment_decided, dispatch_uid="reports.rollup.assessment")
        incident_changed.connect(tasks.on_incident_changed, dispatch_uid="reports.rollup.incident")
        condition_changed.connect(tasks.on_condition_changed, dispatch_uid="reports.rollup.condition")
        units_changed.connect(tasks.on_units_changed, dispatch_uid="reports.rollup.units")
        campaign_changed.connect(tasks.on_campaign_changed, dispatch_uid="reports.rollup.campaign")
        tree_changed.connect(tasks.on_tree_changed, dispatch_uid="reports.rollup.tree")
        # the official result: amendments after an upheld appeal's review, and 摘牌
        assessment_decided.connect(results.on_assessment_decided, dispatch_uid="reports.results.assessment")
        incident_changed.connect(results.on_incident_changed, dispatch_uid="reports.results.incident")
        condition_changed.connect(results.on_condition_changed, dispatch_uid="reports.results.condition")

from django.contrib import admin

from units.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin, ScopedByUnit

from .models import Assessment, Incident


@admin.register(Assessment)
class AssessmentAdmin(ScopedByUnit, ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    """Read-only: assessments change through the workflow in the portal (audited, with the
    roll-up following)."""

    list_display = ["unit", "campaign", "year", "status", "final_score", "veto_failed"]
    list_filter = ["status", "campaign", "year"]
    search_fields = ["unit__code", "unit__name"]


@admin.register(Incident)
class IncidentAdmin(ScopedByUnit, ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    """Read-only: incidents are recorded and judged in the portal (a dismissal needs a
    reason; the roll-up follows; both are audited)."""

    list_display = ["unit", "kind", "occurred_on", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["unit__code", "unit__name"]

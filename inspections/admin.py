from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from units import access

from .models import Assessment, Incident


class ReadOnly:
    """The workflow (and its audit trail) lives in the portal's pages."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedByUnit:
    def get_queryset(self, request):
        return access.scope(request.user, super().get_queryset(request))


@admin.register(Assessment)
class AssessmentAdmin(ScopedByUnit, ReadOnly, SimpleHistoryAdmin):
    list_display = ["unit", "campaign", "year", "status", "final_score", "veto_failed"]
    list_filter = ["status", "campaign", "year"]
    search_fields = ["unit__code", "unit__name"]


@admin.register(Incident)
class IncidentAdmin(ScopedByUnit, SimpleHistoryAdmin):
    list_display = ["unit", "kind", "occurred_on", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["unit__code", "unit__name"]
    raw_id_fields = ["unit"]

    def has_delete_permission(self, request, obj=None):
        return False

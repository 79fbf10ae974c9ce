from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from inspections.admin import ScopedByUnit
from units import access

from .models import Inspection, Rectification


class ReadOnly:
    """The workflow (and its audit trail) lives in the portal's pages."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rectification)
class RectificationAdmin(ScopedByUnit, ReadOnly, SimpleHistoryAdmin):
    list_display = ["unit", "title", "deadline", "status", "overdue", "opened_region"]
    list_filter = ["status", "overdue", "source"]
    search_fields = ["unit__code", "unit__name", "title"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["region", "campaign", "year", "kind", "mode", "planned_on", "sample_seed"]
    list_filter = ["kind", "mode", "year"]

    def get_queryset(self, request):
        return access.visible_inspections(request.user, super().get_queryset(request))

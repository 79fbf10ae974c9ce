from django.contrib import admin

from units.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin, ScopedByUnit

from . import selectors
from .models import Inspection, Rectification


@admin.register(Rectification)
class RectificationAdmin(ScopedByUnit, ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    list_display = ["unit", "title", "deadline", "status", "overdue", "opened_region"]
    list_filter = ["status", "overdue", "source"]
    search_fields = ["unit__code", "unit__name", "title"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    list_display = ["region", "campaign", "year", "kind", "mode", "planned_on", "sample_seed"]
    list_filter = ["kind", "mode", "year"]

    def get_queryset(self, request):
        return selectors.visible_inspections(request.user, super().get_queryset(request))

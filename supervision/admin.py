from django.contrib import admin

from units.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from . import selectors
from .models import ActionProgress, ActionTarget, Inspection, Rectification, SpecialAction


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    list_display = ["title", "unit", "township", "lead_department", "deadline", "status", "overdue", "opened_region"]
    list_filter = ["status", "overdue", "source"]
    search_fields = ["unit__code", "unit__name", "title", "lead_department__name"]

    def get_queryset(self, request):
        return selectors.scope_tasks(request.user, super().get_queryset(request))


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    list_display = ["region", "campaign", "year", "kind", "mode", "planned_on", "sample_seed"]
    list_filter = ["kind", "mode", "year"]

    def get_queryset(self, request):
        return selectors.visible_inspections(request.user, super().get_queryset(request))


class ActionTargetInline(admin.TabularInline):
    model = ActionTarget
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SpecialAction)
class SpecialActionAdmin(ReadOnlyHistoryAdmin, ReadOnlyAdmin):
    """Special actions and their targets decide part of the appraisal: read here; they
    are data files loaded by `load_actions` (reviewed and versioned with the code)."""

    list_display = ["campaign", "order", "name", "lead_kind", "starts_on", "ends_on"]
    list_filter = ["campaign"]
    inlines = [ActionTargetInline]

    def get_queryset(self, request):
        from standards import selectors as campaign_selectors

        return super().get_queryset(request).filter(campaign__in=campaign_selectors.campaigns_for(request.user))


@admin.register(ActionProgress)
class ActionProgressAdmin(ReadOnlyAdmin):
    """Progress is recorded by the departments in the portal (with evidence); read here."""

    list_display = ["target", "region", "department", "as_of", "value", "denominator", "recorded_by"]
    list_filter = ["as_of"]

    def get_queryset(self, request):
        from units import access

        return super().get_queryset(request).filter(access.prefix_q(request.user, "region__code"))

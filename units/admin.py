from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from . import access
from .models import AuditEvent, Region, Unit, User


class RegionResource(resources.ModelResource):
    class Meta:
        model = Region
        import_id_fields = ["code"]
        fields = ["code", "name", "level", "parent", "is_demo"]


class UnitResource(resources.ModelResource):
    class Meta:
        model = Unit
        import_id_fields = ["code"]
        fields = [
            "code",
            "name",
            "kind",
            "category",
            "township",
            "address",
            "contact_person",
            "contact_phone",
            "active",
        ]


class ScopedAdmin:
    """Admin lists go through the same jurisdiction rules as every other page."""

    scope_field = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.scope_field == "region":
            return qs.filter(pk__in=access.visible_regions(request.user).values("pk"))
        return qs.filter(pk__in=access.visible_units(request.user).values("pk"))


@admin.register(Region)
class RegionAdmin(ScopedAdmin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [RegionResource]
    scope_field = "region"
    list_display = ["code", "name", "level", "parent", "is_demo"]
    list_filter = ["level", "is_demo"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(ScopedAdmin, ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [UnitResource]
    list_display = ["code", "name", "kind", "category", "township", "active"]
    list_filter = ["category", "kind", "active", "is_demo"]
    search_fields = ["code", "name"]
    raw_id_fields = ["township"]

    def has_delete_permission(self, request, obj=None):
        return False  # archived, never deleted: the history stays


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active"]
    raw_id_fields = ["region"]
    fieldsets = [*BaseUserAdmin.fieldsets, (_("角色与管辖"), {"fields": ["role", "region"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, (_("角色与管辖"), {"fields": ["role", "region"]})]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id", "ip"]
    list_filter = ["action"]
    search_fields = ["target_id", "actor__username"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

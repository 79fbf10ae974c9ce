"""The Django admin, held to the same rules as every other door: querysets (history and
export included) go through units.access; permissions are the role predicates, not
Django's model permissions; every admin write and export writes an AuditEvent; history
views are read-only; workflow records are read-only (they change only through their
services, in the portal); writes to units and regions go through the services; users are
deactivated, never deleted. A region-scoped administrator is staff but not a superuser and
manages only its own region's units, regions, users and tokens.

The base classes here are used by every app's admin.py.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from . import access, services
from .audit import action_label, audit, client_ip
from .forms import AdminLoginForm
from .models import ApiToken, AuditEvent, Department, Level, Region, RegionChange, Sector, Unit, User


class AuditedAdmin(admin.ModelAdmin):
    """Role predicates instead of Django permissions, audited writes, no deletion."""

    def _admin(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and access.is_admin(request.user)

    def has_module_permission(self, request):
        return self._admin(request)

    def has_view_permission(self, request, obj=None):
        return self._admin(request)

    def has_add_permission(self, request):
        return self._admin(request)

    def has_change_permission(self, request, obj=None):
        return self._admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # archived or deactivated, never deleted: the history stays

    def _audit(self, request, obj, action: str, message) -> None:
        audit(
            actor=request.user, action=action, target=obj, detail={"message": str(message)[:500]}, ip=client_ip(request)
        )

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "admin.added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "admin.changed", message)
        return super().log_change(request, obj, message)

    def log_deletion(self, request, obj, object_repr):
        self._audit(request, obj, "admin.deleted", object_repr)
        return super().log_deletion(request, obj, object_repr)


class ReadOnlyAdmin(AuditedAdmin):
    """A workflow record: read here, changed only through its services in the portal."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's history pages, read-only: its version form saves on POST with only
    a view permission, bypassing the scoped queryset and the services. Here the list of
    versions stays; a version's form only redirects back to it, and POST saves nothing."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        self.get_object_or_404(request, object_id)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[object_id]))

    def get_object_or_404(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        return obj

    def revert_disabled(self, request, obj=None):
        return True

    def history_view(self, request, object_id, extra_context=None):
        self.get_object_or_404(request, object_id)  # within the scoped queryset, or 404
        return super().history_view(request, object_id, extra_context)


class AuditedExport(ExportMixin):
    """django-import-export's export, scoped (get_queryset) and audited; formulas are
    escaped (settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT)."""

    def has_export_permission(self, request):
        return access.is_admin(request.user) and request.user.is_staff

    def get_export_data(self, file_format, request, queryset, **kwargs):
        audit(
            actor=request.user,
            action="admin.exported",
            detail={"model": self.model._meta.label_lower, "rows": queryset.count(), "format": file_format.get_title()},
            ip=client_ip(request),
        )
        return super().get_export_data(file_format, request, queryset, **kwargs)


class ScopedByUnit:
    """Objects hanging off a unit: the user's jurisdiction only."""

    def get_queryset(self, request):
        return access.scope(request.user, super().get_queryset(request))


# --- units, regions, users, tokens, the trail --------------------------------------


class RegionResource(resources.ModelResource):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_demo"]


class UnitResource(resources.ModelResource):
    class Meta:
        model = Unit
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


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_demo"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields and user is not None:
            self.fields["parent"].queryset = access.current_regions(user)


# the admin's login page keeps the same limits as the portal's (units.auth)
admin.site.login_form = AdminLoginForm


@admin.register(Region)
class RegionAdmin(AuditedExport, ReadOnlyHistoryAdmin, AuditedAdmin):
    resource_classes = [RegionResource]
    list_display = ["code", "name", "level", "parent", "is_demo"]
    list_filter = ["level", "is_demo"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    form = RegionForm

    def get_queryset(self, request):
        return access.visible_regions(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Scoped(form):
            def __init__(self, *a, **kw):
                super().__init__(*a, user=request.user, **kw)

        return Scoped

    def get_readonly_fields(self, request, obj=None):
        # a region's code, name and place in the tree change only by a recorded operation
        # (units.changes: the old name and the old tree are kept for the years before)
        return ["code", "name", "level", "parent", "valid_from", "valid_to"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            obj.save()
            return
        created = services.region_create(
            code=obj.code, name=obj.name, level=obj.level, parent=obj.parent, is_demo=obj.is_demo, by=request.user
        )
        obj.pk = created.pk


@admin.register(RegionChange)
class RegionChangeAdmin(ReadOnlyAdmin):
    """The recorded changes of the tree, read here; recorded through regions/changes/
    (units.changes.region_change)."""

    list_display = ["effective_on", "kind", "basis", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["basis", "sources__code", "targets__code"]
    exclude = ["detail"]

    def get_readonly_fields(self, request, obj=None):
        def what_moved(change):
            """The record's detail, with the accounts moved named only for regions in the
            administrator's jurisdiction (a change may span two cities)."""
            detail = dict(change.detail or {})
            if "officers" in detail:
                detail["officers"] = {
                    code: names
                    for code, names in detail["officers"].items()
                    if access.can_see_region(request.user, code)
                }
            return json.dumps(detail, ensure_ascii=False, indent=1)

        what_moved.short_description = _("调整内容")
        return ["kind", "effective_on", "basis", "sources", "targets", what_moved, "recorded_by", "part_of"]

    def get_queryset(self, request):
        seen = access.visible_regions(request.user)
        touching = RegionChange.objects.filter(Q(sources__in=seen) | Q(targets__in=seen)).values("pk")
        return super().get_queryset(request).filter(pk__in=touching).select_related("recorded_by")


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["township", "code", "name", "kind", "credit_code", "address", "contact_person", "contact_phone"]


@admin.register(Unit)
class UnitAdmin(AuditedExport, ReadOnlyHistoryAdmin, AuditedAdmin):
    """Units change through units.services (validated, audited, announced to the roll-up).
    Bulk registration is the portal's import page, which validates every row."""

    resource_classes = [UnitResource]
    form = UnitForm
    list_display = ["code", "name", "kind", "category", "township", "active"]
    list_filter = ["category", "kind", "active", "is_demo"]
    search_fields = ["code", "name"]
    raw_id_fields = ["township"]
    actions = ["archive"]

    def get_queryset(self, request):
        return access.visible_units(request.user).select_related("township")

    def get_readonly_fields(self, request, obj=None):
        return ["township", "code", "active"] if obj is not None else ["active"]

    def save_model(self, request, obj, form, change):
        if change:
            services.unit_update(
                unit=obj,
                by=request.user,
                **{f: form.cleaned_data[f] for f in services.UNIT_EDITABLE_FIELDS if f in form.cleaned_data},
            )
        else:
            created = services.unit_register(
                township=obj.township,
                code=obj.code,
                name=obj.name,
                kind=obj.kind,
                address=obj.address,
                contact_person=obj.contact_person,
                contact_phone=obj.contact_phone,
                by=request.user,
            )
            obj.pk = created.pk

    @admin.action(description=_("归档所选单位"))
    def archive(self, request, queryset):
        for unit in queryset:
            services.unit_set_active(unit=unit, active=False, by=request.user)
        self.message_user(request, _("已归档 %(n)s 个单位。") % {"n": queryset.count()}, messages.SUCCESS)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active"]
    raw_id_fields = ["region"]
    fieldsets = [*BaseUserAdmin.fieldsets, (_("角色与管辖"), {"fields": ["role", "region", "department"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, (_("角色与管辖"), {"fields": ["role", "region", "department"]})]
    actions = ["deactivate"]

    def _admin(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and access.is_admin(request.user)

    def has_module_permission(self, request):
        return self._admin(request)

    def has_view_permission(self, request, obj=None):
        return self._admin(request)

    def has_add_permission(self, request):
        return self._admin(request)

    def has_change_permission(self, request, obj=None):
        if not self._admin(request):
            return False
        # no administrator edits its own role or region from here
        return obj is None or obj.pk != request.user.pk or request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # deactivated, never deleted: the trail names who did what

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        prefix = access.region_prefix(request.user)
        if prefix is None:
            return qs.none()
        return qs if prefix == "" else qs.filter(region__code__startswith=prefix)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["last_login", "date_joined"]
        return ["is_superuser", "is_staff", "groups", "user_permissions", "last_login", "date_joined"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Scoped(form):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                if "region" in self.fields:
                    self.fields["region"].queryset = access.current_regions(request.user)
                    self.fields["region"].required = bool(access.region_prefix(request.user))
                if "department" in self.fields:
                    self.fields["department"].queryset = Department.objects.filter(
                        region__in=access.current_regions(request.user)
                    ).select_related("region")

        return Scoped

    def save_model(self, request, obj, form, change):
        prefix = access.region_prefix(request.user)
        if prefix and (obj.region_id is None or not obj.region_id.startswith(prefix)):
            raise PermissionDenied
        if not request.user.is_superuser:
            obj.is_superuser = False
        obj.is_staff = obj.role == "admin" or (obj.is_staff and request.user.is_superuser)
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        audit(
            actor=request.user,
            action="admin.added",
            target=obj,
            detail={"message": str(message)[:500]},
            ip=client_ip(request),
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(
            actor=request.user,
            action="admin.changed",
            target=obj,
            detail={"message": str(message)[:500]},
            ip=client_ip(request),
        )
        return super().log_change(request, obj, message)

    @admin.action(description=_("停用所选账号"))
    def deactivate(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            user.is_active = False
            user.save(update_fields=["is_active"])  # its tokens are revoked (units.signals)
            audit(actor=request.user, action="user.deactivated", target=user, ip=client_ip(request))


@admin.register(Department)
class DepartmentAdmin(ReadOnlyHistoryAdmin, AuditedAdmin):
    """Departments are data: each level's standard set is shipped (load_departments),
    administrators add more for the regions of their jurisdiction and deactivate, never
    delete (tasks and incidents name them)."""

    list_display = ["name", "kind", "region", "active"]
    list_filter = ["kind", "active", "region__level"]
    search_fields = ["name", "region__name", "region__code"]
    raw_id_fields = ["region"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(region__in=access.visible_regions(request.user))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Scoped(form):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                if "region" in self.fields:
                    self.fields["region"].queryset = access.current_regions(request.user).exclude(level=Level.TOWNSHIP)

        return Scoped

    def get_readonly_fields(self, request, obj=None):
        # a department's region and kind decide what its staff see and may record, and
        # which tasks it may lead: fixed once created (deactivate it and add another)
        return ["region", "kind"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        access.require_region(request.user, obj.region)
        obj._history_user = request.user
        super().save_model(request, obj, form, change)


@admin.register(Sector)
class SectorAdmin(AuditedAdmin):
    """Which department kind supervises which unit kind (行业部门监管); the portal-wide
    administrator changes it."""

    list_display = ["unit_kind", "department_kind"]

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    """Tokens are listed by their short key only (the token itself is never stored);
    they are issued and revoked through the API or the services, audited."""

    list_display = ["masked", "user", "scope", "created", "expiry"]
    list_filter = ["scope"]
    search_fields = ["user__username"]
    fields = ["masked", "user", "scope", "created", "expiry"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("令牌"))
    def masked(self, obj):
        return obj.masked

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        prefix = access.region_prefix(request.user)
        if prefix is None:
            return qs.none()
        return qs if prefix == "" else qs.filter(user__region__code__startswith=prefix)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("撤销所选令牌的账号的全部令牌"))
    def revoke(self, request, queryset):
        for username in set(queryset.values_list("user__username", flat=True)):
            services.token_revoke(username=username, by=request.user, ip=client_ip(request))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "actor_name", "what", "target_type", "target_id", "ip"]

    @admin.display(description=_("操作"), ordering="action")
    def what(self, obj):
        return f"{action_label(obj.action)}（{obj.action}）" if action_label(obj.action) != obj.action else obj.action

    list_filter = ["action"]
    search_fields = ["target_id", "actor_name"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_queryset(self, request):
        # the trail of the administrator's jurisdiction: actions by its region's accounts
        qs = super().get_queryset(request).select_related("actor")
        prefix = access.region_prefix(request.user)
        if prefix is None:
            return qs.none()
        return qs if prefix == "" else qs.filter(actor__region__code__startswith=prefix)

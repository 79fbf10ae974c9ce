from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sanling.kernel.events import send_after_commit
from units import access
from units.admin import AuditedAdmin, ReadOnlyHistoryAdmin
from units.models import Category

from .events import campaign_changed
from .models import Area, Campaign, ConditionKind, IncidentKind, Item, Standard, Target


class ProvinceWideAdmin(ReadOnlyHistoryAdmin, AuditedAdmin):
    """Standards, campaigns and their targets decide every unit's attainment: only an
    administrator of the whole portal (no region) changes them; region-scoped
    administrators read them. Every change is audited and kept in the history."""

    def _global(self, request) -> bool:
        return self._admin(request) and access.region_prefix(request.user) == ""

    def has_add_permission(self, request):
        return self._global(request)

    def has_change_permission(self, request, obj=None):
        return self._global(request)


class AreaInline(admin.TabularInline):
    model = Area
    extra = 0

    def has_delete_permission(self, request, obj=None):
        return False


class ItemInline(admin.StackedInline):
    model = Item
    extra = 0
    fields = [
        ("code", "area", "order"),
        "title",
        "guidance",
        ("max_score", "veto"),
        ("for_village_community", "for_enterprise_institution"),
        "evidence",
        ("indicator_name", "indicator_comparison", "indicator_threshold", "indicator_unit"),
    ]


@admin.register(Standard)
class StandardAdmin(ProvinceWideAdmin):
    """Administrators edit the shipped default drafts here. An edit to a version that
    assessments already use changes how those are displayed, not their stored scores;
    publish a new version (a new row) for a new scoring scheme."""

    list_display = ["name", "code", "version", "published_at"]
    inlines = [AreaInline, ItemInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    raw_id_fields = ["region"]


class CampaignForm(forms.ModelForm):
    """Zero-kinds, conditions, categories and review levels as choices with their Chinese
    names, not raw JSON (the model's clean still checks them)."""

    zero_kinds = forms.MultipleChoiceField(
        label=_("“零”事项"), choices=IncidentKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    conditions = forms.MultipleChoiceField(
        label=_("“零”条件"), choices=ConditionKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    categories = forms.MultipleChoiceField(
        label=_("参与类别"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Campaign
        fields = [
            "slug",
            "name",
            "scope",
            "standard",
            "start_year",
            "end_year",
            "ongoing",
            "zero_kinds",
            "conditions",
            "categories",
            "pass_mark",
            "city_grade_pass_mark",
            "review_levels",
            "implements",
            "active",
        ]


@admin.register(Campaign)
class CampaignAdmin(ProvinceWideAdmin):
    form = CampaignForm

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # scope, categories, pass mark or targets may have changed: every year's figures
        send_after_commit(campaign_changed, sender=Campaign, campaign_id=form.instance.pk)

    list_display = ["name", "slug", "scope", "standard", "start_year", "end_year", "ongoing", "phase", "pass_mark"]

    @admin.display(description=_("状态"))
    def phase(self, obj):
        return obj.phase

    raw_id_fields = ["scope"]
    inlines = [TargetInline]

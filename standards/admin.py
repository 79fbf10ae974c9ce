from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Area, Campaign, Item, Standard, Target


class AreaInline(admin.TabularInline):
    model = Area
    extra = 0


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
class StandardAdmin(SimpleHistoryAdmin):
    """Administrators edit the shipped default drafts here. An edit to a version that
    assessments already use changes how those are displayed, not their stored scores;
    publish a new version (a new row) for a new scoring scheme."""

    list_display = ["name", "code", "version", "published_at"]
    inlines = [AreaInline, ItemInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    raw_id_fields = ["region"]


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "scope", "standard", "start_year", "end_year", "pass_mark", "active"]
    raw_id_fields = ["scope"]
    inlines = [TargetInline]

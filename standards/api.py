"""Read-only API for standards and campaigns."""

from rest_framework import serializers, viewsets

from sanling.kernel.permissions import STATISTICS

from . import selectors
from .models import Area, Campaign, Item, Standard, Target


class ItemSerializer(serializers.ModelSerializer):
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Item
        fields = [
            "code",
            "title",
            "guidance",
            "max_score",
            "veto",
            "categories",
            "evidence",
            "indicator_name",
            "indicator_comparison",
            "indicator_threshold",
            "indicator_unit",
        ]


class AreaSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Area
        fields = ["code", "title", "items"]


class StandardSerializer(serializers.ModelSerializer):
    areas = AreaSerializer(many=True, read_only=True)

    class Meta:
        model = Standard
        fields = ["id", "code", "version", "name", "note", "published_at", "areas"]


class StandardViewSet(viewsets.ReadOnlyModelViewSet):
    client_scope = STATISTICS
    serializer_class = StandardSerializer
    queryset = Standard.objects.prefetch_related("areas__items").order_by("code", "version")


class TargetSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region_id")

    class Meta:
        model = Target
        fields = ["year", "category", "region_code", "rate"]


class CampaignSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="scope_id")
    standard = serializers.IntegerField(source="standard_id", help_text="id of the pinned standard version")
    years = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    zero_kinds = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "slug",
            "name",
            "region_code",
            "standard",
            "years",
            "zero_kinds",
            "categories",
            "pass_mark",
            "city_grade_pass_mark",
            "targets",
        ]


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    client_scope = STATISTICS
    serializer_class = CampaignSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.campaigns_for(self.request.user).prefetch_related("targets").order_by("slug")

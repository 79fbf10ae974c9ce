"""API of the official result (results/, appeals/): the views translate JSON to the
services of reports.results and back; rows are the caller's jurisdiction's."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from sanling.kernel.api import ReadOnlyForApiClients, require_role
from standards import selectors as campaign_selectors
from units import access
from units.audit import client_ip

from . import results
from .models import Appeal, OfficialResult, ResultUnit, Revocation


class ResultSerializer(serializers.ModelSerializer):
    campaign = serializers.CharField(source="campaign.slug")
    units_total = serializers.SerializerMethodField(help_text="in the caller's jurisdiction")
    attained_units = serializers.SerializerMethodField(help_text="in the caller's jurisdiction")
    notice_last_day = serializers.SerializerMethodField()

    class Meta:
        model = OfficialResult
        fields = [
            "id",
            "campaign",
            "year",
            "status",
            "digest",
            "closed_at",
            "notice_days",
            "notice_last_day",
            "units_total",
            "attained_units",
            "pending_counted",
            "document_number",
            "issued_on",
            "issuer",
            "published_at",
            "published_digest",
            "pdf_sha256",
        ]

    def _figures(self, result) -> dict:
        cache = self.context.setdefault("figures", {})
        if result.pk not in cache:
            cache[result.pk] = results.figures_for(self.context["request"].user, result)
        return cache[result.pk]

    def get_units_total(self, result) -> int:
        return self._figures(result)["total"]

    def get_attained_units(self, result) -> int:
        return self._figures(result)["attained"]

    def get_notice_last_day(self, result) -> str | None:
        if not result.notice_days:
            return None
        import datetime as dt

        return (result.notice_ends_on - dt.timedelta(days=1)).isoformat()


class ResultUnitSerializer(serializers.ModelSerializer):
    unit = serializers.IntegerField(source="unit_id")
    failed_conditions = serializers.ListField(child=serializers.CharField(), read_only=True)
    appeal = serializers.IntegerField(source="appeal_id", allow_null=True, help_text="for an amendment: its appeal")
    amends = serializers.IntegerField(source="amends.seq", allow_null=True, default=None, help_text="seq amended")
    final_score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True, coerce_to_string=False)

    class Meta:
        model = ResultUnit
        fields = [
            "seq",
            "unit",
            "unit_code",
            "unit_name",
            "township_code",
            "category",
            "kind",
            "attained",
            "final_score",
            "grade",
            "failed_conditions",
            "appeal",
            "amends",
        ]


class AppealSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)

    class Meta:
        model = Appeal
        fields = ["id", "result", "unit", "unit_code", "reason", "status", "filed_at", "decision_reason", "amended_at"]
        read_only_fields = fields


class RevocationSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)

    class Meta:
        model = Revocation
        fields = ["id", "unit", "unit_code", "reason", "on", "source", "lifted_on", "lifted_reason"]


class CloseRequest(serializers.Serializer):
    campaign = serializers.SlugField()
    year = serializers.IntegerField()
    notice_days = serializers.IntegerField(min_value=0, max_value=results.MAX_NOTICE_DAYS)
    count_pending = serializers.BooleanField(
        default=False, help_text="close although assessments still wait, counting them as not attained"
    )


class AppealRequest(serializers.Serializer):
    unit = serializers.IntegerField()
    reason = serializers.CharField(max_length=2000)
    evidence = serializers.FileField(required=False)


class DecideRequest(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["upheld", "rejected"])
    reason = serializers.CharField(max_length=2000)


class PublishRequest(serializers.Serializer):
    document_number = serializers.CharField(max_length=100)
    issued_on = serializers.DateField(input_formats=["%Y-%m-%d"])
    issuer = serializers.CharField(max_length=200)


class ResultViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """GET results/: the closed years of the campaigns that concern the caller. POST
    (the campaign's level): close a year."""

    serializer_class = ResultSerializer
    permission_classes = [ReadOnlyForApiClients]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return results.results_for(self.request.user).order_by("-year", "campaign_id")

    @extend_schema(request=CloseRequest, responses={201: ResultSerializer})
    def create(self, request, *args, **kwargs):
        ser = CloseRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        campaign = get_object_or_404(campaign_selectors.campaigns_for(request.user), slug=d["campaign"])
        result = results.result_close(
            campaign=campaign,
            year=d["year"],
            notice_days=d["notice_days"],
            count_pending=d["count_pending"],
            by=request.user,
            ip=client_ip(request),
        )
        return Response(ResultSerializer(result, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ResultUnitSerializer(many=True))
    @action(detail=True, methods=["get"])
    def units(self, request, pk=None):
        """Every unit row inside the caller's jurisdiction, in order: the rows of the close,
        then the amendments (each with the appeal it came from and the row it amends)."""
        result = self.get_object()
        qs = results.unit_rows(request.user, result).select_related("amends").order_by("seq")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ResultUnitSerializer(page, many=True).data)

    @extend_schema(methods=["get"], responses=AppealSerializer(many=True))
    @extend_schema(methods=["post"], request=AppealRequest, responses={201: AppealSerializer})
    @action(detail=True, methods=["get", "post"])
    def appeals(self, request, pk=None):
        result = self.get_object()
        if request.method == "GET":
            qs = access.scope(request.user, result.appeals.select_related("unit"))
            page = self.paginate_queryset(qs)
            return self.get_paginated_response(AppealSerializer(page, many=True).data)
        ser = AppealRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        unit = access.unit_for(request.user, d["unit"])
        appeal = results.appeal_file(
            result=result,
            unit=unit,
            reason=d["reason"],
            upload=d.get("evidence"),
            by=request.user,
            ip=client_ip(request),
        )
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PublishRequest, responses=ResultSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        result = self.get_object()
        ser = PublishRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        result = results.result_publish(result=result, by=request.user, ip=client_ip(request), **d)
        return Response(ResultSerializer(result, context={"request": request}).data)

    @extend_schema(responses=RevocationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def revocations(self, request, pk=None):
        result = self.get_object()
        qs = access.scope(request.user, result.revocations.select_related("unit"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(RevocationSerializer(page, many=True).data)

    @extend_schema(
        responses=inline_serializer(
            "ResultVerify",
            {"ok": serializers.BooleanField(), "digest": serializers.CharField(), "stored": serializers.CharField()},
        )
    )
    @action(detail=True, methods=["get"])
    def verify(self, request, pk=None):
        """The fingerprint recomputed from the stored rows, compared with the stored one."""
        return Response(results.verify(self.get_object()))


class AppealViewSet(viewsets.GenericViewSet):
    """appeals/{id}/decide/: the campaign's level upholds or rejects an appeal."""

    permission_classes = [ReadOnlyForApiClients]
    serializer_class = AppealSerializer

    def get_queryset(self):
        return access.scope(self.request.user, Appeal.objects.filter(result__in=results.results_for(self.request.user)))

    @extend_schema(request=DecideRequest, responses=AppealSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        appeal = self.get_object()  # jurisdiction first: a foreign id is a 404 whatever the body
        require_role(access.is_staff_reader(request.user))
        ser = DecideRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        appeal = results.appeal_decide(appeal=appeal, by=request.user, ip=client_ip(request), **ser.validated_data)
        return Response(AppealSerializer(appeal).data)

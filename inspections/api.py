"""API for assessments and incidents. The workflow rules live in the services; these
views only translate between JSON and them."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from sanling.kernel.api import ActionsField, IntFilter, WriteViewSet
from standards.models import Campaign, IncidentKind
from units import access

from . import incidents, services, workflow
from .models import Assessment, DisputeResolution, Incident, IncidentSource, IncidentStatus, Severity


class ScoreSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="item code, e.g. 3.2")
    score = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, required=False, coerce_to_string=False
    )
    note = serializers.CharField(allow_blank=True, required=False, default="")
    numerator = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        required=False,
        coerce_to_string=False,
        help_text="a measured item's figures (知晓 28 / 抽样 30): the score is computed from them",
    )
    denominator = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, required=False, coerce_to_string=False
    )
    reviewer_score = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        coerce_to_string=False,
        help_text="the adjustment that counts: the highest review level's that made one",
    )
    levels = serializers.DictField(
        read_only=True,
        help_text="each review level's adjustment: {level: {score, reason}} (a level that adjusted nothing is absent)",
    )


class DecisionSerializer(serializers.Serializer):
    level = serializers.CharField()
    decision = serializers.CharField(help_text="passed (to the next level), approved, returned, reopened (appeal)")
    final_score = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    adjusted = serializers.IntegerField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class AssessmentSerializer(serializers.ModelSerializer):
    campaign = serializers.SlugRelatedField(slug_field="slug", queryset=Campaign.objects.all())
    scores = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)
    review_level = serializers.CharField(
        read_only=True, help_text="while submitted, the level it waits for (county, city, province); else empty"
    )
    lock_version = serializers.IntegerField(read_only=True)
    actions = ActionsField(workflow.allowed_actions)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "unit",
            "campaign",
            "year",
            "status",
            "review_level",
            "waiting_since",
            "scores",
            "decisions",
            "total_score",
            "max_score",
            "final_score",
            "veto_failed",
            "return_reason",
            "lock_version",
            "submitted_at",
            "approved_at",
            "actions",
        ]
        read_only_fields = [
            "status",
            "review_level",
            "waiting_since",
            "total_score",
            "max_score",
            "final_score",
            "veto_failed",
            "return_reason",
            "submitted_at",
            "approved_at",
        ]

    @extend_schema(responses=ScoreSerializer(many=True))
    def get_scores(self, obj) -> list[dict]:
        return [
            {
                "item": s.item.code,
                "score": s.self_score,
                "note": s.note,
                "numerator": s.numerator,
                "denominator": s.denominator,
                "reviewer_score": s.reviewer_score,
                "levels": {ls.level: {"score": ls.value, "reason": ls.reason} for ls in s.level_scores.all()},
            }
            for s in obj.scores.all()
        ]


class AssessmentWrite(serializers.Serializer):
    unit = serializers.IntegerField(required=False)
    campaign = serializers.SlugField(required=False)
    year = serializers.IntegerField(required=False)
    scores = ScoreSerializer(many=True, required=False)
    lock_version = serializers.IntegerField(
        required=False, min_value=0, help_text="the version the edit is based on (required for PATCH)"
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AssessmentFilter(django_filters.FilterSet):
    campaign = django_filters.CharFilter(field_name="campaign__slug")
    unit = IntFilter(field_name="unit_id")
    year = IntFilter()

    class Meta:
        model = Assessment
        fields = ["campaign", "year", "status", "unit"]


def _scores_by_item(assessment: Assessment, scores: list[dict]) -> dict:
    by_code = {s.item.code: s.item_id for s in assessment.scores.select_related("item")}
    unknown = [s["item"] for s in scores if s["item"] not in by_code]
    if unknown:
        raise serializers.ValidationError({"scores": [_("本自评没有这些条目：%(c)s") % {"c": "、".join(unknown)}]})
    return {
        by_code[s["item"]]: (
            s.get("score"),
            s.get("note", ""),
            (s.get("numerator"), s.get("denominator")) if "numerator" in s or "denominator" in s else None,
        )
        for s in scores
    }


class AssessmentViewSet(WriteViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    def get_queryset(self):
        qs = (
            Assessment.objects.select_related("campaign", "unit")
            .prefetch_related("scores__item", "scores__level_scores", "decisions")
            .order_by("id")
        )
        return access.scope(self.request.user, qs)

    def _out(self, a, code=status.HTTP_200_OK):
        a = self.get_queryset().get(pk=a.pk)
        return Response(AssessmentSerializer(a, context={"request": self.request}).data, status=code)

    @extend_schema(request=AssessmentWrite, responses={201: AssessmentSerializer})
    def create(self, request, *args, **kwargs):
        ser = AssessmentWrite(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        missing = {k: [_("必填")] for k in ("unit", "campaign", "year") if k not in d}
        if missing:
            raise serializers.ValidationError(missing)
        unit = access.unit_for(request.user, d["unit"])
        campaign = Campaign.objects.filter(slug=d["campaign"]).first()
        if campaign is None:
            raise serializers.ValidationError({"campaign": [_("未知的创建活动“%(s)s”。") % {"s": d["campaign"]}]})
        existing = Assessment.objects.filter(unit=unit, campaign=campaign, year=d["year"]).first()
        if existing is not None:
            # a second POST would write over what someone else is editing: edits are PATCHes
            # that name the version they were made from
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        _("该单位 %(y)s 年已有自评（编号 %(id)s）：请用 PATCH 修改，并带上 lock_version。")
                        % {"y": d["year"], "id": existing.pk}
                    ]
                }
            )
        a = services.assessment_start(unit=unit, campaign=campaign, year=d["year"], by=request.user)
        if d.get("scores"):
            a = services.assessment_save_scores(
                assessment=a, scores=_scores_by_item(a, d["scores"]), lock_version=a.lock_version, by=request.user
            )
        return self._out(a, status.HTTP_201_CREATED)

    @extend_schema(request=AssessmentWrite, responses=AssessmentSerializer)
    def partial_update(self, request, *args, **kwargs):
        a = self.get_object()
        ser = AssessmentWrite(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if "lock_version" not in d:
            raise serializers.ValidationError(
                {
                    "lock_version": [
                        _("必填：请带上您修改时所依据的版本（lock_version，当前为 %(v)s），以免覆盖他人的修改。")
                        % {"v": a.lock_version}
                    ]
                }
            )
        a = services.assessment_save_scores(
            assessment=a,
            scores=_scores_by_item(a, d.get("scores", [])),
            lock_version=d["lock_version"],
            by=request.user,
        )
        return self._out(a)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._out(services.assessment_submit(assessment=self.get_object(), by=request.user))

    @extend_schema(request=None, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._out(services.assessment_approve(assessment=self.get_object(), by=request.user))

    @extend_schema(request=ReasonSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        assessment = self.get_object()  # jurisdiction first: a foreign id is a 404 whatever the body
        ser = ReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._out(
            services.assessment_return(assessment=assessment, reason=ser.validated_data["reason"], by=request.user)
        )


class IncidentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, help_text="一般/较大/重大/特别重大: required")
    source = serializers.ChoiceField(
        choices=IncidentSource.choices,
        required=False,
        help_text="set by the portal: a department's incidents carry its kind; county staff may name spot_check",
    )
    department = serializers.CharField(source="department.name", read_only=True, default=None)
    actions = ActionsField(workflow.allowed_actions)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "unit" in fields and not fields["unit"].read_only:
            # A unit outside the jurisdiction is reported exactly like a missing one.
            fields["unit"].queryset = access.incident_units(request.user)
        return fields

    class Meta:
        model = Incident
        fields = [
            "id",
            "unit",
            "kind",
            "severity",
            "source",
            "department",
            "occurred_on",
            "description",
            "status",
            "reason",
            "higher_level",
            "higher_level_reason",
            "resolution",
            "resolved_on",
            "recorded_at",
            "actions",
        ]
        read_only_fields = [
            "status",
            "reason",
            "higher_level",
            "higher_level_reason",
            "resolution",
            "resolved_on",
            "recorded_at",
        ]


class ReferUp(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class Resolve(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=DisputeResolution.choices)
    resolved_on = serializers.DateField(required=False, allow_null=True)


class IncidentJudge(serializers.Serializer):
    status = serializers.ChoiceField(choices=[IncidentStatus.CONFIRMED, IncidentStatus.DISMISSED])
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class IncidentFilter(django_filters.FilterSet):
    unit = IntFilter(field_name="unit_id")

    class Meta:
        model = Incident
        fields = ["unit", "kind", "status", "severity", "source"]


class IncidentViewSet(WriteViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        qs = Incident.objects.select_related("unit", "department").order_by("-occurred_on", "-id")
        return access.scope(self.request.user, qs, department_field="department")

    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        inc = incidents.incident_record(
            unit=d["unit"],
            kind=d["kind"],
            occurred_on=d["occurred_on"],
            description=d["description"],
            severity=d["severity"],
            source=d.get("source"),
            by=request.user,
        )
        return Response(self.get_serializer(inc).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IncidentJudge, responses=IncidentSerializer)
    def partial_update(self, request, *args, **kwargs):
        inc = self.get_object()
        ser = IncidentJudge(data=request.data)
        ser.is_valid(raise_exception=True)
        inc = incidents.incident_judge(
            incident=inc, status=ser.validated_data["status"], reason=ser.validated_data["reason"], by=request.user
        )
        return Response(self.get_serializer(inc).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=ReferUp, responses=IncidentSerializer)
    @action(detail=True, methods=["post"], url_path="refer-up")
    def refer_up(self, request, pk=None):
        """A petition only a higher level can decide (county): it breaks no 零上访."""
        inc = self.get_object()
        ser = ReferUp(data=request.data)
        ser.is_valid(raise_exception=True)
        inc = incidents.incident_refer_up(incident=inc, reason=ser.validated_data["reason"], by=request.user)
        return Response(self.get_serializer(inc).data)

    @extend_schema(request=Resolve, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """A dispute's resolution: resolved inside the jurisdiction on a date, escalated, or
        unresolved at the year's end."""
        inc = self.get_object()
        ser = Resolve(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        inc = incidents.dispute_resolve(
            incident=inc, resolution=d["resolution"], resolved_on=d.get("resolved_on"), by=request.user
        )
        return Response(self.get_serializer(inc).data)

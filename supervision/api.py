"""API for inspections (with spot checks and samples) and rectification tasks. The
rules live in supervision.services; scoping in units.access."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sanling.kernel.api import ActionsField, IntFilter, WriteViewSet, require_role
from sanling.kernel.permissions import STATISTICS
from standards.models import Campaign
from standards.selectors import pick_year as campaign_pick_year
from units import access
from units.models import Department, Level, Region

from . import selectors, services, workflow
from .models import (
    ActionTarget,
    CheckStatus,
    Inspection,
    InspectionKind,
    InspectionMode,
    Milestone,
    Rectification,
    SpecialAction,
    SpotCheck,
    TaskSource,
    TaskStatus,
)


class SpotCheckSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    self_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    reviewer_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    inspector_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    self_deviation = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    reviewer_deviation = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    county_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    city_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    province_final = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )

    class Meta:
        model = SpotCheck
        fields = [
            "id",
            "unit",
            "unit_code",
            "unit_name",
            "assessment",
            "status",
            "reason",
            "self_final",
            "reviewer_final",
            "inspector_final",
            "self_deviation",
            "reviewer_deviation",
            "county_final",
            "city_final",
            "province_final",
            "checked_at",
        ]


class InspectionSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region_id", read_only=True)
    campaign = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sample_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    checks = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = [
            "id",
            "region_code",
            "campaign",
            "year",
            "kind",
            "mode",
            "planned_on",
            "inspectors",
            "findings",
            "sample_seed",
            "sample_percent",
            "sample_size",
            "pool_size",
            "pool_digest",
            "checks",
        ]
        read_only_fields = fields

    @extend_schema(responses=SpotCheckSerializer(many=True))
    def get_checks(self, obj) -> list[dict]:
        prefetched = getattr(obj, "scoped_checks", None)  # the list's one query (get_queryset)
        if prefetched is None:
            prefetched = access.scope(self.context["request"].user, obj.checks.select_related("unit"))
        return SpotCheckSerializer(prefetched, many=True).data


class InspectionWrite(serializers.Serializer):
    region_code = serializers.CharField(max_length=12)
    campaign = serializers.SlugField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    kind = serializers.ChoiceField(choices=InspectionKind.choices)
    mode = serializers.ChoiceField(choices=InspectionMode.choices)
    planned_on = serializers.DateField()
    inspectors = serializers.CharField(max_length=200)
    findings = serializers.CharField(required=False, allow_blank=True, default="")
    units = serializers.ListField(
        child=serializers.CharField(max_length=15),
        required=False,
        default=list,
        help_text="unit codes (scheduled / ad_hoc)",
        max_length=2000,
    )
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="sample: share of the pool, in %",
    )
    count = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="sample: number of units"
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=2**62 - 1,
        help_text="sample: seed (generated when omitted)",
    )


class FindingsWrite(serializers.Serializer):
    findings = serializers.CharField(allow_blank=True)


class ItemScoreWrite(serializers.Serializer):
    item = serializers.CharField(max_length=10)
    score = serializers.DecimalField(max_digits=5, decimal_places=1)


class RecordWrite(serializers.Serializer):
    check = serializers.IntegerField(help_text="spot check id (from the inspection's checks)")
    scores = ItemScoreWrite(many=True)
    outcome = serializers.ChoiceField(choices=[CheckStatus.CONFIRMED, CheckStatus.OVERTURNED])
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class VerifySerializer(serializers.Serializer):
    reproducible = serializers.BooleanField()
    message = serializers.CharField()


class InspectionFilter(django_filters.FilterSet):
    campaign = django_filters.CharFilter(field_name="campaign__slug")
    year = IntFilter()

    class Meta:
        model = Inspection
        fields = ["campaign", "year", "kind", "mode"]


class InspectionViewSet(WriteViewSet):
    """Inspections of county staff and above (townships see only the outcome on their units)."""

    serializer_class = InspectionSerializer
    filterset_class = InspectionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inspection.objects.none()
        checks = access.scope(self.request.user, SpotCheck.objects.select_related("unit"))
        return selectors.visible_inspections(
            self.request.user,
            Inspection.objects.select_related("region", "campaign")
            .prefetch_related(Prefetch("checks", queryset=checks, to_attr="scoped_checks"))
            .order_by("-planned_on", "-id"),
        )

    def _out(self, ins, code=status.HTTP_200_OK):
        return Response(
            InspectionSerializer(self.get_queryset().get(pk=ins.pk), context={"request": self.request}).data,
            status=code,
        )

    @extend_schema(request=InspectionWrite, responses={201: InspectionSerializer})
    def create(self, request, *args, **kwargs):
        ser = InspectionWrite(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        region = access.current_regions(request.user).filter(pk=d["region_code"]).first()
        campaign = Campaign.objects.filter(slug=d["campaign"]).first()
        errors = {}
        if region is None:
            errors["region_code"] = [_("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["region_code"]}]
        if campaign is None:
            errors["campaign"] = [_("未知的创建活动“%(s)s”。") % {"s": d["campaign"]}]
        if errors:
            raise serializers.ValidationError(errors)
        common = {
            "region": region,
            "campaign": campaign,
            "year": d["year"],
            "mode": d["mode"],
            "planned_on": d["planned_on"],
            "inspectors": d["inspectors"],
            "by": request.user,
        }
        if d["kind"] == InspectionKind.SAMPLE:
            ins = services.inspection_draw_sample(**common, percent=d["percent"], count=d["count"], seed=d["seed"])
        else:
            ins = services.inspection_plan(**common, kind=d["kind"], unit_codes=d["units"], findings=d["findings"])
        return self._out(ins, status.HTTP_201_CREATED)

    @extend_schema(request=FindingsWrite, responses=InspectionSerializer)
    def partial_update(self, request, *args, **kwargs):
        ins = self.get_object()
        ser = FindingsWrite(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._out(
            services.inspection_update(inspection=ins, findings=ser.validated_data["findings"], by=request.user)
        )

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=RecordWrite, responses=InspectionSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Record a spot check: the inspector's item scores and confirm / overturn."""
        ins = self.get_object()
        ser = RecordWrite(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        check = access.scope(request.user, ins.checks.all()).filter(pk=d["check"]).first()
        if check is None:
            raise serializers.ValidationError(
                {"check": [_("该检查中没有编号为 %(i)s 的抽查单位。") % {"i": d["check"]}]}
            )
        services.spot_check_record(
            check=check,
            scores={s["item"]: s["score"] for s in d["scores"]},
            outcome=d["outcome"],
            reason=d["reason"],
            by=request.user,
        )
        return self._out(ins)

    @extend_schema(responses=VerifySerializer)
    @action(detail=True, methods=["get"])
    def verify(self, request, pk=None):
        """Redraw a random sample from its recorded seed and compare."""
        ins = self.get_object()
        if ins.kind != InspectionKind.SAMPLE:
            raise serializers.ValidationError({"kind": [_("只有随机抽样检查可以按种子复核。")]})
        ok, message = services.sample_verify(ins)
        return Response({"reproducible": ok, "message": message})


# --- rectification tasks -----------------------------------------------------------


class TaskEvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_on", "done_on"]
        read_only_fields = ["id", "done_on"]


class DepartmentRef(serializers.PrimaryKeyRelatedField):
    """A department by id, among those the user may assign (one answer for missing and
    not assignable)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Department.objects.none()
        return selectors.assignable_departments(request.user)


class RectificationSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True, default=None)
    region_code = serializers.CharField(source="township_id", read_only=True)
    # a township's task (no unit): its code
    township = serializers.CharField(required=False, allow_blank=True, write_only=True)
    opened_region_code = serializers.CharField(source="opened_region_id", read_only=True)
    lead_department = DepartmentRef()
    lead_department_name = serializers.CharField(source="lead_department.name", read_only=True)
    cooperating_departments = DepartmentRef(many=True, required=False)
    milestones = MilestoneSerializer(many=True, required=False)
    evidence = TaskEvidenceSerializer(many=True, read_only=True)
    # A plain id: existence is checked by the service, with one answer for missing and
    # not visible, so ids of other regions' checks cannot be probed.
    spot_check = serializers.IntegerField(source="spot_check_id", required=False, allow_null=True)
    actions = ActionsField(workflow.allowed_actions)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "unit" in fields and not fields["unit"].read_only:
            fields["unit"].queryset = access.visible_units(request.user)
        if request is not None and "action" in fields and not fields["action"].read_only:
            fields["action"].queryset = selectors.special_actions(request.user)
        return fields

    class Meta:
        model = Rectification
        fields = [
            "id",
            "unit",
            "unit_code",
            "township",
            "region_code",
            "title",
            "description",
            "source",
            "spot_check",
            "leader",
            "lead_department",
            "lead_department_name",
            "cooperating_departments",
            "action",
            "milestones",
            "deadline",
            "status",
            "overdue",
            "overdue_since",
            "report_note",
            "root_cause",
            "lasting_measure",
            "reopen_reason",
            "opened_region_code",
            "opened_at",
            "reported_at",
            "closed_at",
            "evidence",
            "actions",
        ]
        read_only_fields = [
            "status",
            "overdue",
            "overdue_since",
            "report_note",
            "root_cause",
            "lasting_measure",
            "reopen_reason",
            "opened_at",
            "reported_at",
            "closed_at",
        ]
        extra_kwargs = {"unit": {"required": False, "allow_null": True}}


class TaskTransition(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=TaskStatus.choices,
        help_text="in_progress (start), reported (with note), closed (verify), open (reopen, with reason)",
    )
    note = serializers.CharField(allow_blank=True, required=False, default="")
    root_cause = serializers.CharField(allow_blank=True, required=False, default="")
    lasting_measure = serializers.CharField(allow_blank=True, required=False, default="")
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class MilestoneDone(serializers.Serializer):
    milestone = serializers.IntegerField()


class EvidenceUpload(serializers.Serializer):
    file = serializers.FileField()


class RectificationFilter(django_filters.FilterSet):
    unit = IntFilter(field_name="unit_id")
    region_code = django_filters.CharFilter(method="in_region", label="region code (any level: whole subtree)")
    overdue = django_filters.BooleanFilter(method="is_overdue")
    department = IntFilter(method="of_department", label="department id: tasks it leads or cooperates in")
    action = IntFilter(field_name="action_id", label="special action id")

    class Meta:
        model = Rectification
        fields = ["unit", "status", "source", "region_code", "overdue", "department", "action"]

    def in_region(self, qs, name, value):
        region = Region.objects.filter(code=value).only("code", "level").first()
        if region is None:
            return qs.none()
        return qs.filter(township__code__startswith=region.prefix)

    def of_department(self, qs, name, value):
        return qs.filter(Q(lead_department_id=value) | Q(cooperating_departments=value)).distinct()

    def is_overdue(self, qs, name, value):
        return qs.overdue() if value else qs.not_overdue()


class RectificationViewSet(WriteViewSet):
    serializer_class = RectificationSerializer
    filterset_class = RectificationFilter

    def get_queryset(self):
        qs = Rectification.objects.select_related("unit", "opened_region", "lead_department").prefetch_related(
            "evidence", "cooperating_departments", "milestones"
        )
        return selectors.scope_tasks(self.request.user, qs.order_by("deadline", "id"))

    def _out(self, t, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=t.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        check_id = d.get("spot_check_id")
        check = None
        if check_id is not None:
            check = SpotCheck.objects.filter(pk=check_id).first() or SpotCheck(pk=check_id)
        township = None
        if not d.get("unit") and d.get("township"):
            township = access.current_regions(request.user).filter(pk=d["township"], level=Level.TOWNSHIP).first()
        t = services.task_open(
            unit=d.get("unit"),
            township=township,
            title=d["title"],
            description=d.get("description", ""),
            source=d.get("source", TaskSource.INSPECTION),
            leader=d["leader"],
            lead_department=d["lead_department"],
            cooperating_departments=d.get("cooperating_departments", []),
            milestones=[(m["title"], m["due_on"]) for m in d.get("milestones", [])],
            action=d.get("action"),
            deadline=d["deadline"],
            spot_check=check,
            by=request.user,
        )
        return self._out(t, status.HTTP_201_CREATED)

    @extend_schema(request=TaskTransition, responses=RectificationSerializer)
    def partial_update(self, request, *args, **kwargs):
        t = self.get_object()  # jurisdiction first
        ser = TaskTransition(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        action = workflow.TASK_ACTION_FOR[d["status"]]
        if action == "start":
            t = services.task_start(task=t, by=request.user)
        elif action == "report":
            t = services.task_report(
                task=t,
                note=d["note"],
                root_cause=d["root_cause"],
                lasting_measure=d["lasting_measure"],
                by=request.user,
            )
        elif action == "verify":
            t = services.task_verify(task=t, by=request.user)
        else:
            t = services.task_reopen(task=t, reason=d["reason"], by=request.user)
        return self._out(t)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=MilestoneDone, responses=RectificationSerializer)
    @action(detail=True, methods=["post"], url_path="milestone-done")
    def milestone_done(self, request, pk=None):
        """Mark one of the task's milestones done today."""
        t = self.get_object()
        ser = MilestoneDone(data=request.data)
        ser.is_valid(raise_exception=True)
        services.task_milestone_done(task=t, milestone=ser.validated_data["milestone"], by=request.user)
        return self._out(t)

    @extend_schema(request={"multipart/form-data": EvidenceUpload}, responses={201: RectificationSerializer})
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser])
    def evidence(self, request, pk=None):
        t = self.get_object()
        ser = EvidenceUpload(data=request.data)
        ser.is_valid(raise_exception=True)
        services.task_add_evidence(task=t, upload=ser.validated_data["file"], by=request.user)
        return self._out(t, status.HTTP_201_CREATED)


# --- special actions (专项行动) -----------------------------------------------------


class ActionTargetSerializer(serializers.ModelSerializer):
    target = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)

    class Meta:
        model = ActionTarget
        fields = ["id", "code", "name", "measure", "unit_label", "target"]


class SpecialActionSerializer(serializers.ModelSerializer):
    campaign = serializers.CharField(source="campaign.slug")
    targets = ActionTargetSerializer(many=True)

    class Meta:
        model = SpecialAction
        fields = [
            "id",
            "campaign",
            "code",
            "order",
            "name",
            "lead_kind",
            "cooperating_kinds",
            "lead_text",
            "cooperating_text",
            "starts_on",
            "ends_on",
            "targets",
        ]


class ProgressRowSerializer(serializers.Serializer):
    target = serializers.CharField(source="target.code")
    region_code = serializers.CharField(source="code")
    region_name = serializers.CharField(source="name")
    counties = serializers.IntegerField()
    reported = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    denominator = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True)
    goal = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=False)
    completion = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=False)
    expected = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=False)
    lagging = serializers.BooleanField()


class ProgressAnswer(serializers.Serializer):
    action = serializers.CharField()
    year = serializers.IntegerField()
    region_code = serializers.CharField()
    rows = ProgressRowSerializer(many=True)
    laggards = serializers.ListField(child=serializers.CharField(), help_text="region codes lagging on any target")


class ProgressUpload(serializers.Serializer):
    target = serializers.CharField(help_text="the target's code")
    region = serializers.CharField(help_text="a county's code")
    as_of = serializers.DateField()
    value = serializers.CharField()
    denominator = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    file = serializers.ListField(child=serializers.FileField(), min_length=1)


class SpecialActionViewSet(viewsets.ReadOnlyModelViewSet):
    """The campaigns' special actions with their targets; `progress/` gives each
    target's progress in each child region of `region` for `year`, laggards flagged, and
    takes a department's figures (multipart, with evidence files)."""

    client_scope = STATISTICS
    serializer_class = SpecialActionSerializer
    filterset_fields = ["campaign__slug"]

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or not (
            access.can_see_actions(user) or access.is_api_client(user)
        ):
            return SpecialAction.objects.none()
        return selectors.special_actions(user).prefetch_related("targets").order_by("campaign_id", "order", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="campaign year (default: the campaign's last)"),
            OpenApiParameter("region", str, description="region code: a county, city or province"),
        ],
        request={"multipart/form-data": ProgressUpload},
        responses={200: ProgressAnswer, 201: ProgressAnswer},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[parsers.MultiPartParser, parsers.JSONParser])
    def progress(self, request, pk=None):
        act = self.get_object()
        campaign = act.campaign
        if request.method == "POST":
            require_role(access.is_department_staff(request.user))
            ser = ProgressUpload(data=request.data)
            ser.is_valid(raise_exception=True)
            d = ser.validated_data
            target = act.targets.filter(code=d["target"]).first()
            if target is None:
                raise serializers.ValidationError({"target": [_("该行动没有指标“%(t)s”。") % {"t": d["target"]}]})
            region = access.current_regions(request.user).filter(pk=d["region"]).first()
            if region is None:
                raise serializers.ValidationError(
                    {"region": [_("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["region"]}]}
                )
            p = services.progress_record(
                target=target,
                region=region,
                as_of=d["as_of"],
                value=d["value"],
                denominator=d["denominator"],
                note=d["note"],
                uploads=d["file"],
                by=request.user,
            )
            year, region = p.as_of.year, region
            code = status.HTTP_201_CREATED
        else:
            year = campaign_pick_year(campaign, request.query_params.get("year"))
            raw = request.query_params.get("region") or ""
            region = access.region_for(request.user, raw) if raw else access.home_region(request.user)
            if region is None or region.level == Level.TOWNSHIP or not campaign.covers_region(region.code):
                raise Http404
            code = status.HTTP_200_OK
        from .actions import progress as progress_rows

        rows = progress_rows(act, year, region)
        return Response(
            ProgressAnswer(
                {
                    "action": act.code,
                    "year": year,
                    "region_code": region.code,
                    "rows": rows,
                    "laggards": sorted({r.code for r in rows if r.lagging}),
                }
            ).data,
            status=code,
        )

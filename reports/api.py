"""API for attainment statistics, read from the snapshot."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import django_filters
from celery.result import AsyncResult
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from sanling.kernel.api import IntFilter, ReadOnlyForApiClients, require_role
from sanling.kernel.permissions import STATISTICS
from sanling.kernel.replica import ReadsFromReplica
from standards import selectors as campaign_selectors
from units import access, history
from units.audit import client_ip
from units.models import Category, Region, RegionChange, Unit

from . import attainment, results, selectors, services, snapshot_page
from .models import AttainmentSnapshot, OfficialResult, ResultRegion, ResultStatus, RollupState


def _official_for(rows) -> dict:
    """(campaign, year, region, category) -> the closed result's figures, for a page."""
    pairs = {(r.campaign_id, r.year) for r in rows}
    if not pairs:
        return {}
    q = Q()
    for c, y in pairs:
        q |= Q(campaign_id=c, year=y)
    out = {}
    codes = {r.region_id for r in rows}
    for result in OfficialResult.objects.filter(q):
        fell = results.fell_since_previous(result)
        for g in results.current_region_rows(result, result.region_rows.filter(region_id__in=codes)):
            out[(result.campaign_id, result.year, g.region_id, g.category)] = {
                "result": result.pk,
                "status": result.status,
                "total_units": g.total_units,
                "attained_units": g.attained_units,
                "rate": float(g.rate),
                "met": g.met,
                "gap_units": g.gap_units,
                "fell_below_previous_year": (g.region_id, g.category) in fell,
            }
    return out


class AttainmentListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        """The names of each row's year (and what became of regions that ended since),
        looked up once for the page, not per row."""
        rows = list(data.all() if hasattr(data, "all") else data)
        by_year: dict[int, dict[str, Region]] = {}
        for r in rows:
            by_year.setdefault(r.year, {})[r.region_id] = r.region
        labels = {}
        for year, regions in by_year.items():
            for code, label in history.labels_on(regions.values(), history.year_end(year)).items():
                labels[(code, year)] = label
        self.child.context["labels"] = labels
        self.child.context["official"] = _official_for(rows)
        return super().to_representation(rows)


class AttainmentSerializer(serializers.ModelSerializer):
    campaign = serializers.CharField(source="campaign.slug")
    region_code = serializers.CharField(source="region_id")
    region_name = serializers.SerializerMethodField(help_text="the region's name in that year")
    became = serializers.SerializerMethodField(help_text="for a region that has ended since: what it became")
    figures = serializers.SerializerMethodField(
        help_text="live: the current roll-up; the official figures, if the year is closed, are in `official`"
    )
    official = serializers.SerializerMethodField(
        help_text="the closed year's official figures (status notice/published), or null while the year is live"
    )
    rate = serializers.FloatField()
    target_rate = serializers.FloatField(allow_null=True)

    class Meta:
        model = AttainmentSnapshot
        fields = [
            "campaign",
            "year",
            "region_code",
            "region_name",
            "level",
            "category",
            "total_units",
            "attained_units",
            "rate",
            "target_rate",
            "met",
            "gap_units",
            "computed_at",
            "became",
            "figures",
            "official",
        ]
        list_serializer_class = AttainmentListSerializer

    def _label(self, row) -> dict:
        labels = self.context.get("labels")
        if labels is None or (row.region_id, row.year) not in labels:
            labels = {
                (row.region_id, row.year): history.labels_on([row.region], history.year_end(row.year))[row.region_id]
            }
            self.context["labels"] = labels
        return labels[(row.region_id, row.year)]

    def get_figures(self, row) -> str:
        return "live"

    @extend_schema_field(
        inline_serializer(
            "OfficialFigures",
            {
                "result": serializers.IntegerField(),
                "status": serializers.CharField(),
                "total_units": serializers.IntegerField(),
                "attained_units": serializers.IntegerField(),
                "rate": serializers.FloatField(),
                "met": serializers.BooleanField(allow_null=True),
                "gap_units": serializers.IntegerField(),
                "fell_below_previous_year": serializers.BooleanField(),
            },
            allow_null=True,
        )
    )
    def get_official(self, row) -> dict | None:
        official = self.context.get("official")
        if official is None:
            official = _official_for([row])
        return official.get((row.campaign_id, row.year, row.region_id, row.category))

    def get_region_name(self, row) -> str:
        return self._label(row)["name"]

    @extend_schema_field(
        inline_serializer(
            "RegionRefAttainment", {"code": serializers.CharField(), "name": serializers.CharField()}, many=True
        )
    )
    def get_became(self, row) -> list[dict]:
        return [{"code": r.code, "name": r.name} for r in self._label(row)["became"]]


class AttainmentFilter(django_filters.FilterSet):
    campaign = django_filters.CharFilter(field_name="campaign__slug")
    region_code = django_filters.CharFilter(field_name="region_id")
    parent_code = django_filters.CharFilter(method="children_of")
    year = IntFilter()

    def children_of(self, qs, name, value):
        # By level and code prefix, so the snapshot's (campaign, year, level, region) index
        # answers it without joining the region table.
        parent = Region.objects.filter(code=value).only("code", "level").first()
        level = parent and selectors.child_level(parent.level)
        if not level:
            return qs.none()
        return qs.filter(level=level, region__code__startswith=parent.prefix)

    class Meta:
        model = AttainmentSnapshot
        fields = ["campaign", "year", "region_code", "parent_code", "level", "category", "met"]


class RecomputeRequest(serializers.Serializer):
    campaign = serializers.SlugField()
    year = serializers.IntegerField()


class DailyQuery(serializers.Serializer):
    # an unknown campaign or region is a 404 (not found, or not yours), as everywhere
    campaign = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField()
    region_code = serializers.CharField(allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


LIST_CACHE_SECONDS = 600


def _list_cache_key(request) -> str | None:
    prefix = access.region_prefix(request.user)
    if prefix is None or not access.reads_region_figures(request.user):
        return None  # nothing to share: a department's staff get the empty answer uncached
    # The sum only grows: every snapshot write increments one row in its transaction. A
    # change of the tree (a rename changes the names shown), a closed year, an amendment
    # (new official region rows) and a publication end the cached answers too.
    t = {m: m._meta.db_table for m in (RollupState, RegionChange, ResultRegion, OfficialResult)}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COALESCE(SUM(version), 0), COUNT(*),"  # noqa: S608
            f" (SELECT COALESCE(MAX(id), 0) FROM {t[RegionChange]}),"
            f" (SELECT COALESCE(MAX(id), 0) FROM {t[ResultRegion]}),"
            f" (SELECT COUNT(*) FROM {t[OfficialResult]} WHERE status = %s)"
            f" FROM {t[RollupState]}",
            [ResultStatus.PUBLISHED],
        )
        version = ".".join(str(v) for v in cur.fetchone())
    query = urlencode(sorted(request.query_params.lists()), doseq=True)
    jurisdiction = ",".join(access.region_prefixes(request.user) or [])
    raw = f"{version}|{jurisdiction}|{request.get_host()}|{get_language()}|{query}"
    return "api:attainment:" + hashlib.sha256(raw.encode()).hexdigest()


class AttainmentViewSet(ReadsFromReplica, viewsets.ReadOnlyModelViewSet):
    serializer_class = AttainmentSerializer
    permission_classes = [ReadOnlyForApiClients]
    client_scope = STATISTICS
    filterset_class = AttainmentFilter

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        """The routes that only read (list, retrieve, trend, daily) run outside
        ATOMIC_REQUESTS: a transaction adds two round trips (BEGIN, COMMIT) to an answer
        that is often one statement, and under READ COMMITTED gives several statements no
        common snapshot anyway. recompute, which writes, keeps its transaction."""
        view = super().as_view(actions, **initkwargs)
        if actions and set(actions) <= {"get", "head", "options"}:
            view = transaction.non_atomic_requests(view)
        return view

    def list(self, request, *args, **kwargs):
        """A plain request is answered by one prepared statement (reports.snapshot_page),
        which costs less than the cache's two round trips and the version query that
        guards them. Anything else takes the general path, whose answers are cached,
        keyed by the snapshot's version, the caller's jurisdiction, host, language and
        query: a roll-up that writes the snapshot changes the version, so no answer
        outlives the figures it was computed from."""
        data = snapshot_page.page(request, self.paginator.page_size)
        if data is not None:
            return Response(data)
        key = _list_cache_key(request)
        if key is not None:
            data = cache.get(key)
            if data is not None:
                return Response(data)
        response = super().list(request, *args, **kwargs)
        if key is not None and response.status_code == 200:
            cache.set(key, response.data, LIST_CACHE_SECONDS)
        return response

    def get_queryset(self):
        qs = AttainmentSnapshot.objects.select_related("campaign", "region").order_by(
            "campaign_id", "year", "region_id", "category"
        )
        return access.scope_regions(self.request.user, qs)

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR, required=True),
            OpenApiParameter("region_code", OpenApiTypes.STR, required=True),
            OpenApiParameter("category", OpenApiTypes.STR),
        ],
        responses=inline_serializer(
            "TrendPoint",
            {
                "year": serializers.IntegerField(),
                "category": serializers.CharField(),
                "rate": serializers.FloatField(),
                "target_rate": serializers.FloatField(allow_null=True),
                "total_units": serializers.IntegerField(),
                "attained_units": serializers.IntegerField(),
            },
            many=True,
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def trend(self, request):
        """The rate per year for one region: the current snapshot of each campaign year."""
        campaign = get_object_or_404(
            campaign_selectors.campaigns_for(request.user), slug=request.query_params.get("campaign")
        )
        region = access.region_for(request.user, request.query_params.get("region_code", ""))
        qs = access.scope_regions(request.user, AttainmentSnapshot.objects.filter(campaign=campaign, region=region))
        if request.query_params.get("category"):
            qs = qs.filter(category=request.query_params["category"])
        rows = [
            {
                "year": r.year,
                "category": r.category,
                "rate": float(r.rate),
                "target_rate": None if r.target_rate is None else float(r.target_rate),
                "total_units": r.total_units,
                "attained_units": r.attained_units,
            }
            for r in qs.order_by("year", "category")
        ]
        return Response(rows)

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR, required=True),
            OpenApiParameter("year", OpenApiTypes.INT, required=True),
            OpenApiParameter("region_code", OpenApiTypes.STR, required=True),
            OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
        ],
        responses=inline_serializer(
            "DailyPoint",
            {
                "day": serializers.DateField(),
                "category": serializers.CharField(),
                "total_units": serializers.IntegerField(),
                "attained_units": serializers.IntegerField(),
                "rate": serializers.FloatField(),
                "target_rate": serializers.FloatField(allow_null=True),
                "met": serializers.BooleanField(allow_null=True),
                "gap_units": serializers.IntegerField(),
            },
            many=True,
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def daily(self, request):
        """The figures per day for one region and campaign year: each past day's closing
        figures (history), then the current snapshot under the day it was written."""
        query = DailyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        campaign = get_object_or_404(campaign_selectors.campaigns_for(request.user), slug=q["campaign"])
        if q["year"] not in campaign.years:
            raise serializers.ValidationError({"year": [services.year_error(campaign)]})
        if q.get("category") and q["category"] not in campaign.categories:
            raise serializers.ValidationError({"category": [_("本次创建活动不包含这一类别。")]})
        region = access.region_for(request.user, q["region_code"])
        if not access.reads_region_figures(request.user):
            raise Http404
        points = selectors.daily(campaign, q["year"], region, q.get("category"))
        return Response(
            [
                {
                    **p,
                    "day": p["day"].isoformat(),
                    "rate": float(p["rate"]),
                    "target_rate": None if p["target_rate"] is None else float(p["target_rate"]),
                }
                for p in points
            ]
        )

    @extend_schema(
        request=RecomputeRequest,
        responses={
            202: inline_serializer(
                "TaskStarted",
                {"task_id": serializers.CharField(allow_null=True), "message": serializers.CharField()},
            )
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def recompute(self, request):
        require_role(access.is_staff_reader(request.user))
        ser = RecomputeRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        req = services.rollup_request(
            campaign_slug=ser.validated_data["campaign"],
            year=ser.validated_data["year"],
            by=request.user,
            ip=client_ip(request),
        )
        if not req.queued:
            return Response(
                {"task_id": None, "message": _("任务队列暂不可用，已记录待重算，稍后自动更新。")},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response({"task_id": req.task_id, "message": ""}, status=status.HTTP_202_ACCEPTED)


class TaskView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "TaskState",
            {
                "id": serializers.CharField(),
                "state": serializers.CharField(),
                "info": serializers.JSONField(allow_null=True),
            },
        )
    )
    def get(self, request, task_id: str):
        require_role(access.is_staff_reader(request.user))
        res = AsyncResult(task_id)
        info = res.info if isinstance(res.info, dict) else (None if res.info is None else str(res.info))
        return Response({"id": task_id, "state": res.state, "info": info})

    @extend_schema(responses={202: inline_serializer("TaskCancel", {"message": serializers.CharField()})})
    def delete(self, request, task_id: str):
        """Cancel a requested full roll-up: not started, it never starts; running, it
        stops at its next step and rolls back."""
        require_role(access.is_staff_reader(request.user))
        services.rollup_cancel(task_id=task_id, by=request.user, ip=client_ip(request))
        return Response({"message": _("已请求取消重算。")}, status=status.HTTP_202_ACCEPTED)


class UnitStatusView(ReadsFromReplica, APIView):
    """GET units/{id}/status/: whether a unit attains in a campaign-year, and why not.
    Lives in reports (the attainment rule is reports'); the unit is looked up through
    the caller's jurisdiction like every other."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR),
            OpenApiParameter("year", OpenApiTypes.INT),
        ],
        responses=inline_serializer(
            "UnitStatus",
            {
                "unit": serializers.IntegerField(),
                "campaign": serializers.CharField(),
                "year": serializers.IntegerField(),
                "attained": serializers.BooleanField(),
                "grade": serializers.CharField(
                    allow_null=True, help_text="city (市级) or district (区级) for an attained unit, else null"
                ),
                "failed_conditions": inline_serializer(
                    "Reason", {"code": serializers.CharField(), "text": serializers.CharField()}, many=True
                ),
            },
        ),
    )
    def get(self, request, pk: int):
        unit = access.unit_for(request.user, pk)
        campaign = campaign_selectors.pick_campaign(request.user, request.query_params.get("campaign"))
        year = campaign_selectors.pick_year(campaign, request.query_params.get("year"))
        reasons = attainment.reasons_for(unit, campaign, year)
        return Response(
            {
                "unit": unit.id,
                "campaign": campaign.slug,
                "year": year,
                "attained": not reasons,
                "grade": None
                if reasons
                else attainment.grades_for_units(Unit.objects.filter(pk=unit.pk), campaign, year).get(unit.pk),
                "failed_conditions": [{"code": r.code, "text": r.text} for r in reasons],
            }
        )


class AppraisalView(ReadsFromReplica, APIView):
    """GET appraisal/?campaign=&year=&region=: the ranking of the regions under `region`
    (a city's counties, the province's cities) with each part, the score and any veto
    (the incidents named); the departments' appraisal; the commendation list. The
    formula: docs/appraisal.md."""

    client_scope = STATISTICS

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR),
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("region", OpenApiTypes.STR, description="a province, city or county code"),
        ],
        responses=inline_serializer(
            "Appraisal",
            {
                "campaign": serializers.CharField(),
                "year": serializers.IntegerField(),
                "region_code": serializers.CharField(),
                "weights": serializers.DictField(child=serializers.IntegerField()),
                "ranking": inline_serializer(
                    "AppraisalRow",
                    {
                        "rank": serializers.IntegerField(allow_null=True),
                        "region_code": serializers.CharField(),
                        "region_name": serializers.CharField(),
                        "parts": serializers.DictField(child=serializers.FloatField()),
                        "score": serializers.FloatField(),
                        "vetoed": serializers.BooleanField(),
                        "veto_incidents": serializers.ListField(child=serializers.IntegerField()),
                    },
                    many=True,
                ),
                "departments": inline_serializer(
                    "DepartmentAppraisalRow",
                    {
                        "department": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "tasks": serializers.IntegerField(),
                        "on_time": serializers.IntegerField(),
                        "late": serializers.IntegerField(),
                        "actions": serializers.FloatField(allow_null=True),
                        "score": serializers.FloatField(),
                    },
                    many=True,
                ),
                "commended_regions": serializers.ListField(child=serializers.CharField()),
                "commended_units": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request):
        from . import appraisal

        user = request.user
        require_role(access.can_appraise(user) or access.is_api_client(user))
        campaign = campaign_selectors.pick_campaign(user, request.query_params.get("campaign"))
        year = campaign_selectors.pick_year(campaign, request.query_params.get("year"))
        region = selectors.dashboard_region(user, campaign, request.query_params.get("region"))
        if region.level == "township":
            region = region.parent
        ranking = appraisal.appraise(campaign, year, region)
        departments = appraisal.appraise_departments(campaign, year, region)
        commended = appraisal.commendation(campaign, year, region, ranking)
        scheme = appraisal.scheme_for(campaign)
        return Response(
            {
                "campaign": campaign.slug,
                "year": year,
                "region_code": region.code,
                "weights": {p: getattr(scheme, f"w_{p}") for p in appraisal.PARTS},
                "ranking": [
                    {
                        "rank": a.rank,
                        "region_code": a.region.code,
                        "region_name": a.region.name,
                        "parts": {p: float(v) for p, v in a.parts.items()},
                        "score": float(a.score),
                        "vetoed": a.vetoed,
                        "veto_incidents": [i.pk for i in a.vetoes],
                    }
                    for a in ranking
                ],
                "departments": [
                    {
                        "department": d.department.pk,
                        "name": d.department.name,
                        "tasks": d.tasks,
                        "on_time": d.on_time,
                        "late": d.late,
                        "actions": None if d.actions is None else float(d.actions),
                        "score": float(d.score),
                    }
                    for d in departments
                ],
                "commended_regions": [a.region.code for a in commended["regions"]],
                "commended_units": [u.unit_code for u in commended["units"]],
            }
        )


class ScreenView(ReadsFromReplica, APIView):
    """GET screen/: the big screen's figures (大屏) in one answer, for a page that asks
    again every minute — the region's attainment against its target, approved
    assessments, tasks, the trend by year, laggards, overdue tasks by region and the
    map's rows. Scoped like the dashboards: another city's region is a 404; a role
    that has no dashboards (a department's staff) gets 403."""

    permission_classes = [ReadOnlyForApiClients]
    client_scope = STATISTICS

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.STR),
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("region", OpenApiTypes.STR, description="a region code (default: the user's own)"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        user = request.user
        require_role(access.can_see_dashboards(user) or access.is_api_client(user))
        campaign = campaign_selectors.pick_campaign(user, request.query_params.get("campaign"))
        year = campaign_selectors.pick_year(campaign, request.query_params.get("year"))
        region = selectors.dashboard_region(user, campaign, request.query_params.get("region"))
        data = selectors.screen(user, campaign, year, region)
        shapes = data["map"]["shapes"]
        data["map"]["shapes"] = static(shapes) if shapes else None
        return Response(data)

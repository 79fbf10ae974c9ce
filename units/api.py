"""API for regions, units and tokens."""

from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from sanling.kernel.api import ReadOnlyForApiClients, error_response, require_role
from sanling.kernel.permissions import STATISTICS

from . import access, auth, changes, history, services
from .audit import client_ip
from .models import (
    ChangeKind,
    Level,
    Region,
    RegionChange,
    TokenScope,
    Unit,
    UnitKind,
    code_validator,
    unit_code_validator,
    validate_credit_code,
)


class TokenRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(APIView):
    """Exchange username and password for a token. Failures count towards the lock-out."""

    permission_classes = [AllowAny]
    authentication_classes = []  # anonymous: the anonymous throttle (per address) applies

    @extend_schema(
        request=TokenRequest, responses={200: inline_serializer("Token", {"token": serializers.CharField()})}
    )
    def post(self, request):
        ser = TokenRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        why = auth.refusal(request._request)
        if why:
            return error_response(why, code="throttled", status=429)
        # The plain HttpRequest, so django-axes counts failures and applies the lock-out.
        user = authenticate(
            request=request._request, username=ser.validated_data["username"], password=ser.validated_data["password"]
        )
        if user is None or not user.is_active:
            # Returned, not raised: raising would roll back django-axes' record of the failure.
            message = _("用户名或密码不正确；连续多次失败将暂时锁定账号。")
            if getattr(request._request, "axes_locked_out", False):
                message = _("登录失败次数过多，账号已暂时锁定，请稍后再试。")
                return error_response(message, code="locked_out", status=403)
            return error_response(message, fields={"non_field_errors": [message]})
        return Response({"token": services.token_for_login(user=user, ip=client_ip(request))})


class TokenIssueRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    scope = serializers.ChoiceField(choices=TokenScope.choices, default=TokenScope.STATISTICS)


class TokenIssueView(APIView):
    """Administrators issue a token for an API-client account (replacing any old one)."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=TokenIssueRequest,
        responses={
            201: inline_serializer(
                "IssuedToken",
                {
                    "username": serializers.CharField(),
                    "token": serializers.CharField(help_text="shown this once; only its digest is stored"),
                    "scope": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request):
        ser = TokenIssueRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        user, key = services.token_issue(
            username=ser.validated_data["username"],
            scope=ser.validated_data["scope"],
            by=request.user,
            ip=client_ip(request),
        )
        token = user.auth_token_set.order_by("-created").first()
        return Response(
            {"username": user.username, "token": key, "scope": token.scope, "expiry": token.expiry},
            status=status.HTTP_201_CREATED,
        )


class TokenRevokeView(APIView):
    """Administrators revoke a user's token."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={204: OpenApiResponse(description="revoked")})
    def delete(self, request, username: str):
        services.token_revoke(username=username, by=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent_id", allow_null=True, required=False)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent_code", "is_demo", "valid_from", "valid_to"]
        read_only_fields = ["valid_from", "valid_to"]
        extra_kwargs = {"code": {"validators": [code_validator]}}


class RegionRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class RegionOnDaySerializer(RegionSerializer):
    """A region as it stood on the day asked for: its name then, and what it became if it
    has ended since."""

    became = RegionRef(many=True, read_only=True)

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "became"]

    def to_representation(self, region):
        data = super().to_representation(region)
        label = self.context["labels"][region.code]
        data["name"] = label["name"]
        data["became"] = [{"code": r.code, "name": r.name} for r in label["became"]]
        return data


class AsOfQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])


class RegionFilter(django_filters.FilterSet):
    parent_code = django_filters.CharFilter(field_name="parent_id")
    code_prefix = django_filters.CharFilter(field_name="code", lookup_expr="startswith")

    class Meta:
        model = Region
        fields = ["level", "parent_code", "code_prefix"]


class RegionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    permission_classes = [ReadOnlyForApiClients]
    client_scope = STATISTICS

    def get_queryset(self):
        return access.visible_regions(self.request.user).order_by("code")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="The tree of that day (YYYY-MM-DD), with the names of that day; default today",
            )
        ],
        responses=RegionOnDaySerializer(many=True),
    )
    def list(self, request, *args, **kwargs):
        """The tree of a day: the regions valid on it (by default today's), each under its
        name of that day, with what became of those that have ended since."""
        query = AsOfQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("as_of") or timezone.localdate()
        qs = history.regions_as_of(day, self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(qs)
        rows = list(qs) if page is None else page
        ser = RegionOnDaySerializer(rows, many=True, context={"labels": history.labels_on(rows, day)})
        return self.get_paginated_response(ser.data) if page is not None else Response(ser.data)

    def create(self, request, *args, **kwargs):
        require_role(access.can_create_regions(request.user))
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        parent = access.current_regions(request.user).filter(code=d.get("parent_id") or "").first()
        if d.get("parent_id") and parent is None:
            raise serializers.ValidationError(
                {"parent_code": [_("上级区划 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["parent_id"]}]}
            )
        region = services.region_create(
            code=d["code"], name=d["name"], level=d["level"], parent=parent, by=request.user
        )
        return Response(RegionSerializer(region).data, status=status.HTTP_201_CREATED)


class ChangeTarget(serializers.Serializer):
    code = serializers.CharField(validators=[code_validator])
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    parent_code = serializers.CharField(required=False, allow_null=True, default=None)


class Bounded:
    """A list or mapping refused by its size before each entry is validated."""

    def __init__(self, *args, most: int, **kwargs):
        self.most = most
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if hasattr(data, "__len__") and not isinstance(data, str) and len(data) > self.most:
            raise serializers.ValidationError(_("最多 %(n)s 项。") % {"n": self.most})
        return super().to_internal_value(data)


class BoundedList(Bounded, serializers.ListField):
    pass


class BoundedDict(Bounded, serializers.DictField):
    pass


class ChangeTargets(Bounded, serializers.ListSerializer):
    pass


class RegionChangeRequest(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    effective_on = serializers.DateField(input_formats=["%Y-%m-%d"])
    sources = BoundedList(child=serializers.CharField(max_length=12), min_length=1, most=50)
    targets = ChangeTargets(child=ChangeTarget(), most=50)
    # a split's units (every unit of the township) and officers, by code and username
    units = BoundedDict(child=serializers.CharField(max_length=12), required=False, default=dict, most=20000)
    officers = BoundedDict(child=serializers.CharField(max_length=12), required=False, default=dict, most=1000)
    basis = serializers.CharField(max_length=300)


class RegionChangeSerializer(serializers.ModelSerializer):
    sources = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    targets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", allow_null=True, read_only=True)
    consequences = serializers.SerializerMethodField()

    class Meta:
        model = RegionChange
        fields = [
            "id",
            "kind",
            "effective_on",
            "basis",
            "sources",
            "targets",
            "detail",
            "recorded_by",
            "recorded_at",
            "consequences",
        ]

    def to_representation(self, change):
        """The record as the caller may see it: the accounts moved are named only for
        regions in the caller's jurisdiction (a change may span two cities)."""
        data = super().to_representation(change)
        user = self.context.get("user")
        officers = (data.get("detail") or {}).get("officers")
        if officers and user is not None:
            data["detail"] = {
                **data["detail"],
                "officers": {code: names for code, names in officers.items() if access.can_see_region(user, code)},
            }
        return data

    @extend_schema_field(
        inline_serializer(
            "RegionChangeConsequence",
            {"kind": serializers.CharField(), "sources": serializers.ListField(), "targets": serializers.ListField()},
            many=True,
        )
    )
    def get_consequences(self, change):
        return [
            {"kind": c.kind, "sources": [r.code for r in c.sources.all()], "targets": [r.code for r in c.targets.all()]}
            for c in change.consequences.all()
        ]


class RegionChangeView(generics.ListAPIView):
    """GET regions/changes/: the recorded changes of the tree (行政区划调整) that touch the
    caller's jurisdiction, newest first. POST (administrators): record one — applied at
    once, in one transaction, audited; refused whole when it does not hold."""

    serializer_class = RegionChangeSerializer
    permission_classes = [ReadOnlyForApiClients]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    client_scope = STATISTICS

    def get_queryset(self):
        seen = access.visible_regions(self.request.user)
        touching = RegionChange.objects.filter(Q(sources__in=seen) | Q(targets__in=seen)).values("pk")
        return (
            RegionChange.objects.filter(part_of=None, pk__in=touching)
            .select_related("recorded_by")
            .prefetch_related("sources", "targets", "consequences__sources", "consequences__targets")
            .order_by("-effective_on", "-id")
        )

    @extend_schema(request=RegionChangeRequest, responses={201: RegionChangeSerializer})
    def post(self, request):
        require_role(access.can_create_regions(request.user))
        ser = RegionChangeRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        change = changes.region_change(
            kind=d["kind"],
            effective_on=d["effective_on"],
            sources=d["sources"],
            targets=[changes.Target(t["code"], t["name"], t["parent_code"]) for t in d["targets"]],
            units=d["units"],
            officers=d["officers"],
            basis=d["basis"],
            by=request.user,
        )
        return Response(
            RegionChangeSerializer(self.get_queryset().get(pk=change.pk), context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
        )


class UnitSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="township_id")
    category = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=UnitKind.choices)

    class Meta:
        model = Unit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "category",
            "region_code",
            "active",
            "address",
            "contact_person",
            "contact_phone",
            "official_name",
            "credit_code",
        ]
        read_only_fields = ["id", "active", "official_name"]
        # Uniqueness is checked (and reported in Chinese) by the view and the service; the format stays.
        extra_kwargs = {
            "code": {"validators": [unit_code_validator]},
            "credit_code": {"validators": [validate_credit_code], "required": False, "allow_null": True},
        }


class UnitFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(method="in_region", label="region code (any level: whole subtree)")
    search = django_filters.CharFilter(method="search_text")

    class Meta:
        model = Unit
        fields = ["region_code", "kind", "category", "active", "search"]

    def in_region(self, qs, name, value):
        return access.in_region(qs, value)

    def search_text(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(code__startswith=value))


class UnitViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    permission_classes = [ReadOnlyForApiClients]

    def get_queryset(self):
        return access.visible_units(self.request.user).select_related("township").order_by("code")

    def create(self, request, *args, **kwargs):
        require_role(access.can_edit_units(request.user))
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        township = access.current_regions(request.user).filter(code=d["township_id"], level=Level.TOWNSHIP).first()
        if township is None:
            raise serializers.ValidationError(
                {"region_code": [_("乡镇代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["township_id"]}]}
            )
        # the prefix first: a code of another township must not reveal whether it is taken
        if not d["code"].startswith(township.prefix):
            raise serializers.ValidationError(
                {
                    "code": [
                        _("单位代码 %(code)s 不在所属乡镇“%(name)s”的代码前缀 %(prefix)s 之内。")
                        % {"code": d["code"], "name": township.name, "prefix": township.prefix}
                    ]
                }
            )
        if Unit.objects.filter(code=d["code"]).exists():
            raise serializers.ValidationError({"code": [_("单位代码 %(c)s 已被登记。") % {"c": d["code"]}]})
        unit = services.unit_register(
            township=township,
            code=d["code"],
            name=d["name"],
            kind=d["kind"],
            address=d.get("address", ""),
            contact_person=d.get("contact_person", ""),
            contact_phone=d.get("contact_phone", ""),
            credit_code=d.get("credit_code") or "",
            by=request.user,
        )
        return Response(UnitSerializer(unit).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        require_role(access.can_edit_units(request.user))
        unit = self.get_object()
        ser = self.get_serializer(unit, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if ("code" in d and d["code"] != unit.code) or ("township_id" in d and d["township_id"] != unit.township_id):
            raise serializers.ValidationError({"code": [_("单位代码和所属乡镇登记后不能修改。")]})
        fields = {k: v for k, v in d.items() if k in services.UNIT_EDITABLE_FIELDS}
        unit = services.unit_update(unit=unit, by=request.user, **fields)
        return Response(UnitSerializer(unit).data)

"""Shared API pieces: the one exception handler and error shape, permissions, filters,
the 404/500 handlers. Imports no app: a user is an API client when `user.is_api_client`."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from .permissions import ReadOnlyForApiClients


def _messages(value, path: str = "") -> list[tuple[str, str]]:
    """Every message of a (possibly nested) DRF error detail, with where it belongs:
    scores[1].score — never a Python repr of ErrorDetail objects."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(k, int) or (isinstance(k, str) and k.isdigit()):  # a list's element, by index
                out += _messages(v, f"{path}[{k}]")
            else:
                out += _messages(v, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return [(path, str(v)) for v in value]
        out = []
        for i, v in enumerate(value):
            if v:  # an empty entry: that element was valid
                out += _messages(v, f"{path}[{i}]")
        return out
    return [(path, str(value))]


def _flatten(detail) -> tuple[str, dict]:
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        return str(detail["detail"]), {}
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for path, message in _messages(detail):
            top = path.split(".")[0].split("[")[0] or "non_field_errors"
            if top == "__all__":
                top = "non_field_errors"
            # a nested field's message names where inside it the problem is
            fields.setdefault(top, []).append(message if path in (top, "__all__") else f"{path}：{message}")
        non_field = fields.get("non_field_errors")
        first = non_field[0] if non_field else next(iter(fields.values()), [""])[0]
        return first, fields
    if isinstance(detail, list):
        flat = _messages(detail)
        return (flat[0][1] if flat else ""), {}
    return str(detail), {}


def exception_handler(exc, context):
    """Every API error as {"error": {"code", "message", "fields"}} in the request language."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到。"))
    # DRF marks the request's transaction for rollback; a route outside ATOMIC_REQUESTS
    # (transaction.non_atomic_requests) has none, and what it would mark is an enclosing
    # transaction that is not the request's (a test's): left as it was
    kept = {alias: connections[alias].needs_rollback for alias in _non_atomic_aliases(context)}
    response = drf_handler(exc, context)
    for alias, needs_rollback in kept.items():
        connections[alias].needs_rollback = needs_rollback
    if response is None:
        return None
    message, fields = _flatten(response.data)
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    return Response(
        {"error": {"code": code, "message": message, "fields": fields}},
        status=response.status_code,
        headers=_headers(response),
    )


def _non_atomic_aliases(context) -> set[str]:
    request = getattr(context.get("request"), "_request", None)
    view = getattr(getattr(request, "resolver_match", None), "func", None)
    return set(getattr(view, "_non_atomic_requests", ()))


def _headers(response):
    return {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}


class WriteViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """List, read, create and PATCH (no PUT, no DELETE) for people; API clients read."""

    permission_classes = [ReadOnlyForApiClients]
    http_method_names = ["get", "post", "patch", "head", "options"]


def error_response(message: str, *, code: str = "invalid", fields: dict | None = None, status: int = 400) -> Response:
    """An error in the API's shape without raising: for views whose writes must survive
    (a raised API exception rolls the request's transaction back)."""
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


def require_role(allowed: bool) -> None:
    """API: a role that may not take an action gets 403 (objects it cannot see stay 404)."""
    if not allowed:
        raise exceptions.PermissionDenied(_("您的角色不能执行此操作。"))


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "Not signed in",
    "403": "Not allowed for this role",
    "404": "Not found, or outside your jurisdiction",
    "429": "Throttled or locked out",
}


def document_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation may answer with the error
    shape of exception_handler() under these statuses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, text in ERROR_STATUSES.items():
                responses.setdefault(status, {"description": text, "content": {"application/json": {"schema": ref}}})
    return result


INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@extend_schema_field({"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX})
class IntFilter(django_filters.NumberFilter):
    """An integer filter bounded to what the database can hold (a huge or fractional
    value is a 400, never a database error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", INT_MIN)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(*args, **kwargs)


def bad_request(request, exception=None):
    """handler400: the API's error shape under /api/ (a body over the size limit, a bad
    Host header …), Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import bad_request as page

    if request.path.startswith("/api/"):
        message = _("请求无效：请求体过大或格式错误。")
        return JsonResponse({"error": {"code": "bad_request", "message": message, "fields": {}}}, status=400)
    return page(request, exception)


def not_found(request, exception=None):
    """handler404: the API's error shape under /api/, the portal's page (404.html) elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": _("未找到。"), "fields": {}}}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500. When the database is unreachable (restarting, failing over) the request
    fails cleanly: 503 with Retry-After and a message saying nothing was saved — ATOMIC_REQUESTS
    rolled the request back. Neither answer touches the database or the session."""
    import sys

    from django.db import InterfaceError, OperationalError
    from django.http import HttpResponse, JsonResponse
    from django.template.loader import render_to_string

    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    message = (
        _("数据库暂时不可用，本次操作未保存。请稍后重试。")
        if unavailable
        else _("服务器内部错误，本次操作未保存。请稍后重试或联系管理员。")
    )
    if request.path.startswith("/api/"):
        resp = JsonResponse(
            {"error": {"code": "unavailable" if unavailable else "server_error", "message": message, "fields": {}}},
            status=status,
        )
    else:
        resp = HttpResponse(render_to_string("error.html", {"message": message, "status": status}), status=status)
    if unavailable:
        resp["Retry-After"] = "5"
    return resp


@extend_schema_field({"type": "array", "items": {"type": "string"}, "readOnly": True})
class ActionsField(serializers.Field):
    """The actions the requesting user may take on the object now, from its state
    machine's allowed_actions(obj, user) — the same list the pages offer."""

    def __init__(self, allowed, **kwargs):
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)
        self.allowed = allowed

    def to_representation(self, obj):
        request = self.context.get("request")
        return list(self.allowed(obj, request.user)) if request is not None else []

"""Incidents in the browser: the ledger of a jurisdiction, recording, and the county's
confirm/dismiss. The rules live in inspections.incidents (shared with the API)."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sanling.kernel.errors import ServiceError
from standards.models import IncidentKind
from units import access

from . import incidents, workflow
from .models import DisputeResolution, Incident, IncidentSource, IncidentStatus, Severity


class IncidentForm(forms.Form):
    unit_code = forms.CharField(
        label=gettext_lazy("单位代码"),
        max_length=15,
        widget=forms.TextInput(
            attrs={
                "list": "unit-options",
                "autocomplete": "off",
                "placeholder": gettext_lazy("输入代码或名称搜索"),
                "hx-get": "/units/lookup/?for=incident",
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#unit-options",
            }
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=IncidentKind.choices)
    severity = forms.ChoiceField(
        label=gettext_lazy("等级"), choices=[("", "——"), *Severity.choices], initial=Severity.GENERAL, required=False
    )
    occurred_on = forms.DateField(label=gettext_lazy("发生日期"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=gettext_lazy("情况描述"), widget=forms.Textarea(attrs={"rows": 3}))


def _incidents(user):
    """The incidents of the user's units; a department's staff also see those their
    department recorded (信访, 公安, 应急 record for any unit of their region)."""
    qs = Incident.objects.select_related("unit__township", "department").order_by("-occurred_on", "-id")
    return access.scope(user, qs, department_field="department")


def _with_actions(page, user):
    for incident in page:
        incident.actions = workflow.incident_actions(incident, user)
    return page


@login_required
def incident_list(request):
    qs = _incidents(request.user)
    kind, status, year = request.GET.get("kind", ""), request.GET.get("status", ""), request.GET.get("year", "")
    source = request.GET.get("source", "")
    if source in IncidentSource.values:
        qs = qs.filter(source=source)
    if kind in IncidentKind.values:
        qs = qs.filter(kind=kind)
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    if year.isdigit():
        qs = qs.filter(occurred_on__gte=dt.date(int(year), 1, 1), occurred_on__lte=dt.date(int(year), 12, 31))
    page = _with_actions(Paginator(qs, 50).get_page(request.GET.get("page")), request.user)
    return render(
        request,
        "inspections/incidents.html",
        {
            "page": page,
            "kinds": IncidentKind.choices,
            "statuses": IncidentStatus.choices,
            "sources": IncidentSource.choices,
            "resolutions": DisputeResolution.choices,
            "kind": kind,
            "status": status,
            "source": source,
            "year": year,
            "form": IncidentForm(),
        },
    )


@login_required
@require_POST
def incident_create(request):
    form = IncidentForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        unit = access.incident_units(request.user).filter(code=d["unit_code"]).first()
        if unit is None:
            form.add_error("unit_code", _("单位代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["unit_code"]})
        else:
            try:
                incidents.incident_record(
                    unit=unit,
                    kind=d["kind"],
                    severity=d["severity"],
                    occurred_on=d["occurred_on"],
                    description=d["description"],
                    by=request.user,
                )
            except (ServiceError, PermissionDenied) as exc:
                for field, errs in getattr(exc, "message_dict", {None: [str(exc)]}).items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                messages.success(request, _("已登记“%(unit)s”的事件。") % {"unit": unit.name})
                return redirect("incidents:list")
    qs = _incidents(request.user)
    return render(
        request,
        "inspections/incidents.html",
        {
            "page": _with_actions(Paginator(qs, 50).get_page(1), request.user),
            "kinds": IncidentKind.choices,
            "statuses": IncidentStatus.choices,
            "sources": IncidentSource.choices,
            "form": form,
        },
        status=400,
    )


@login_required
@require_POST
def incident_judge(request, pk: int):
    try:
        incidents.incident_judge(
            incident=pk,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except (ServiceError, PermissionDenied) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("已处理。"))
    return redirect("incidents:list")


@login_required
@require_POST
def incident_refer_up(request, pk: int):
    try:
        incidents.incident_refer_up(incident=pk, reason=request.POST.get("reason", ""), by=request.user)
    except (ServiceError, PermissionDenied) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("已认定为须由上级部门解决的信访事项，不计入“零上访”。"))
    return redirect("incidents:list")


@login_required
@require_POST
def incident_resolve(request, pk: int):
    raw = request.POST.get("resolved_on", "")
    try:
        try:
            day = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ServiceError({"resolved_on": [_("“%(d)s”不是有效日期。") % {"d": raw}]}) from None
        incidents.dispute_resolve(
            incident=pk, resolution=request.POST.get("resolution", ""), resolved_on=day, by=request.user
        )
    except (ServiceError, PermissionDenied) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("已登记化解情况。"))
    return redirect("incidents:list")

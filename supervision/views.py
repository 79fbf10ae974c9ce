"""Supervision in the browser: the rectification ledger (挂图作战、对账销号), tasks and
their evidence, inspections with spot checks and random samples, the deviation report
and the notification list. Rules live in supervision.services; scoping in units.access."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inspections import scoring
from inspections.evidence import attachment
from inspections.models import REVIEW_LEVEL_CHOICES, Assessment
from sanling.kernel import exports
from sanling.kernel.errors import ServiceError
from standards import selectors as campaign_selectors
from units import access
from units.audit import audit, client_ip
from units.forms import lookup
from units.models import Department, Level, Region

from . import selectors, services, workflow
from .models import (
    ActionTarget,
    CheckStatus,
    Inspection,
    InspectionKind,
    InspectionMode,
    ProgressEvidence,
    SpecialAction,
    SpotCheck,
    TaskEvidence,
    TaskSource,
    TaskStatus,
)


def _errors_to_form(form, exc) -> None:
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc))
        return
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def _flash(request, exc) -> None:
    for m in [str(exc)] if isinstance(exc, PermissionDenied) else exc.messages:
        messages.error(request, m)


def _region_param(request) -> Region | None:
    code = request.GET.get("region", "")
    if code:
        return access.region_for(request.user, code)
    return access.home_region(request.user)


# --- the rectification ledger ------------------------------------------------------

SORTS = {"deadline": ("deadline", "id"), "-deadline": ("-deadline", "-id"), "opened": ("-opened_at", "-id")}


def _department_param(request):
    raw = request.GET.get("department", "")
    if raw == "mine" and access.is_department_staff(request.user):
        return request.user.department
    if raw.isdigit():
        return Department.objects.filter(pk=raw).first()
    return None


def _ledger_qs(request):
    region = _region_param(request)
    qs = selectors.tasks(request.user, region, department=_department_param(request))
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.not_closed()
    elif state == "overdue":
        qs = qs.overdue()
    elif state in TaskStatus.values:
        qs = qs.filter(status=state)
    sort = request.GET.get("sort", "deadline")
    return region, qs.order_by(*SORTS.get(sort, SORTS["deadline"])), state, sort


@login_required
def ledger(request):
    region, qs, state, sort = _ledger_qs(request)
    counts = selectors.task_counts(request.user, region) if region else {}
    visible = selectors.tasks(request.user, region)
    return render(
        request,
        "supervision/ledger.html",
        {
            "region": region,
            "page": Paginator(qs, 50).get_page(request.GET.get("page")),
            "state": state,
            "sort": sort,
            "counts": counts,
            "statuses": TaskStatus.choices,
            "by_child": selectors.task_counts_by_child(visible, region),
            "by_department": selectors.task_counts_by_department(visible),
            "departments": selectors.task_departments(request.user, region),
            "department": _department_param(request),
            "today": timezone.localdate(),
        },
    )


@login_required
def ledger_export(request, fmt: str):
    if fmt not in ("xlsx", "csv"):
        raise PermissionDenied
    region, qs, _state, _sort = _ledger_qs(request)
    audit(
        actor=request.user,
        action="export.rectifications",
        detail={"region": region.code if region else ""},
        ip=client_ip(request),
    )
    header = [
        _("乡镇/街道"),
        _("责任单位"),
        _("单位代码"),
        _("整改事项"),
        _("来源"),
        _("专项行动"),
        _("包案领导"),
        _("牵头部门"),
        _("配合部门"),
        _("进度节点"),
        _("整改期限"),
        _("状态"),
        _("是否逾期"),
        _("交办单位"),
        _("销号时间"),
    ]
    qs = qs.select_related("action").prefetch_related("cooperating_departments", "milestones")
    rows = (
        [
            t.township.name,
            t.responsible_name,
            t.unit.code if t.unit_id else "",
            t.title,
            t.get_source_display(),
            t.action.name if t.action_id else "",
            t.leader,
            t.lead_department.name,
            "、".join(d.name for d in t.cooperating_departments.all()),
            "；".join(
                f"{m.due_on.isoformat()} {m.title}" + (f"（{_('已完成')}）" if m.done_on else "")
                for m in t.milestones.all()
            ),
            t.deadline.isoformat(),
            t.get_status_display(),
            _("是") if t.is_overdue else _("否"),
            t.opened_region.name,
            timezone.localtime(t.closed_at).strftime("%Y-%m-%d") if t.closed_at else "",
        ]
        for t in qs.iterator(chunk_size=2000)
    )
    name = _("整改台账") + (f"-{region.name}" if region else "")
    return exports.table_response(fmt=fmt, filename=name, title=_("整改台账"), header=header, rows=rows)


class MilestonesField(forms.CharField):
    """One milestone per line: a date, then what is to be done by then."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "2027-01-15 完成排查摸底\n2027-02-28 完成整改"})

    def clean(self, value):
        value = super().clean(value)
        out = []
        for n, line in enumerate((value or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            day, _sep, title = line.partition(" ")
            try:
                due = dt.date.fromisoformat(day)
            except ValueError:
                raise forms.ValidationError(
                    _("第 %(n)s 行“%(l)s”应为“日期 内容”，如：2027-01-15 完成排查摸底。") % {"n": n, "l": line}
                ) from None
            out.append((title.strip(), due))
        return out


class TaskForm(forms.Form):
    unit_code = forms.CharField(
        label=gettext_lazy("责任单位代码"),
        max_length=15,
        required=False,
        widget=lookup("/units/lookup/", "unit-options"),
        help_text=gettext_lazy("一个单位的问题填单位代码；整个乡镇/街道的问题（如服务管理盲区）留空并填乡镇/街道代码"),
    )
    township = forms.CharField(
        label=gettext_lazy("或乡镇/街道代码"),
        max_length=12,
        required=False,
        widget=lookup("/units/lookup/townships/", "township-options"),
    )
    title = forms.CharField(label=gettext_lazy("整改事项"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("问题描述"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=TaskSource.choices)
    leader = forms.CharField(label=gettext_lazy("包案领导"), max_length=50)
    lead_department = forms.ModelChoiceField(label=gettext_lazy("牵头部门"), queryset=Department.objects.none())
    cooperating_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("配合部门"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    action = forms.ModelChoiceField(
        label=gettext_lazy("所属专项行动"), queryset=SpecialAction.objects.none(), required=False
    )
    deadline = forms.DateField(label=gettext_lazy("整改期限"), widget=forms.DateInput(attrs={"type": "date"}))
    milestones = MilestonesField(label=gettext_lazy("进度节点（每行：日期 内容）"), required=False)
    check = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        departments = selectors.assignable_departments(user)
        self.fields["lead_department"].queryset = departments
        self.fields["cooperating_departments"].queryset = departments
        self.fields["action"].queryset = selectors.special_actions(user)
        for name in ("lead_department", "cooperating_departments"):
            self.fields[name].label_from_instance = lambda d: f"{d.name}"


@login_required
def task_create(request):
    access.require(access.can_open_task(request.user))
    initial = {}
    if request.method == "GET" and request.GET.get("check", "").isdigit() and access.can_inspect(request.user):
        c = selectors.visible_checks(request.user).select_related("unit").filter(pk=request.GET["check"]).first()
        if c is not None:
            initial = {
                "unit_code": c.unit.code,
                "check": c.pk,
                "source": TaskSource.INSPECTION,
                "title": "",
                "description": c.reason,
            }
    form = TaskForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        unit = township = None
        if d["unit_code"]:
            unit = access.visible_units(request.user).select_related("township").filter(code=d["unit_code"]).first()
            if unit is None:
                form.add_error("unit_code", _("单位代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["unit_code"]})
        elif d["township"]:
            township = access.current_regions(request.user).filter(pk=d["township"], level=Level.TOWNSHIP).first()
            if township is None:
                form.add_error("township", _("乡镇/街道代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["township"]})
        else:
            form.add_error("unit_code", _("请填写责任单位代码，或整改所在的乡镇/街道代码。"))
        # any id: the service answers the same for missing, not visible and not an inspector
        check = (
            (SpotCheck.objects.filter(pk=d["check"]).first() or SpotCheck(pk=d["check"])) if d.get("check") else None
        )
        if not form.errors:
            try:
                t = services.task_open(
                    unit=unit,
                    township=township,
                    title=d["title"],
                    description=d["description"],
                    source=d["source"],
                    leader=d["leader"],
                    lead_department=d["lead_department"],
                    cooperating_departments=d["cooperating_departments"],
                    milestones=d["milestones"],
                    action=d["action"],
                    deadline=d["deadline"],
                    spot_check=check,
                    by=request.user,
                )
            except (ServiceError, PermissionDenied) as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("已交办整改任务。"))
                return redirect("supervision:task", t.pk)
    return render(
        request, "supervision/task_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@login_required
def task_detail(request, pk: int):
    t = services.task_for(request.user, pk)
    return render(
        request,
        "supervision/task.html",
        {
            "t": t,
            "evidence": t.evidence.all(),
            "milestones": t.milestones.all(),
            "cooperating": t.cooperating_departments.all(),
            "today": timezone.localdate(),
            "history": t.history.select_related("history_user")[:20],
            "actions": workflow.allowed_actions(t, request.user),
        },
    )


@login_required
@require_POST
def task_action(request, pk: int, action: str):
    t = services.task_for(request.user, pk)  # jurisdiction first: a foreign id is a 404
    try:
        if action == "start":
            services.task_start(task=t, by=request.user)
        elif action == "evidence":
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError(_("请选择要上传的文件。"))
            services.task_add_evidence(task=t, upload=upload, by=request.user)
        elif action == "report":
            services.task_report(
                task=t,
                note=request.POST.get("note", ""),
                root_cause=request.POST.get("root_cause", ""),
                lasting_measure=request.POST.get("lasting_measure", ""),
                by=request.user,
            )
        elif action == "milestone":
            services.task_milestone_done(task=t, milestone=request.POST.get("milestone", ""), by=request.user)
        elif action == "verify":
            services.task_verify(task=t, by=request.user)
        elif action == "reopen":
            services.task_reopen(task=t, reason=request.POST.get("reason", ""), by=request.user)
        else:
            raise PermissionDenied(_("未知操作。"))
    except (ServiceError, PermissionDenied) as exc:
        _flash(request, exc)
    else:
        messages.success(request, str(TASK_DONE[action]))
    return redirect("supervision:task", t.pk)


# what each action did, said after it
TASK_DONE = {
    "start": gettext_lazy("已开始整改。"),
    "evidence": gettext_lazy("已上传整改佐证。"),
    "report": gettext_lazy("已报告整改完成，等待交办单位验收。"),
    "milestone": gettext_lazy("已标记该进度节点完成。"),
    "verify": gettext_lazy("已验收销号。"),
    "reopen": gettext_lazy("已退回重整，并通知责任乡镇/街道和牵头部门。"),
}


@login_required
def task_evidence(request, pk: int):
    t = selectors.tasks(request.user).filter(evidence=pk).first()
    if t is None:
        raise Http404
    return attachment(get_object_or_404(TaskEvidence, pk=pk, task=t))


# --- inspections ------------------------------------------------------------------


class InspectionForm(forms.Form):
    region = forms.CharField(
        label=gettext_lazy("检查区域代码"), max_length=12, widget=lookup("/units/lookup/regions/", "region-options")
    )
    year = forms.IntegerField(label=gettext_lazy("年度"))
    mode = forms.ChoiceField(label=gettext_lazy("方式"), choices=InspectionMode.choices)
    planned_on = forms.DateField(label=gettext_lazy("检查日期"), widget=forms.DateInput(attrs={"type": "date"}))
    inspectors = forms.CharField(label=gettext_lazy("检查人员"), max_length=200)


class PlanForm(InspectionForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("检查类型"), choices=[c for c in InspectionKind.choices if c[0] != InspectionKind.SAMPLE]
    )
    unit_code = forms.CharField(
        label=gettext_lazy("查找单位，选中即加入下方名单"),
        required=False,
        widget=lookup("/units/lookup/", "plan-unit-options", **{"data-append-to": "id_unit_codes"}),
    )
    unit_codes = forms.CharField(
        label=gettext_lazy("被检查单位代码（每行一个）"), widget=forms.Textarea(attrs={"rows": 3})
    )


class SampleForm(InspectionForm):
    percent = forms.DecimalField(label=gettext_lazy("抽样比例(%)"), required=False, max_digits=5, decimal_places=2)
    count = forms.IntegerField(label=gettext_lazy("或抽样数量"), required=False, min_value=1)
    seed = forms.IntegerField(label=gettext_lazy("种子（留空自动生成）"), required=False, min_value=0)


def _inspection_context(request, campaign, **forms_):
    year = campaign_selectors.pick_year(campaign, request.GET.get("year"))
    home = access.home_region(request.user)
    return {
        "page": Paginator(selectors.inspections(request.user).filter(campaign=campaign), 30).get_page(
            request.GET.get("page")
        ),
        "campaign": campaign,
        "year": year,
        "campaigns": campaign_selectors.campaigns_for(request.user),
        "plan_form": forms_.get("plan") or PlanForm(initial={"region": home.code if home else "", "year": year}),
        "sample_form": forms_.get("sample")
        or SampleForm(initial={"region": home.code if home else "", "year": year, "percent": 5}),
    }


@login_required
def inspection_list(request):
    access.require(access.can_inspect(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.GET.get("campaign"))
    return render(request, "supervision/inspections.html", _inspection_context(request, campaign))


def _form_region(request, form):
    region = access.current_regions(request.user).filter(pk=form.cleaned_data["region"]).first()
    if region is None:
        form.add_error("region", _("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": form.cleaned_data["region"]})
    return region


@login_required
@require_POST
def inspection_create(request, how: str):
    access.require(access.can_inspect(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.POST.get("campaign"))
    form = (SampleForm if how == "sample" else PlanForm)(request.POST)
    if form.is_valid() and (region := _form_region(request, form)) is not None:
        d = form.cleaned_data
        common = {
            "region": region,
            "campaign": campaign,
            "year": d["year"],
            "mode": d["mode"],
            "planned_on": d["planned_on"],
            "inspectors": d["inspectors"],
            "by": request.user,
        }
        try:
            if how == "sample":
                ins = services.inspection_draw_sample(**common, percent=d["percent"], count=d["count"], seed=d["seed"])
            else:
                ins = services.inspection_plan(**common, kind=d["kind"], unit_codes=d["unit_codes"].split())
        except (ServiceError, PermissionDenied) as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("已创建检查，共 %(n)s 个单位。") % {"n": ins.checks.count()})
            return redirect("supervision:inspection", ins.pk)
    ctx = _inspection_context(request, campaign, **{"sample" if how == "sample" else "plan": form})
    return render(request, "supervision/inspections.html", ctx, status=400)


@login_required
def inspection_detail(request, pk: int):
    ins = _inspection_for(request.user, pk)
    if request.method == "POST":
        try:
            services.inspection_update(inspection=ins, findings=request.POST.get("findings", ""), by=request.user)
        except PermissionDenied as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已保存检查发现。"))
        return redirect("supervision:inspection", ins.pk)
    verify = services.sample_verify(ins) if ins.kind == InspectionKind.SAMPLE and "verify" in request.GET else None
    return render(
        request,
        "supervision/inspection.html",
        {
            "ins": ins,
            "checks": selectors.with_current_scores(
                list(access.scope(request.user, ins.checks.select_related("unit__township", "assessment"))),
                ins,
            ),
            "verify": verify,
        },
    )


def _inspection_for(user, pk) -> Inspection:
    return selectors.inspection_for(user, pk)


@login_required
def spot_check(request, pk: int):
    access.require(access.can_inspect(request.user))
    c = access.object_for(
        request.user,
        SpotCheck.objects.select_related("unit__township", "inspection__campaign", "assessment__standard"),
        pk,
    )
    _inspection_for(request.user, c.inspection_id)
    # the unit's assessment now (it may have been started after the inspection was planned)
    a = (
        c.assessment
        or Assessment.objects.filter(unit=c.unit, campaign=c.inspection.campaign, year=c.inspection.year)
        .select_related("standard")
        .first()
    )
    items = list(scoring.applicable_items(a.standard, c.unit.category)) if a else []
    own = {s.item_id: s for s in a.scores.all()} if a else {}
    given = {s.item_id: s.score for s in c.scores.all()}
    errors = []
    if request.method == "POST":
        scores = {i.code: request.POST.get(f"score_{i.code}", "") for i in items}
        try:
            services.spot_check_record(
                check=c,
                scores=scores,
                outcome=request.POST.get("outcome", ""),
                reason=request.POST.get("reason", ""),
                by=request.user,
            )
        except (ServiceError, PermissionDenied) as exc:
            errors = [str(exc)] if isinstance(exc, PermissionDenied) else exc.messages
            given = scores
        else:
            messages.success(request, _("已录入抽查结论。"))
            return redirect("supervision:inspection", c.inspection_id)
    rows = [{"item": i, "own": own.get(i.id), "given": given.get(i.id, given.get(i.code, ""))} for i in items]
    return render(
        request,
        "supervision/spot_check.html",
        {
            "c": c,
            "a": a,
            "rows": rows,
            "errors": errors,
            "outcomes": [CheckStatus.CONFIRMED, CheckStatus.OVERTURNED],
            "post": request.POST,
        },
        status=400 if errors else 200,
    )


@login_required
def deviation(request):
    access.require(access.can_inspect(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.GET.get("campaign"))
    year = campaign_selectors.pick_year(campaign, request.GET.get("year"))
    region = _region_param(request)
    if region is None:
        raise PermissionDenied
    qs = selectors.checks(request.user, region, campaign, year)
    return render(
        request,
        "supervision/deviation.html",
        {
            "campaign": campaign,
            "year": year,
            "region": region,
            "campaigns": campaign_selectors.campaigns_for(request.user),
            "townships": selectors.deviation_by_township(qs, region),
            "checks": qs.order_by("unit__township_id", "unit__code")[:500],
            "threshold": 5,
            # the campaign's review levels, each with its column (层层审核)
            "levels": [(lv, dict(REVIEW_LEVEL_CHOICES)[lv]) for lv in campaign.review_levels],
        },
    )


# --- notifications ----------------------------------------------------------------


@login_required
def notification_list(request):
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("supervision:notifications")
    page = Paginator(request.user.notifications.all(), 50).get_page(request.GET.get("page"))
    return render(request, "supervision/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk: int):
    n = get_object_or_404(request.user.notifications.all(), pk=pk)
    services.notifications_mark_read(user=request.user, ids=[n.pk])
    if n.link and url_has_allowed_host_and_scheme(n.link, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(n.link)
    return redirect("supervision:notifications")


# --- special actions (专项行动) ---------------------------------------------------


class ProgressForm(forms.Form):
    target = forms.ModelChoiceField(label=gettext_lazy("指标"), queryset=ActionTarget.objects.none())
    region = forms.CharField(
        label=gettext_lazy("县（市、区）代码"),
        max_length=12,
        widget=lookup("/units/lookup/regions/?level=county", "county-options"),
    )
    as_of = forms.DateField(label=gettext_lazy("截至日期"), widget=forms.DateInput(attrs={"type": "date"}))
    value = forms.CharField(label=gettext_lazy("数值（数量或分子）"), max_length=20)
    denominator = forms.CharField(label=gettext_lazy("基数（比率指标的分母）"), max_length=20, required=False)
    note = forms.CharField(label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = selectors.reportable_targets(user, campaign)
        self.fields["target"].label_from_instance = lambda t: f"{t.action.name} · {t.name}"


def _actions_context(request, campaign, form=None):
    year = campaign_selectors.pick_year(campaign, request.GET.get("year"))
    region = _region_param(request)
    above = (
        region is not None and not campaign.covers_region(region.code) and campaign.scope.code.startswith(region.prefix)
    )
    if above and access.can_see_region(request.user, campaign.scope):
        region = campaign.scope  # above the campaign's scope (the province on Jinzhong's): the scope
    if region is None or region.level == Level.TOWNSHIP or not campaign.covers_region(region.code):
        raise Http404
    blocks = selectors.action_progress(campaign, year, region)
    can_report = access.is_department_staff(request.user) and request.user.department_id
    if can_report and form is None:
        form = ProgressForm(
            user=request.user,
            campaign=campaign,
            initial={"region": region.code if region.level == Level.COUNTY else "", "as_of": timezone.localdate()},
        )
    return {
        "campaign": campaign,
        "year": year,
        "region": region,
        "campaigns": campaign_selectors.campaigns_for(request.user),
        "blocks": blocks,
        # the furthest behind first
        "laggards": sorted(
            (r for b in blocks for r in b["rows"] if r.lagging), key=lambda r: (r.completion - r.expected, r.code)
        )[:20],
        # nothing this department could report (no action it takes part in): no form
        "form": form if can_report and form.fields["target"].queryset.exists() else None,
    }


@login_required
def actions(request):
    access.require(access.can_see_actions(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.GET.get("campaign"))
    return render(request, "supervision/actions.html", _actions_context(request, campaign))


@login_required
@require_POST
def action_progress_create(request):
    access.require(access.can_see_actions(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.POST.get("campaign"))
    form = ProgressForm(request.POST, user=request.user, campaign=campaign)
    if form.is_valid():
        d = form.cleaned_data
        region = access.current_regions(request.user).filter(pk=d["region"]).first()
        if region is None:
            form.add_error("region", _("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": d["region"]})
        else:
            try:
                services.progress_record(
                    target=d["target"],
                    region=region,
                    as_of=d["as_of"],
                    value=d["value"],
                    denominator=d["denominator"],
                    note=d["note"],
                    uploads=request.FILES.getlist("file"),
                    by=request.user,
                )
            except (ServiceError, PermissionDenied) as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("已填报“%(t)s”在%(r)s的进展。") % {"t": d["target"].name, "r": region.name},
                )
                return redirect(f"{reverse('supervision:actions')}?campaign={campaign.slug}&year={d['as_of'].year}")
    return render(request, "supervision/actions.html", _actions_context(request, campaign, form), status=400)


@login_required
def progress_evidence(request, pk: int):
    return attachment(get_object_or_404(ProgressEvidence, pk=pk, progress__in=selectors.visible_progress(request.user)))

"""考核 in the browser: the ranking with its parts and vetoes, the departments' appraisal,
the printable circular (通报, also as PDF) and the commendation list (表彰), and the form
for the campaign's weights. The formula is reports.appraisal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sanling.kernel.errors import ServiceError
from standards import selectors as campaign_selectors
from units import access
from units.audit import audit, client_ip
from units.models import Level

from . import appraisal, selectors

PART_LABELS = {
    "attainment": gettext_noop("达标率对目标"),
    "rise": gettext_noop("较上年提升"),
    "tasks": gettext_noop("整改按期"),
    "deviation": gettext_noop("抽查偏差"),
    "actions": gettext_noop("专项行动"),
}


def _context(request):
    access.require(access.can_appraise(request.user))
    campaign = campaign_selectors.pick_campaign(request.user, request.GET.get("campaign"))
    year = campaign_selectors.pick_year(campaign, request.GET.get("year"))
    region = selectors.dashboard_region(request.user, campaign, request.GET.get("region"))
    if region.level == Level.TOWNSHIP:
        region = region.parent
    ranking = appraisal.appraise(campaign, year, region)
    scheme = appraisal.scheme_for(campaign)
    return {
        "campaign": campaign,
        "year": year,
        "region": region,
        "campaigns": campaign_selectors.campaigns_for(request.user),
        "ranking": ranking,
        "scheme": scheme,
        "parts": [(p, _(PART_LABELS[p]), getattr(scheme, f"w_{p}")) for p in appraisal.PARTS],
        "laggards": appraisal.laggards(ranking),
        "commendation": appraisal.commendation(campaign, year, region, ranking),
        "qs": f"?campaign={campaign.slug}&year={year}&region={region.code}",
    }


@login_required
def appraisal_page(request):
    ctx = _context(request)
    ctx["departments"] = appraisal.appraise_departments(ctx["campaign"], ctx["year"], ctx["region"])
    ctx["can_set"] = appraisal.can_set_scheme(request.user, ctx["campaign"])
    return render(request, "reports/appraisal/ranking.html", ctx)


@login_required
def circular(request, fmt: str = "html"):
    """通报: the ranking, the laggards and the vetoes, and the commendation, laid out for
    print (the browser's print, or a PDF)."""
    if fmt not in ("html", "pdf"):
        raise Http404
    ctx = _context(request)
    ctx["today"] = timezone.localdate()
    ctx["title"] = _("关于%(y)s年度%(c)s考核情况的通报") % {"y": ctx["year"], "c": ctx["campaign"].name}
    audit(
        actor=request.user,
        action="export.appraisal_circular",
        detail={"campaign": ctx["campaign"].slug, "year": ctx["year"], "region": ctx["region"].code, "fmt": fmt},
        ip=client_ip(request),
    )
    if fmt == "pdf":
        from weasyprint import HTML

        html = render_to_string("reports/appraisal/circular.html", {**ctx, "pdf": True}, request=request)
        response = HttpResponse(HTML(string=html, base_url=None).write_pdf(), content_type="application/pdf")
        name = f"appraisal-{ctx['campaign'].slug}-{ctx['year']}-{ctx['region'].code}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "reports/appraisal/circular.html", ctx)


FIELDS = [
    *appraisal.REGION_WEIGHTS,
    *appraisal.DEPT_WEIGHTS,
    "deviation_zero",
    "commend_regions",
    "commend_units",
]


@login_required
def scheme(request):
    access.require(access.can_appraise(request.user))
    campaign = campaign_selectors.pick_campaign(
        request.user, request.GET.get("campaign") or request.POST.get("campaign")
    )
    access.require(appraisal.can_set_scheme(request.user, campaign))
    current = appraisal.scheme_for(campaign)
    errors, values = [], {f: getattr(current, f) for f in FIELDS}
    status = 200
    if request.method == "POST":
        values = {f: request.POST.get(f, "") for f in FIELDS}
        try:
            appraisal.scheme_set(campaign=campaign, by=request.user, **values)
        except ServiceError as exc:
            errors = [
                f"{current._meta.get_field(k).verbose_name if k in FIELDS else ''}{'：' if k in FIELDS else ''}{m}"
                for k, ms in exc.message_dict.items()
                for m in ms
            ]
            status = 400
        else:
            messages.success(request, _("已保存考核方案。"))
            return redirect(f"{reverse('reports:appraisal')}?campaign={campaign.slug}")
    labels = [(f, current._meta.get_field(f).verbose_name, values[f]) for f in FIELDS]
    return render(
        request,
        "reports/appraisal/scheme.html",
        {"campaign": campaign, "fields": labels, "errors": errors},
        status=status,
    )

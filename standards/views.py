"""年度与目标: the staff who run a campaign open its next year and set a year's targets
here, without the Django admin (standards.services does the writing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanling.kernel.errors import ServiceError
from units import access
from units.audit import client_ip
from units.models import Category

from . import services
from .selectors import campaigns_for, pick_campaign, pick_year, targets_for


def _campaign(request, slug: str):
    campaign = campaigns_for(request.user).filter(slug=slug).first()
    if campaign is None or not services.can_run(request.user, campaign):
        raise Http404
    return campaign


@login_required
def campaign_years(request, slug: str | None = None):
    if slug is None:
        campaign = pick_campaign(request.user, request.GET.get("campaign"))
        return redirect("campaigns:years", slug=campaign.slug)
    campaign = _campaign(request, slug)
    year = pick_year(campaign, request.GET.get("year"))
    effective = targets_for(campaign, year).select_related("region").order_by("region__code", "category")
    names = dict(Category.choices)
    rows = [
        {"region": t.region, "category": names.get(t.category, t.category), "rate": t.rate, "set_in": t.year}
        for t in effective
    ]
    errors = request.session.pop("targets_errors", None)
    return render(
        request,
        "standards/years.html",
        {
            "campaign": campaign,
            "campaigns": [c for c in campaigns_for(request.user) if services.can_run(request.user, c)],
            "year": year,
            "rows": rows,
            "next_year": campaign.last_year + 1,
            "categories": [(c, names.get(c, c)) for c in campaign.categories],
            "errors": errors,
        },
    )


@login_required
@require_POST
def year_open(request, slug: str):
    campaign = _campaign(request, slug)
    try:
        year = int(request.POST.get("year", ""))
        services.campaign_year_open(campaign=campaign, year=year, by=request.user, ip=client_ip(request))
    except ValueError:
        messages.error(request, _("年度必须是数字。"))
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        raise Http404 from exc
    else:
        messages.success(request, _("已开启 %(y)s 年度；目标未设置的沿用上一年度。") % {"y": year})
        return redirect(reverse("campaigns:years", args=[campaign.slug]) + f"?year={year}")
    return redirect("campaigns:years", slug=campaign.slug)


@login_required
@require_POST
def targets_save(request, slug: str):
    campaign = _campaign(request, slug)
    year_raw = request.POST.get("year", "")
    code = request.POST.get("region", "").strip() or campaign.scope.code
    region = access.current_regions(request.user).filter(code=code).first()  # can_run: the scope is among them
    back = reverse("campaigns:years", args=[campaign.slug]) + f"?year={year_raw}"
    if region is None:
        messages.error(request, _("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": code})
        return redirect(back)
    try:
        services.targets_set(
            campaign=campaign,
            year=int(year_raw),
            region=region,
            rates={c: request.POST.get(f"rate_{c}", "") for c in campaign.categories},
            by=request.user,
            ip=client_ip(request),
        )
    except ValueError:
        messages.error(request, _("年度必须是数字。"))
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        raise Http404 from exc
    else:
        messages.success(request, _("已保存 %(r)s %(y)s 年度目标，正在重算。") % {"r": region.name, "y": year_raw})
    return redirect(back)

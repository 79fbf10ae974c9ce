"""Pages of the official result: the list of closed years (and closing one), a result —
its notice list (公示, printable), appeals, amendments, revocations (摘牌), verification
and publication (发文命名) — and its published PDF and XLSX. Each page calls one service
or selector of reports.results; the rows shown are the user's jurisdiction's."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanling.kernel import exports as table_exports
from standards import selectors as campaign_selectors
from units import access
from units.audit import audit, client_ip

from . import attainment, official, results
from .models import AppealStatus, ResultStatus

SHOWN = 5000  # rows on the page; the XLSX has them all


def _show(request, exc):
    for m in getattr(exc, "messages", [str(exc)]):
        messages.error(request, m)


@login_required
def result_list(request):
    """Every closed year of the campaigns that concern the user; the campaign's level
    closes one here (with what still waits, per township)."""
    access.require(access.can_see_dashboards(request.user))
    campaigns = campaign_selectors.campaigns_for(request.user)
    closing = [c for c in campaigns if access.acts_for_campaign(request.user, c.scope_id)]
    if request.method == "POST":
        campaign = next((c for c in closing if c.slug == request.POST.get("campaign")), None)
        if campaign is None:
            raise Http404
        try:
            result = results.result_close(
                campaign=campaign,
                year=request.POST.get("year"),
                notice_days=request.POST.get("notice_days", "7"),
                count_pending=request.POST.get("count_pending") == "1",
                by=request.user,
                ip=client_ip(request),
            )
        except (results.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
            return redirect("reports:results")
        messages.success(request, _("已锁定 %(y)s 年度结果，进入公示。") % {"y": result.year})
        return redirect("reports:result", pk=result.pk)
    closed = {(r.campaign_id, r.year): r for r in results.results_for(request.user)}
    rows = [
        {"campaign": c, "year": y, "result": closed.get((c.pk, y)), "may_close": c in closing}
        for c in campaigns
        for y in reversed(c.years)
    ]
    pending = {
        (c.pk, y): results.pending_by_township(c, y) for c in closing for y in c.years if (c.pk, y) not in closed
    }
    for row in rows:
        row["pending"] = pending.get((row["campaign"].pk, row["year"]), [])
        row["pending_n"] = sum(p["n"] for p in row["pending"])
    return render(request, "reports/results/list.html", {"rows": rows})


@login_required
def result_detail(request, pk: int):
    result = results.result_for(request.user, pk)
    current = results.current_unit_rows(request.user, result)
    counts = {"named": current.filter(attained=True).count(), "all": current.count()}
    rows = list(current.order_by("township_code", "unit_code")[:SHOWN])
    names = dict(result.region_rows.values_list("region_id", "region_name"))
    for r in rows:
        r.township_name = names.get(r.township_code, r.township_code)
        r.failed_labels = [str(attainment.CONDITION_LABELS.get(c, c)) for c in r.failed_conditions]
    named = [r for r in rows if r.attained]
    amendments = list(
        results.unit_rows(request.user, result).filter(appeal__isnull=False).select_related("appeal", "amends")
    )
    appeals = list(
        access.scope(request.user, result.appeals.select_related("unit__township", "filed_by", "decided_by"))
    )
    revocations = list(access.scope(request.user, result.revocations.select_related("unit")))
    decide = access.acts_for_campaign(request.user, result.campaign.scope_id)
    appealed = {a.unit_id for a in result.appeals.all()}
    may_appeal = results.in_notice(result) and access.can_self_assess(request.user)
    for r in rows:
        r.may_appeal = may_appeal and r.unit_id not in appealed
    revoked = {rev.unit_id: rev for rev in revocations if rev.lifted_on is None}
    for r in named:
        r.revocation = revoked.get(r.unit_id)
    return render(
        request,
        "reports/results/detail.html",
        {
            "result": result,
            "rows": rows,
            "named": named,
            "counts": counts,
            "figures": results.figures_for(request.user, result),
            "whole_list": whole_list(request.user, result),
            "shown": SHOWN,
            "amendments": amendments,
            "appeals": appeals,
            "revocations": revocations,
            "decide": decide,
            "in_notice": results.in_notice(result),
            "notice_last_day": result.notice_ends_on - dt.timedelta(days=1),
            "blocking": results.open_appeals(result) if decide and result.status == ResultStatus.NOTICE else [],
            "may_publish": decide
            and result.status == ResultStatus.NOTICE
            and timezone.localdate() >= result.notice_ends_on,
            "regions": results.current_region_rows(
                result, access.scope_regions(request.user, result.region_rows.all())
            ).order_by("region_id", "category")[:500],
            "fell": results.fell_since_previous(result),
            "AppealStatus": AppealStatus,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def appeal_file(request, pk: int):
    result = results.result_for(request.user, pk)
    unit = access.unit_for(request.user, request.POST.get("unit"))
    try:
        results.appeal_file(
            result=result,
            unit=unit,
            reason=request.POST.get("reason", ""),
            upload=request.FILES.get("evidence"),
            by=request.user,
            ip=client_ip(request),
        )
    except (results.ServiceError, PermissionDenied) as exc:
        _show(request, exc)
    else:
        messages.success(request, _("已提交“%(u)s”的申诉。") % {"u": unit.name})
    return redirect("reports:result", pk=result.pk)


@login_required
@require_POST
def appeal_decide(request, pk: int):
    appeal = results.appeal_for(request.user, pk)
    try:
        results.appeal_decide(
            appeal=appeal,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
            by=request.user,
            ip=client_ip(request),
        )
    except (results.ServiceError, PermissionDenied) as exc:
        _show(request, exc)
    else:
        messages.success(request, _("已处理“%(u)s”的申诉。") % {"u": appeal.unit.name})
    return redirect("reports:result", pk=appeal.result_id)


@login_required
@require_POST
def publish(request, pk: int):
    result = results.result_for(request.user, pk)
    try:
        results.result_publish(
            result=result,
            document_number=request.POST.get("document_number", ""),
            issued_on=request.POST.get("issued_on", ""),
            issuer=request.POST.get("issuer", ""),
            by=request.user,
            ip=client_ip(request),
        )
    except (results.ServiceError, PermissionDenied) as exc:
        _show(request, exc)
    else:
        messages.success(request, _("已发文命名。"))
    return redirect("reports:result", pk=result.pk)


@login_required
def verify(request, pk: int):
    result = results.result_for(request.user, pk)
    check = results.verify(result)
    template = "reports/results/_verify.html" if request.headers.get("HX-Request") else "reports/results/verify.html"
    return render(request, template, {"result": result, "check": check})


@login_required
def official_pdf(request, pk: int):
    """The PDF as published (stored at publication with its SHA-256), never re-rendered."""
    result = results.result_for(request.user, pk)
    # the whole named list: for whom the whole campaign is within their jurisdiction (the
    # others have their part of it as XLSX, and the page)
    if result.status != ResultStatus.PUBLISHED or not result.pdf or not whole_list(request.user, result):
        raise Http404
    audit(actor=request.user, action="export.official_pdf", target=result, ip=client_ip(request))
    return FileResponse(
        result.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{result.campaign.slug}-{result.year}-{result.document_number}.pdf",
    )


def whole_list(user, result) -> bool:
    return access.can_see_region(user, result.campaign.scope)


@login_required
def appeal_evidence(request, pk: int):
    """An appeal's file, for its township and the levels above (the one who decides)."""
    appeal = results.appeal_for(request.user, pk)
    if not appeal.evidence:
        raise Http404
    return FileResponse(appeal.evidence.open("rb"), as_attachment=True, filename=appeal.evidence_name or "evidence")


@login_required
def named_xlsx(request, pk: int):
    """The named list of the user's jurisdiction (the whole list for the campaign level)."""
    result = results.result_for(request.user, pk)
    rows = official.named_rows(result, request.user)
    names = dict(result.region_rows.values_list("region_id", "region_name"))
    grades = dict(official.Grade.choices)
    revoked = set(result.revocations.filter(lifted_on__isnull=True).values_list("unit_id", flat=True))
    audit(actor=request.user, action="export.named_list", target=result, ip=client_ip(request))
    return table_exports.table_response(
        fmt="xlsx",
        filename=f"命名名单_{result.campaign.slug}_{result.year}",
        title=_("命名名单"),
        header=[_("县（市、区）"), _("乡镇/街道"), _("单位代码"), _("单位名称"), _("达标等级"), _("摘牌")],
        rows=(
            [
                names.get(r.township_code[:6].ljust(12, "0"), ""),
                names.get(r.township_code, r.township_code),
                r.unit_code,
                r.unit_name,
                str(grades.get(r.grade, "")),
                _("已摘牌") if r.unit_id in revoked else "",
            ]
            for r in rows.iterator()
        ),
    )

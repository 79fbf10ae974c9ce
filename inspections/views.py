from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from standards.models import Campaign
from units import access

from . import evidence as evidence_files
from . import selectors, services
from .models import Evidence, Status


def _show(request, exc):
    for m in getattr(exc, "messages", [str(exc)]):
        messages.error(request, m)


@login_required
def worklist(request):
    campaign, year = selectors.pick(request.user, request.GET.get("campaign"), request.GET.get("year"))
    rows = selectors.worklist(user=request.user, campaign=campaign, year=year)
    from reports.selectors import campaigns_for

    return render(
        request,
        "inspections/worklist.html",
        {
            "campaign": campaign,
            "year": year,
            "rows": rows,
            "campaigns": campaigns_for(request.user),
            "can_assess": access.can_self_assess(request.user),
        },
    )


@login_required
@require_POST
def start(request):
    unit = access.unit_for(request.user, request.POST.get("unit"))
    campaign = get_object_or_404(Campaign, slug=request.POST.get("campaign"))
    try:
        a = services.assessment_start(
            unit=unit, campaign=campaign, year=int(request.POST.get("year", 0)), by=request.user
        )
    except (services.ServiceError, PermissionDenied, ValueError) as exc:
        _show(request, exc)
        return redirect(reverse("inspections:worklist") + f"?campaign={campaign.slug}")
    return redirect("inspections:entry", pk=a.pk)


def _grouped(a, posted=None):
    """Scores grouped by area; after a refused save, what the user typed is shown again."""
    areas = []
    for score in a.scores.select_related("item__area").prefetch_related("evidence").order_by("item__order"):
        score.shown = (
            posted.get(f"score_{score.item_id}", "")
            if posted
            else ("" if score.self_score is None else score.self_score)
        )
        score.shown_note = posted.get(f"note_{score.item_id}", "") if posted else score.note
        if not areas or areas[-1]["area"].pk != score.item.area_id:
            areas.append({"area": score.item.area, "scores": []})
        areas[-1]["scores"].append(score)
    return areas


@login_required
def entry(request, pk: int):
    a = services.for_user(request.user, pk)
    if request.method == "POST":
        access.require(access.can_self_assess(request.user))
        scores = {
            s.item_id: (request.POST.get(f"score_{s.item_id}"), request.POST.get(f"note_{s.item_id}", ""))
            for s in a.scores.all()
        }
        uploads = [
            (int(key.removeprefix("evidence_")), f)
            for key in request.FILES
            if key.startswith("evidence_")
            for f in request.FILES.getlist(key)
        ]
        try:
            # Scores, files and the submit stand or fall together: a refused file or a
            # refused submit leaves nothing of this request stored.
            with transaction.atomic():
                for _item, f in uploads:
                    services.check_evidence(f)
                a = services.assessment_save_scores(
                    assessment=a, scores=scores, by=request.user, lock_version=request.POST.get("lock_version", -1)
                )
                for item_id, f in uploads:
                    services.evidence_add(assessment=a, item_id=item_id, upload=f, by=request.user)
                if request.POST.get("action") == "submit":
                    services.assessment_submit(assessment=a, by=request.user)
            if request.POST.get("action") == "submit":
                messages.success(request, _("已提交，等待县级审核。"))
                return redirect("inspections:detail", pk=a.pk)
            messages.success(request, _("草稿已保存。"))
            return redirect("inspections:entry", pk=a.pk)
        except (services.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
            a = services.for_user(request.user, pk)
            return render(
                request,
                "inspections/entry.html",
                {
                    "a": a,
                    "areas": _grouped(a, request.POST),
                    "lock_version": request.POST.get("lock_version"),
                    "editable": a.editable,
                },
                status=400,
            )
    return render(
        request,
        "inspections/entry.html",
        {
            "a": a,
            "areas": _grouped(a),
            "lock_version": a.lock_version,
            "editable": a.editable and access.can_self_assess(request.user),
        },
    )


@login_required
def queue(request):
    access.require(access.can_review(request.user) or access.is_staff_reader(request.user))
    return render(
        request,
        "inspections/queue.html",
        {"assessments": selectors.review_queue(user=request.user)[:500], "can_review": access.can_review(request.user)},
    )


@login_required
def review(request, pk: int):
    access.require(access.can_review(request.user))
    a = services.for_user(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                adjusted = {
                    s.item_id: (
                        request.POST.get(f"review_{s.item_id}"),
                        request.POST.get(f"review_note_{s.item_id}", ""),
                    )
                    for s in a.scores.all()
                }
                with transaction.atomic():
                    a = services.assessment_save_scores(
                        assessment=a,
                        scores=adjusted,
                        reviewer=True,
                        by=request.user,
                        lock_version=request.POST.get("lock_version", -1),
                    )
                    services.assessment_approve(assessment=a, by=request.user)
                messages.success(request, _("已审核通过。"))
            elif action == "return":
                services.assessment_return(assessment=a, reason=request.POST.get("reason", ""), by=request.user)
                messages.success(request, _("已退回，并通知填报人修改。"))
            else:
                raise Http404
            return redirect("inspections:queue")
        except (services.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
            a = services.for_user(request.user, pk)
    return render(request, "inspections/review.html", {"a": a, "areas": _grouped(a)})


@login_required
def detail(request, pk: int):
    a = services.for_user(request.user, pk)
    return render(
        request,
        "inspections/detail.html",
        {
            "a": a,
            "areas": _grouped(a),
            "history": selectors.history(a),
            "can_review": access.can_review(request.user) and a.status == Status.SUBMITTED,
            "can_edit": access.can_self_assess(request.user) and a.editable,
        },
    )


@login_required
def evidence_download(request, pk: int):
    ev = access.object_for(request.user, Evidence.objects.all(), pk, unit_field="score__assessment__unit")
    return evidence_files.attachment(ev)

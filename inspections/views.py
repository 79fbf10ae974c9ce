from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from standards import selectors as campaign_selectors
from standards.models import Campaign
from units import access

from . import evidence as evidence_files
from . import scoring, selectors, services, workflow
from .models import REVIEW_LEVEL_CHOICES, Evidence, Incident, Status


def _show(request, exc):
    for m in getattr(exc, "messages", [str(exc)]):
        messages.error(request, m)


@login_required
def worklist(request):
    from django.core.paginator import Paginator

    campaign, year = selectors.pick(request.user, request.GET.get("campaign"), request.GET.get("year"))
    state, q = request.GET.get("state", ""), request.GET.get("q", "").strip()[:50]
    region = request.GET.get("region", "")
    region = region if region.isdigit() and access.can_see_region(request.user, region) else ""
    units = selectors.worklist_units(user=request.user, campaign=campaign, year=year, state=state, q=q, region=region)
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    rows = selectors.worklist(units=page.object_list, campaign=campaign, year=year)
    for unit, a in rows:
        if a is not None:
            a.unit = unit  # loaded already: the actions need the unit's township
            a.actions = workflow.assessment_actions(a, request.user)
    return render(
        request,
        "inspections/worklist.html",
        {
            "campaign": campaign,
            "year": year,
            "rows": rows,
            "page": page,
            "state": state,
            "q": q,
            "states": [("not_started", _("未开始")), *[(s, Status(s).label) for s in selectors.WORKLIST_STATES[1:]]],
            "campaigns": campaign_selectors.campaigns_for(request.user),
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
    levels = a.campaign.review_levels
    for score in (
        a.scores.select_related("item__area").prefetch_related("evidence", "level_scores").order_by("item__order")
    ):
        by_level = {ls.level: ls for ls in score.level_scores.all()}
        score.levels = [by_level.get(lv) for lv in levels]
        score.mine = by_level.get(a.deciding_level) if a.review_level else None
        score.shown = (
            posted.get(f"score_{score.item_id}", "")
            if posted
            else ("" if score.self_score is None else score.self_score)
        )
        score.shown_note = posted.get(f"note_{score.item_id}", "") if posted else score.note
        if score.item.measured:
            if posted:
                score.shown_num = posted.get(f"num_{score.item_id}", "")
                score.shown_den = posted.get(f"den_{score.item_id}", "")
            else:
                score.shown_num = "" if score.numerator is None else f"{score.numerator.normalize():f}"
                score.shown_den = "" if score.denominator is None else f"{score.denominator.normalize():f}"
            if score.numerator is not None and score.denominator:
                score.measured_value = scoring.measure(score.item, score.numerator, score.denominator)[0]
        if not areas or areas[-1]["area"].pk != score.item.area_id:
            areas.append({"area": score.item.area, "scores": []})
        areas[-1]["scores"].append(score)
    return areas


def _uploads(request) -> list[tuple[int, object]]:
    out = []
    for key in request.FILES:
        if key.startswith("evidence_"):
            try:
                item_id = int(key.removeprefix("evidence_"))
            except ValueError:
                continue
            out.extend((item_id, f) for f in request.FILES.getlist(key))
    return out


@login_required
def entry(request, pk: int):
    a = services.for_user(request.user, pk)
    if request.method == "POST":
        access.require(access.can_self_assess(request.user))
        scores = {
            s.item_id: (
                request.POST.get(f"score_{s.item_id}"),
                request.POST.get(f"note_{s.item_id}", ""),
                (request.POST.get(f"num_{s.item_id}"), request.POST.get(f"den_{s.item_id}")),
            )
            for s in a.scores.all()
        }
        submit = request.POST.get("action") == "submit"
        try:
            a = services.assessment_save(
                assessment=a,
                scores=scores,
                uploads=_uploads(request),
                submit=submit,
                by=request.user,
                lock_version=request.POST.get("lock_version", -1),
            )
        except (services.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
            a = services.for_user(request.user, pk)
            return render(
                request,
                "inspections/entry.html",
                {
                    "a": a,
                    "areas": (areas := _grouped(a, request.POST)),
                    "adjusted": any(ls for g in areas for s in g["scores"] for ls in s.levels),
                    "lock_version": request.POST.get("lock_version"),
                    "actions": workflow.assessment_actions(a, request.user),
                    "previewable": evidence_files.PREVIEWABLE,
                },
                status=400,
            )
        if submit:
            messages.success(
                request, _("已提交，等待%(level)s审核。") % {"level": dict(REVIEW_LEVEL_CHOICES)[a.review_level]}
            )
            return redirect("inspections:detail", pk=a.pk)
        messages.success(request, _("草稿已保存。"))
        return redirect("inspections:entry", pk=a.pk)
    return render(
        request,
        "inspections/entry.html",
        {
            "a": a,
            "areas": (areas := _grouped(a)),
            "adjusted": any(ls for g in areas for s in g["scores"] for ls in s.levels),
            "lock_version": a.lock_version,
            "actions": workflow.assessment_actions(a, request.user),
            "previewable": evidence_files.PREVIEWABLE,
        },
    )


@login_required
def queue(request):
    """What waits for the user's level, oldest first, with the counts per township; the
    unadjusted ones can be approved together with one confirmation."""
    access.require(access.can_see_review_queue(request.user))
    from django.core.paginator import Paginator

    queue = selectors.review_queue(user=request.user)
    township = request.GET.get("township", "")
    page = Paginator(queue.filter(unit__township_id=township) if township else queue, 100).get_page(
        request.GET.get("page")
    )
    shown = list(page.object_list)
    unadjusted = selectors.unadjusted(shown)
    for a in shown:
        a.unadjusted = a.pk in unadjusted
        a.may_approve = "approve" in workflow.assessment_actions(a, request.user)
    level = access.review_level_of(request.user)
    return render(
        request,
        "inspections/queue.html",
        {
            "assessments": shown,
            "page": page,
            "townships": selectors.queue_by_township(queue),
            "township": township,
            "level_label": dict(REVIEW_LEVEL_CHOICES).get(level, "") if level else "",
            "bulk": any(a.may_approve and a.unadjusted for a in shown),
        },
    )


@login_required
@require_POST
def bulk_approve(request):
    access.require(access.can_review(request.user))
    try:
        done = services.assessment_approve_many(
            ids=request.POST.getlist("ids"), confirmed=request.POST.get("confirm") == "1", by=request.user
        )
    except (services.ServiceError, PermissionDenied) as exc:
        _show(request, exc)
    else:
        messages.success(request, _("已批量审核通过 %(n)s 份自评。") % {"n": len(done)})
    return redirect("inspections:queue")


@login_required
def review(request, pk: int):
    access.require(access.can_review(request.user))
    a = services.for_user(request.user, pk)
    if request.method == "POST":
        decision = request.POST.get("action")
        if decision not in ("approve", "return"):
            raise Http404
        adjusted = {
            s.item_id: (request.POST.get(f"review_{s.item_id}"), request.POST.get(f"review_note_{s.item_id}", ""))
            for s in a.scores.all()
        }
        try:
            a = services.assessment_review(
                assessment=a,
                decision=decision,
                adjusted=adjusted,
                reason=request.POST.get("reason", ""),
                lock_version=request.POST.get("lock_version", -1),
                by=request.user,
            )
        except (services.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
            a = services.for_user(request.user, pk)
        else:
            if decision == "return":
                messages.success(request, _("已退回，并通知填报人修改。"))
            elif a.status == "submitted":
                label = dict(REVIEW_LEVEL_CHOICES)[a.review_level]
                messages.success(request, _("已审核通过，报%(level)s审核。") % {"level": label})
            else:
                messages.success(request, _("已审核通过。"))
            return redirect("inspections:queue")
    return render(
        request,
        "inspections/review.html",
        {
            "a": a,
            "areas": _grouped(a),
            "actions": workflow.assessment_actions(a, request.user),
            "previewable": evidence_files.PREVIEWABLE,
            # the reviewer sees what else concerns the unit's year: its incidents
            "incidents": Incident.objects.filter(unit=a.unit, occurred_on__year=a.year).order_by("occurred_on"),
        },
    )


@login_required
def detail(request, pk: int):
    a = services.for_user(request.user, pk)
    return render(
        request,
        "inspections/detail.html",
        {
            "a": a,
            "areas": _grouped(a),
            "decisions": selectors.decisions(a),
            "history": selectors.history(a),
            "actions": workflow.assessment_actions(a, request.user),
            "previewable": evidence_files.PREVIEWABLE,
        },
    )


@login_required
def evidence_download(request, pk: int):
    ev = access.object_for(request.user, Evidence.objects.all(), pk, unit_field="score__assessment__unit")
    return evidence_files.attachment(ev, preview=request.GET.get("preview") == "1")


@login_required
@require_POST
def evidence_remove(request, pk: int):
    """删除 a wrong file before submitting (the same service checks role, state and jurisdiction)."""
    ev = access.object_for(
        request.user, Evidence.objects.select_related("score__assessment"), pk, unit_field="score__assessment__unit"
    )
    try:
        services.evidence_remove(evidence=ev, by=request.user)
    except PermissionDenied as exc:
        raise Http404 from exc
    except services.ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已删除佐证材料“%(f)s”。") % {"f": ev.original_name})
    return redirect("inspections:entry", ev.score.assessment_id)


# --- zeros that are conditions (零盲区) ------------------------------------------------


@login_required
def conditions(request):
    """The units of the user's jurisdiction in a campaign with conditions, each with its
    condition for the year: the township confirms with evidence, a spot check revokes."""
    from django.core.paginator import Paginator

    from . import conditions as condition_services
    from .models import UnitCondition

    with_conditions = campaign_selectors.campaigns_with_conditions(request.user)
    if not with_conditions:
        raise Http404
    slug = request.GET.get("campaign") or request.POST.get("campaign")
    campaign = next((c for c in with_conditions if c.slug == slug), with_conditions[0])
    year = campaign_selectors.pick_year(campaign, request.GET.get("year") or request.POST.get("year"))
    if request.method == "POST" and str(year) != request.POST.get("year", ""):
        messages.error(
            request, _("年度“%(y)s”不在“%(c)s”之内。") % {"y": request.POST.get("year", ""), "c": campaign.name}
        )
        return redirect(f"{reverse('inspections:conditions')}?campaign={campaign.slug}")
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                condition_services.condition_revoke(
                    condition=request.POST.get("revoke", ""), reason=request.POST.get("reason", ""), by=request.user
                )
                messages.success(request, _("已撤销。"))
            else:
                unit = access.unit_for(request.user, request.POST.get("unit"))
                condition_services.condition_confirm(
                    unit=unit,
                    kind=request.POST.get("kind", ""),
                    year=year,
                    uploads=request.FILES.getlist("file"),
                    note=request.POST.get("note", ""),
                    by=request.user,
                )
                messages.success(request, _("已确认“%(u)s”的“零”条件。") % {"u": unit.name})
        except (services.ServiceError, PermissionDenied) as exc:
            _show(request, exc)
        return redirect(f"{reverse('inspections:conditions')}?campaign={campaign.slug}&year={year}")
    units = access.visible_units(request.user).filter(campaign.unit_q()).select_related("township").order_by("code")
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    held = {
        (c.unit_id, c.kind): c
        for c in UnitCondition.objects.filter(unit__in=list(page.object_list), year=year).prefetch_related("evidence")
    }
    from standards.models import ConditionKind

    labels = dict(ConditionKind.choices)
    rows = [
        {
            "unit": u,
            "conditions": [(kind, labels.get(kind, kind), held.get((u.id, kind))) for kind in campaign.conditions],
        }
        for u in page.object_list
    ]

    return render(
        request,
        "inspections/conditions.html",
        {
            "campaign": campaign,
            "year": year,
            "campaigns": with_conditions,
            "rows": rows,
            "page": page,
            "may_confirm": access.is_township_officer(request.user) or access.can_judge_incident(request.user),
            "may_revoke": access.can_inspect(request.user),
        },
    )


@login_required
def condition_evidence(request, pk: int):
    from .models import ConditionEvidence

    return evidence_files.attachment(
        access.object_for(request.user, ConditionEvidence.objects.all(), pk, unit_field="condition__unit")
    )

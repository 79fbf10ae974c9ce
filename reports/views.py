from urllib.parse import urlencode

from celery.result import AsyncResult
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inspections import region_indicators
from sanling.kernel import exports as table_exports
from sanling.kernel.errors import ServiceError
from sanling.kernel.replica import reads_from_replica
from standards import selectors as campaign_selectors
from standards.models import Campaign
from units import access, history
from units.audit import audit, client_ip
from units.models import Category, Level, Region, Unit, UnitKind

from . import attainment, exports, selectors, services

SCREEN_REFRESH_SECONDS = 60  # the big screen asks the API again every minute


def _context(request):
    campaign = campaign_selectors.pick_campaign(request.user, request.GET.get("campaign"))
    year = campaign_selectors.pick_year(campaign, request.GET.get("year"))
    region = selectors.dashboard_region(request.user, campaign, request.GET.get("region"))
    return campaign, year, region


def _ancestors(user, campaign, region, year) -> list[dict]:
    """The breadcrumb above the region: each ancestor the user may see, under its name of
    that year."""
    regions = [
        a
        for a in Region.objects.filter(code__in=region.ancestor_codes()[1:]).order_by("code")
        if access.can_see_region(user, a) and campaign.covers_region(a.code)
    ]
    labels = history.labels_on(regions, history.year_end(year))
    return [{"code": a.code, "name": labels[a.code]["name"]} for a in regions]


def _qs(campaign, year, region=None, **extra):
    params = {"campaign": campaign.slug, "year": year}
    if region is not None:
        params["region"] = region.code
    params.update(extra)
    return "?" + urlencode(params)


def _map(campaign, year, region, children, task_rows) -> dict | None:
    """The map of the child regions (挂图作战): where the shapes are, the figures per child
    (the dashboard's own rows, with their tasks), the link to a child's dashboard, and
    the words the page's script shows. None where no shapes are shipped."""
    shapes = selectors.map_shapes(region)
    if shapes is None:
        return None
    return {
        "shapes": static(shapes),
        "href": reverse("reports:dashboard") + _qs(campaign, year) + "&region=",
        "rows": selectors.map_rows(children, task_rows),
        "labels": _map_labels(),
    }


def _map_labels() -> dict:
    """The words of static/js/map.js (the dashboard's map and the big screen's)."""
    return {
        "rate": _("达标率"),
        "target": _("目标"),
        "gap": _("差距"),
        "points": _("个百分点"),
        "units": _("个单位"),
        "open": _("未销号整改任务"),
        "overdue": _("逾期整改任务"),
        "met": _("达到目标"),
        "near": _("距目标 5 个百分点以内"),
        "far": _("距目标超过 5 个百分点"),
        "none": _("无数据或未设目标"),
        "schematic": _("示意图"),
    }


@login_required
@reads_from_replica
def dashboard(request):
    access.require(access.can_see_dashboards(request.user))
    campaign, year, region = _context(request)
    cards = selectors.region_rows(campaign, year, region)
    children = selectors.children_rows(campaign, year, region)
    names = {ch["region"].code: ch["name"] for ch in children}
    cats = campaign.categories
    closed = selectors.closed_results(campaign)
    task_rows = selectors.child_task_counts(request.user, region)
    chart = {
        "categories": {c: str(dict(_category_labels()).get(c, c)) for c in cats},
        "children": [
            {
                "name": ch["name"],
                "code": ch["region"].code,
                **{
                    c: _pct(ch["rows"][c].rate) if ch["rows"].get(c) and ch["rows"][c].total_units else None
                    for c in cats
                },
                **{
                    f"{c}_target": _pct(ch["rows"][c].target_rate)
                    if ch["rows"].get(c) and ch["rows"][c].target_rate is not None
                    else None
                    for c in cats
                },
            }
            for ch in children
        ],
        "trend": selectors.trend(campaign, region, closed),
        "kinds": _kind_split(cards),
        "labels": {"units": _("单位数"), "attained": _("达标数"), "target": _("目标"), "official": _("（官方）")},
        "map": _map(campaign, year, region, children, task_rows),
    }
    ancestors = _ancestors(request.user, campaign, region, year)
    state = selectors.state(campaign, year)
    # the closed year's official figures beside the live ones, and where they fell
    official = selectors.official(campaign, year, [region, *[ch["region"] for ch in children]], closed)
    for row in cards.values():
        row.official = official["rows"].get((region.code, row.category))
        row.fell = (region.code, row.category) in official["fell"]
    for ch in children:
        ch["fell"] = [c for c in cats if (ch["region"].code, c) in official["fell"]]
    return render(
        request,
        "reports/dashboard.html",
        {
            "campaign": campaign,
            "year": year,
            "region": region,
            "cards": [cards.get(c) for c in cats],
            "official": official,
            "era": selectors.era(request.user, region, year),
            "names": names,
            "children": children,
            "cats": cats,
            "chart": chart,
            "ancestors": ancestors,
            "laggards": {c: selectors.laggards(children, c) for c in cats},
            "state": state,
            "campaigns": campaign_selectors.campaigns_for(request.user),
            "qs": _qs(campaign, year, region),
            "qs_base": _qs(campaign, year),
            "is_township": region.level == Level.TOWNSHIP,
            "can_recompute": access.is_staff_reader(request.user),
            "child_level": selectors.child_level(region.level),
            "tasks": selectors.task_totals(task_rows),
            "region_indicators": region_indicators.latest(campaign, region, year),
        },
    )


@login_required
@reads_from_replica
def screen(request):
    """大屏: the command centre's full screen (1920×1080) of a region — key figures, the
    map, the trend, laggards and overdue tasks — which asks the API (`api:screen`,
    scoped like the dashboard) again every `refresh` seconds. Staff and API-client
    accounts; no menu."""
    user = request.user
    access.require(access.can_see_dashboards(user) or access.is_api_client(user))
    campaign, year, region = _context(request)
    raw = request.GET.get("refresh", "")
    refresh = min(max(int(raw), 5), 3600) if raw.isdigit() else SCREEN_REFRESH_SECONDS
    params = {"campaign": campaign.slug, "year": year, "region": region.code}
    config = {
        "api": reverse("api:screen"),
        "params": params,
        "refresh": refresh,
        # a click on the map opens the child's screen
        "href": reverse("reports:screen") + _qs(campaign, year, refresh=refresh) + "&region=",
        "labels": {
            **_map_labels(),
            "met_badge": _("已完成"),
            "unmet_badge": _("未完成"),
            "no_target": _("未设目标"),
            "no_units": _("暂无此类单位"),
            "attained": _("达标"),
            "gap_units": _("还差"),
            "stale": _("数据暂不可用，显示的是上次取得的数据"),
            "nothing": _("无"),
        },
    }
    return render(
        request, "reports/screen.html", {"campaign": campaign, "year": year, "region": region, "config": config}
    )


@login_required
@require_POST
def region_indicator(request):
    """A region-level indicator's figures, entered by the region's staff (县级以上文明村镇
    创建率 …); back to the dashboard with the outcome."""
    from django.contrib import messages
    from django.shortcuts import redirect

    campaign = campaign_selectors.pick_campaign(request.user, request.POST.get("campaign"))
    raw_year = request.POST.get("year", "")
    year = int(raw_year) if raw_year.isdigit() else None
    region = access.region_for(request.user, request.POST.get("region", ""))
    if year is None or not campaign.covers_year(year):
        messages.error(request, services.year_error(campaign))
        return redirect(reverse("reports:dashboard") + _qs(campaign, campaign.end_year, region))
    raw = request.POST.get("indicator", "")
    ind = campaign.region_indicators.filter(pk=raw).first() if raw.isdigit() else None
    if ind is None:
        raise Http404
    try:
        region_indicators.region_indicator_record(
            indicator=ind,
            region=region,
            year=year,
            numerator=request.POST.get("numerator", ""),
            denominator=request.POST.get("denominator", ""),
            by=request.user,
        )
    except (ServiceError, PermissionDenied) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
    else:
        messages.success(request, _("已填报“%(i)s”。") % {"i": ind.name})
    return redirect(reverse("reports:dashboard") + _qs(campaign, year, region))


def _category_labels():
    return Category.choices


def _pct(rate):
    return None if rate is None else round(float(rate) * 100, 1)


def _kind_split(cards):
    labels = dict(UnitKind.choices)
    out = []
    for row in cards.values():
        for kind, (total, attained) in sorted(row.by_kind.items()):
            out.append({"kind": str(labels.get(kind, kind)), "total": total, "attained": attained})
    return out


@login_required
@reads_from_replica
def sector(request):
    """行业部门监管: a department's sector — the units of its kinds in its region — with
    their attainment by region and kind, and the sector's units of a township with their
    status. Department staff only; the figures come from the snapshot's split by kind."""
    access.require(access.is_department_staff(request.user))
    kinds = access.sector_kinds(request.user) or []
    campaign, year, region = _context(request)
    figures = selectors.sector_rows(campaign, year, region, kinds)
    labels = dict(UnitKind.choices)
    rows = []
    page = None
    if region.level == Level.TOWNSHIP:
        units = selectors.township_units(request.user, region, year)
        page = Paginator(units, 100).get_page(request.GET.get("page"))
        page_units = list(page.object_list)
        reasons = attainment.reasons_for_units(Unit.objects.filter(pk__in=[u.id for u in page_units]), campaign, year)
        rows = [{"unit": u, "reasons": reasons.get(u.id, []), "attained": not reasons.get(u.id)} for u in page_units]
    return render(
        request,
        "reports/sector.html",
        {
            "campaign": campaign,
            "year": year,
            "region": region,
            "campaigns": campaign_selectors.campaigns_for(request.user),
            "department": request.user.department,
            "kinds": [labels.get(k, k) for k in kinds],
            "kind_labels": labels,
            "figures": figures,
            "rows": rows,
            "page": page,
            "ancestors": _ancestors(request.user, campaign, region, year),
        },
    )


@login_required
@reads_from_replica
def township_units(request):
    """A township's unit ledger for a campaign-year: status and, when not attained, why."""
    access.require(access.can_see_dashboards(request.user))
    campaign, year, region = _context(request)
    access.require(region.level == Level.TOWNSHIP)
    units = selectors.township_units(request.user, region, year)
    show = request.GET.get("show", "")
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    page_units = list(page.object_list)
    ids = [u.id for u in page_units]
    reasons = attainment.reasons_for_units(units.model.objects.filter(pk__in=ids), campaign, year)
    rows = [{"unit": u, "reasons": reasons.get(u.id, []), "attained": not reasons.get(u.id)} for u in page_units]
    if show == "not":
        rows = [r for r in rows if not r["attained"]]
    ancestors = _ancestors(request.user, campaign, region, year)
    return render(
        request,
        "reports/township_units.html",
        {
            "campaign": campaign,
            "year": year,
            "region": region,
            "rows": rows,
            "page": page,
            "qs": _qs(campaign, year, region),
            "ancestors": ancestors,
            "era": selectors.era(request.user, region, year),
            "show": show,
        },
    )


@login_required
@reads_from_replica
def unit_status(request, unit_id: int):
    unit = access.unit_for(request.user, unit_id)
    statuses = []
    grades = dict(attainment.Grade.choices)
    for c in Campaign.objects.covering(unit):
        for y in reversed(c.years):
            reasons = attainment.reasons_for(unit, c, y)
            grade = (
                "" if reasons else attainment.grades_for_units(Unit.objects.filter(pk=unit.pk), c, y).get(unit.pk, "")
            )
            statuses.append({"campaign": c, "year": y, "reasons": reasons, "grade": grades.get(grade, "")})
    # what the statuses come from: each campaign-year's assessment, the unit's incidents
    from inspections.models import Assessment, Incident

    assessments = {(a.campaign_id, a.year): a for a in Assessment.objects.filter(unit=unit)}
    for s in statuses:
        s["assessment"] = assessments.get((s["campaign"].pk, s["year"]))
    return render(
        request,
        "reports/unit_status.html",
        {
            "unit": unit,
            "statuses": statuses,
            "incidents": Incident.objects.filter(unit=unit).order_by("-occurred_on", "-id")[:50],
            "can_edit": access.can_edit_units(request.user),
        },
    )


@login_required
@reads_from_replica
def export_attainment(request, fmt: str):
    access.require(access.is_staff_reader(request.user) and fmt in ("xlsx", "csv"))
    campaign, year, region = _context(request)
    rows = selectors.subtree_rows(request.user, campaign, year, region)
    audit(
        actor=request.user,
        action="export.attainment",
        target=region,
        detail={"campaign": campaign.slug, "year": year, "format": fmt},
        ip=client_ip(request),
    )
    return table_exports.table_response(
        fmt=fmt,
        filename=f"达标统计_{campaign.slug}_{year}_{region.code}",
        title=_("达标统计"),
        header=exports.attainment_header(),
        rows=exports.attainment_rows(rows),
    )


@login_required
@reads_from_replica
def export_township(request, fmt: str):
    access.require(fmt in ("xlsx", "csv"))
    access.require(access.can_see_dashboards(request.user))
    campaign, year, region = _context(request)
    access.require(region.level == Level.TOWNSHIP)
    units = selectors.township_units(request.user, region, year)
    reasons = attainment.reasons_for_units(units, campaign, year)
    audit(
        actor=request.user,
        action="export.township_ledger",
        target=region,
        detail={"campaign": campaign.slug, "year": year, "format": fmt},
        ip=client_ip(request),
    )
    header = [_("单位代码"), _("单位名称"), _("类型"), _("类别"), _("是否达标"), _("未达标原因")]
    rows = (
        [
            u.code,
            u.name,
            u.get_kind_display(),
            u.get_category_display(),
            _("是") if not reasons.get(u.id) else _("否"),
            "；".join(r.text for r in reasons.get(u.id, [])),
        ]
        for u in units
    )
    return table_exports.table_response(
        fmt=fmt,
        filename=f"单位台账_{campaign.slug}_{year}_{region.code}",
        title=_("单位台账"),
        header=header,
        rows=rows,
    )


PUBLISHED_PAGE = 1000


@login_required
@reads_from_replica
def published_list(request):
    """Attained units of a region and year, by name, ready to publish (发文命名); printable."""
    access.require(access.is_staff_reader(request.user))
    campaign, year, region = _context(request)
    # the units attained in that year, in the region as it stood then (a unit that has
    # moved away since is listed; one that moved in since is not), as far as the user sees
    cat_field = history.AS_OF["category"]
    qs = (
        attainment.annotate_conditions(attainment.scope_units(campaign, year, prefix=region.prefix), campaign, year)
        .filter(attained=True)
        # as far as the user sees: the jurisdiction's rule on the same rows (a subquery of
        # visible units joined every unit of the province to itself)
        .filter(access.unit_q(request.user))
    )
    # a province names tens of thousands: pages of PUBLISHED_PAGE, numbered on within each
    # category across pages, with the category totals from one grouped count
    per_category = dict(qs.order_by().values_list(cat_field).annotate(n=Count("pk")))
    paginator = Paginator(
        qs.annotate(grade=attainment.grade_expr(campaign)).order_by(cat_field, history.AS_OF["township"], "code"),
        PUBLISHED_PAGE,
    )
    paginator.count = sum(per_category.values())  # counted above: not a third pass over every unit
    page = paginator.get_page(request.GET.get("page"))
    attained = list(page.object_list)
    before, running = {}, 0
    for cat in sorted(per_category):
        before[cat], running = running, running + per_category[cat]
    townships = Region.objects.filter(code__in={getattr(u, history.AS_OF["township"]) for u in attained})
    names = {code: label["name"] for code, label in history.labels_on(townships, history.year_end(year)).items()}
    categories = dict(Category.choices)
    grades = dict(attainment.Grade.choices)
    for i, u in enumerate(attained, start=page.start_index() - 1):
        u.serial = i - before[getattr(u, cat_field)] + 1
        u.category_total = per_category[getattr(u, cat_field)]
        u.grade_label = grades[u.grade]
        u.township_then = names.get(getattr(u, history.AS_OF["township"]), "")
        u.category_then = categories.get(getattr(u, history.AS_OF["category"]), "")
    audit(
        actor=request.user,
        action="export.published_list",
        target=region,
        detail={"campaign": campaign.slug, "year": year},
        ip=client_ip(request),
    )
    return render(
        request,
        "reports/published_list.html",
        {
            "campaign": campaign,
            "year": year,
            "region": region,
            "era": (era := selectors.era(request.user, region, year)),
            # “山西省2022年度山西省“三零”单位创建…”: the region once, when the campaign's
            # name already begins with it
            "title_region": "" if campaign.name.startswith(era["name"]) else era["name"],
            "units": attained,
            "page": page,
            "total": sum(per_category.values()),
            "qs": _qs(campaign, year, region),
        },
    )


@login_required
@require_POST
def recompute(request):
    """The dashboard's 立即重算 (htmx): the same service as the API's recompute."""
    try:
        req = services.rollup_request(
            campaign_slug=request.POST.get("campaign", ""),
            year=request.POST.get("year"),
            by=request.user,
            ip=client_ip(request),
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except ServiceError as exc:
        return HttpResponse(f'<span class="bad">{escape(" ".join(exc.messages))}</span>', status=400)
    if not req.queued:
        return HttpResponse(f'<span class="warn">{_("任务队列暂不可用，已记录待重算，稍后自动更新。")}</span>')
    return task_progress(request, req.task_id)


@login_required
def task_progress(request, task_id: str):
    access.require(access.is_staff_reader(request.user))
    res = AsyncResult(task_id)
    state = res.state
    if state == "REVOKED" or (state == "SUCCESS" and isinstance(res.result, dict) and res.result.get("cancelled")):
        return HttpResponse(f'<span class="warn">{_("重算已取消，数据保持取消前的状态。")}</span>')
    if state == "SUCCESS":
        resp = HttpResponse(f'<span class="ok">{_("重算完成，正在刷新……")}</span>')
        resp["HX-Refresh"] = "true"
        return resp
    if state == "FAILURE":
        return HttpResponse(f'<span class="bad">{_("重算失败，请稍后重试或联系管理员。")}</span>')
    info = res.info if isinstance(res.info, dict) else {}
    done, total = info.get("done", 0), info.get("total", 3)
    url = reverse("reports:task", args=[task_id])
    cancel = reverse("reports:task_cancel", args=[task_id])
    label = _("排队等待重算……") if state == "PENDING" else _("正在重算：第 %(d)s/%(t)s 步") % {"d": done, "t": total}
    return HttpResponse(
        f'<span hx-get="{url}" hx-trigger="load delay:1s" hx-swap="outerHTML">'
        f'<progress max="{total}" value="{done}"></progress> {label} '
        f'<button type="button" class="secondary" hx-post="{cancel}" hx-target="closest span" '
        f'hx-swap="outerHTML">{_("取消重算")}</button></span>'
    )


@login_required
@require_POST
def task_cancel(request, task_id: str):
    """取消重算: the same service as the API's."""
    try:
        services.rollup_cancel(task_id=task_id, by=request.user, ip=client_ip(request))
    except PermissionDenied as exc:
        raise Http404 from exc
    return HttpResponse(
        f'<span class="warn">{_("已请求取消重算：尚未开始的不再开始，进行中的在下一步停止并回滚。")}</span>'
    )

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access, imports, services
from .forms import ImportForm, UnitFilterForm, UnitForm, add_errors
from .models import Level


@login_required
def home(request):
    user = request.user
    if access.is_township_officer(user):
        return redirect("inspections:worklist")
    if access.is_staff_reader(user):
        return redirect("reports:dashboard")
    if access.is_department_staff(user):
        return redirect("reports:sector")
    return render(request, "home.html")


@login_required
def unit_list(request):
    form = UnitFilterForm(request.GET or None, user=request.user)
    qs = access.visible_units(request.user).select_related("township")
    active = "1"
    if form.is_valid():
        d = form.cleaned_data
        active = d["active"] if "active" in request.GET else "1"
        if d["region"]:
            qs = qs.filter(township__code__startswith=_prefix(d["region"]))
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["category"]:
            qs = qs.filter(category=d["category"])
        if d["q"]:
            qs = qs.filter(Q(name__icontains=d["q"]) | Q(code__startswith=d["q"]))
    if active in ("0", "1"):
        qs = qs.filter(active=active == "1")
    page = Paginator(qs.order_by("code"), 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "units/list.html",
        {"form": form, "page": page, "params": params.urlencode(), "can_edit": access.can_edit_units(request.user)},
    )


def _prefix(code: str) -> str:
    from .models import Region

    region = Region.objects.filter(code=code).first()
    return region.prefix if region else code


@login_required
def unit_create(request):
    access.require(access.can_edit_units(request.user))
    form = UnitForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            unit = services.unit_register(
                township=d["township"],
                code=d["code"],
                name=d["name"],
                kind=d["kind"],
                address=d["address"],
                contact_person=d["contact_person"],
                contact_phone=d["contact_phone"],
                credit_code=d.get("credit_code") or "",
                by=request.user,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已登记单位“%(name)s”。") % {"name": unit.name})
            return redirect("units:list")
    return render(request, "units/form.html", {"form": form, "title": _("登记单位")})


@login_required
def unit_edit(request, pk: int):
    access.require(access.can_edit_units(request.user))
    unit = access.unit_for(request.user, pk)
    form = UnitForm(request.POST or None, instance=unit, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        fresh = access.unit_for(request.user, pk)  # the form mutated `unit` while validating
        try:
            services.unit_update(unit=fresh, by=request.user, **{k: d[k] for k in services.UNIT_EDITABLE_FIELDS})
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("units:list")
    return render(request, "units/form.html", {"form": form, "title": _("编辑单位"), "unit": unit})


@login_required
@require_POST
def unit_archive(request, pk: int):
    access.require(access.can_edit_units(request.user))
    unit = access.unit_for(request.user, pk)
    restore = request.POST.get("restore") == "1"
    services.unit_set_active(unit=unit, active=restore, by=request.user)
    messages.success(request, (_("已恢复“%(name)s”。") if restore else _("已归档“%(name)s”。")) % {"name": unit.name})
    return redirect("units:list")


@login_required
def import_template(request):
    resp = HttpResponse(
        imports.template_workbook(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E5%8D%95%E4%BD%8D%E7%99%BB%E8%AE%B0%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return resp


@login_required
def unit_import(request):
    access.require(access.can_edit_units(request.user))
    form = ImportForm(request.POST or None, request.FILES or None)
    errors, imported = [], None
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            result = imports.parse_sheet(user=request.user, name=f.name, data=f.read())
        except imports.SheetError as exc:
            form.add_error("file", str(exc))
        else:
            if result.errors:
                errors = result.errors
                messages.error(request, _("有 %(n)s 处错误，未导入任何单位。请修改后重新上传。") % {"n": len(errors)})
            else:
                imported = imports.import_units(user=request.user, rows=result.rows, filename=f.name)
                messages.success(request, _("已导入 %(n)s 个单位。") % {"n": imported})
                return redirect("units:list")
    return render(
        request, "units/import.html", {"form": form, "errors": errors[:1000], "more_errors": max(0, len(errors) - 1000)}
    )


@login_required
def unit_lookup(request):
    """Search-as-you-type for forms that take a unit code (htmx fills a <datalist>): the
    units of the user's jurisdiction whose code starts with, or name contains, what was
    typed — code and name, so the officer sees which unit a code is. At most 20."""
    from django.utils.html import format_html_join

    q = (request.GET.get("unit_code") or request.GET.get("q") or "").strip()[:30]
    if len(q) < 2:
        return HttpResponse("")
    units = (
        access.incident_units(request.user)
        if request.GET.get("for") == "incident"
        else access.visible_units(request.user)
    )
    found = (
        units.filter(Q(code__startswith=q) | Q(name__icontains=q), active=True)
        .select_related("township")
        .order_by("code")[:20]
    )
    return HttpResponse(
        format_html_join("", '<option value="{}">{} · {}</option>', ((u.code, u.name, u.township.name) for u in found))
    )


@login_required
def township_lookup(request):
    """The same for township codes: the townships of the user's jurisdiction in force."""
    return _regions_found(request, request.GET.get("township"), [Level.TOWNSHIP])


@login_required
def region_lookup(request):
    """The same for region codes of any level (`level` narrows: one or more of province,
    city, county, township): the regions of the user's jurisdiction in force."""
    levels = [lv for lv in request.GET.getlist("level") if lv in Level.values] or list(Level.values)
    return _regions_found(request, request.GET.get("region"), levels)


def _regions_found(request, typed: str | None, levels: list[str]) -> HttpResponse:
    from django.utils.html import format_html_join

    q = (typed or request.GET.get("q") or "").strip()[:30]
    if len(q) < 2:
        return HttpResponse("")
    found = (
        access.current_regions(request.user)
        .filter(Q(code__startswith=q) | Q(name__icontains=q), level__in=levels)
        .order_by("code")[:20]
    )
    return HttpResponse(
        format_html_join(
            "", '<option value="{}">{} · {}</option>', ((r.code, r.name, r.get_level_display()) for r in found)
        )
    )

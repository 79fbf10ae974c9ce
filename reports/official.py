"""The published result as an official notice (发文命名): the named list by county, as a
PDF laid out on A4 like a government notice (issuer, 文号, title, body, the list, the
date), rendered by WeasyPrint with the Noto CJK fonts of the machine — no network: the
template loads nothing from outside. And the same list as XLSX."""

from __future__ import annotations

from collections import OrderedDict

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from units.models import PREFIX_LENGTH, Level

from .attainment import Grade
from .models import OfficialResult, ResultStatus

# beyond this many named units the PDF gives the counts per county and points to the
# list's XLSX (a province of a million units would otherwise be thousands of pages)
PDF_LIST_MOST = 20_000


def named_rows(result: OfficialResult, user=None):
    """The named units (each unit's row that counts, attained), by county and township."""
    from . import results

    rows = results.current_unit_rows(user, result) if user is not None else _all_current(result)
    return rows.filter(attained=True).order_by("township_code", "unit_code")


def _all_current(result: OfficialResult):
    from .results import latest_rows

    return latest_rows(result.unit_rows.all())


def _region_names(result: OfficialResult) -> dict[str, str]:
    return dict(result.region_rows.values_list("region_id", "region_name"))


def grouped(result: OfficialResult, rows) -> list[dict]:
    """[{county, townships: [{township, units: [...]}], n}] in code order."""
    names = _region_names(result)
    grades = dict(Grade.choices)
    counties: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        county = r.township_code[: PREFIX_LENGTH[Level.COUNTY]].ljust(12, "0")
        c = counties.setdefault(county, {"code": county, "name": names.get(county, county), "townships": {}, "n": 0})
        t = c["townships"].setdefault(
            r.township_code, {"code": r.township_code, "name": names.get(r.township_code, r.township_code), "units": []}
        )
        r.grade_label = grades.get(r.grade, "")
        t["units"].append(r)
        c["n"] += 1
    return [{**c, "townships": list(c["townships"].values())} for c in counties.values()]


def notice_html(result: OfficialResult) -> str:
    revoked = result.revocations.filter(lifted_on__isnull=True).values("unit_id")
    rows = list(named_rows(result).exclude(unit_id__in=revoked)[: PDF_LIST_MOST + 1])
    full = len(rows) <= PDF_LIST_MOST
    counties = grouped(result, rows if full else [])
    if not full:
        from django.db.models import Count
        from django.db.models.functions import Substr

        names = _region_names(result)
        counts = (
            named_rows(result)
            .exclude(unit_id__in=revoked)
            .annotate(county=Substr("township_code", 1, PREFIX_LENGTH[Level.COUNTY]))
            .values("county")
            .annotate(n=Count("id"))
            .order_by("county")
        )
        counties = [{"name": names.get(c["county"].ljust(12, "0"), c["county"]), "n": c["n"]} for c in counts]
    return render_to_string(
        "reports/official/notice.html",
        {
            "result": result,
            "campaign": result.campaign,
            "counties": counties,
            "full": full,
            "total": sum(c["n"] for c in counties),
            "not_named": result.revocations.filter(lifted_on__isnull=True).count(),
            "published": result.status == ResultStatus.PUBLISHED,
            "title": _("关于命名%(y)s年度%(c)s达标单位的通知") % {"y": result.year, "c": result.campaign.name},
        },
    )


def render_pdf(result: OfficialResult) -> bytes:
    from weasyprint import HTML

    return HTML(string=notice_html(result), base_url=None).write_pdf()

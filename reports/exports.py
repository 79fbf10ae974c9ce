"""XLSX and CSV exports of the attainment table and of a township's unit ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value):
    # Keep spreadsheet formulas out of exported text (CSV/XLSX injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def table_response(*, fmt: str, filename: str, title: str, header: Sequence[str], rows: Iterable[Sequence]):
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")  # so Excel opens UTF-8 Chinese correctly
        w = csv.writer(buf)
        w.writerow(header)
        for r in rows:
            w.writerow([_safe(v) for v in r])
        resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
        ext = "csv"
    else:
        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = title[:31]
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append([_safe(v) for v in r])
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        resp = HttpResponse(out.getvalue(), content_type=XLSX)
        ext = "xlsx"
    from urllib.parse import quote

    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.{ext}"
    return resp


def attainment_header():
    return [
        _("区划代码"),
        _("区划名称"),
        _("层级"),
        _("类别"),
        _("单位数"),
        _("达标数"),
        _("达标率(%)"),
        _("目标(%)"),
        _("是否完成"),
        _("差距(个)"),
        _("计算时间"),
    ]


def attainment_rows(rows):
    for r in rows:
        yield [
            r.region_id,
            r.region.name,
            r.get_level_display(),
            r.get_category_display(),
            r.total_units,
            r.attained_units,
            round(float(r.rate) * 100, 1),
            "" if r.target_rate is None else round(float(r.target_rate) * 100, 1),
            "" if r.met is None else (_("是") if r.met else _("否")),
            r.gap_units,
            r.computed_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.computed_at else "",
        ]

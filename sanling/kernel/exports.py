"""Tables as XLSX or CSV downloads, with spreadsheet formulas kept out of exported text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
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

"""Bulk registration of units from an XLSX or CSV sheet.

parse_sheet() reads and validates every row without writing (so the API can reuse it);
import_units() writes all rows in one transaction or none. Duplicates against the
database are found with one query, not one per row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from simple_history.utils import bulk_create_with_history

from . import access, services
from .audit import audit
from .models import Level, Region, Unit, UnitKind, User, category_of

COLUMNS = [  # (field, header)
    ("code", "单位代码"),
    ("name", "单位名称"),
    ("kind", "类型"),
    ("township", "所属乡镇代码"),
    ("address", "地址"),
    ("contact_person", "联系人"),
    ("contact_phone", "联系电话"),
]
REQUIRED = {"code", "name", "kind", "township"}
KIND_LOOKUP = {
    **{str(label): value for value, label in UnitKind.choices},
    **{v: v for v in UnitKind.values},
    "商场": UnitKind.MARKET,
    "市场": UnitKind.MARKET,
    "企业": UnitKind.ENTERPRISE,
    "网点": UnitKind.ENTERPRISE_OUTLET,
}
MAX_LEN = {"code": 15, "name": 200, "address": 300, "contact_person": 50, "contact_phone": 30}


class SheetError(Exception):
    """The file as a whole cannot be read (not a sheet, no header, …)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ParseResult:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def template_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "单位登记"
    ws.append([h for _, h in COLUMNS])
    ws.append(["140105001001", "示例村", "村", "140105001000", "某某路 1 号", "张三", "13800000000"])
    kinds = wb.create_sheet("可选类型")
    kinds.append(["类型（填中文或英文值）", "英文值", "类别"])
    for value, label in UnitKind.choices:
        kinds.append([str(label), value, str(category_of(value).label)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _read_rows(name: str, data: bytes) -> list[list[str]]:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise SheetError(_("无法读取该 XLSX 文件，请确认文件未损坏且为 Excel 2007 及以上格式。")) from exc
        ws = wb.worksheets[0]
        return [["" if v is None else str(v).strip() for v in row] for row in ws.iter_rows(values_only=True)]
    if lower.endswith(".csv"):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SheetError(_("CSV 文件编码无法识别，请另存为 UTF-8 或 GB18030 编码。"))
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise SheetError(_("只支持 .xlsx 或 .csv 文件。"))


def parse_sheet(*, user: User, name: str, data: bytes) -> ParseResult:
    rows = _read_rows(name, data)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise SheetError(_("文件是空的。"))
    header = [h.replace("*", "").strip() for h in rows[0]]
    index = {}
    for fld, title in COLUMNS:
        if title in header:
            index[fld] = header.index(title)
    missing = [title for fld, title in COLUMNS if fld in REQUIRED and fld not in index]
    if missing:
        raise SheetError(_("表头缺少必需的列：%(cols)s。请使用下载的模板。") % {"cols": "、".join(missing)})
    body = rows[1:]
    if not body:
        raise SheetError(_("文件中没有数据行。"))
    if len(body) > settings.UNIT_IMPORT_MAX_ROWS:
        raise SheetError(
            _("一次最多导入 %(n)s 行，本文件有 %(m)s 行。") % {"n": settings.UNIT_IMPORT_MAX_ROWS, "m": len(body)}
        )
    titles = dict(COLUMNS)
    result = ParseResult()
    township_codes = {r[index["township"]] for r in body if len(r) > index["township"]}
    visible = {t.code: t for t in access.visible_regions(user).filter(code__in=township_codes, level=Level.TOWNSHIP)}
    existing_townships = set(
        Region.objects.filter(code__in=township_codes, level=Level.TOWNSHIP).values_list("code", flat=True)
    )
    codes = [r[index["code"]] for r in body if len(r) > index["code"]]
    taken = set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
    seen: dict[str, int] = {}
    for n, raw in enumerate(body, start=2):
        if not any(raw):
            continue
        values = {fld: (raw[i] if i < len(raw) else "") for fld, i in index.items()}
        errs = []

        def err(fld, msg, n=n, errs=errs):
            errs.append(RowError(n, str(titles[fld]), msg))

        for fld in REQUIRED:
            if not values.get(fld):
                err(fld, _("必填"))
        for fld, limit in MAX_LEN.items():
            if len(values.get(fld, "")) > limit:
                err(fld, _("超过 %(n)s 个字符") % {"n": limit})
        kind = KIND_LOOKUP.get(values.get("kind", ""))
        if values.get("kind") and kind is None:
            err(
                "kind",
                _("未知的类型“%(k)s”，可选：%(opts)s")
                % {"k": values["kind"], "opts": "、".join(str(label) for _, label in UnitKind.choices)},
            )
        code, tcode = values.get("code", ""), values.get("township", "")
        if code and not (code.isdigit() and 12 <= len(code) <= 15):
            err("code", _("单位代码必须是 12 至 15 位数字"))
        township = visible.get(tcode)
        if tcode and township is None:
            err(
                "township",
                _("乡镇代码 %(c)s 不存在") % {"c": tcode}
                if tcode not in existing_townships
                else _("乡镇代码 %(c)s 不在您的管辖范围内") % {"c": tcode},
            )
        if township and code and not code.startswith(township.prefix):
            err(
                "code",
                _("单位代码 %(code)s 不在所属乡镇“%(name)s”的代码前缀 %(prefix)s 之内")
                % {"code": code, "name": township.name, "prefix": township.prefix},
            )
        if code in taken:
            err("code", _("单位代码 %(c)s 已被登记") % {"c": code})
        elif code and code in seen:
            err("code", _("单位代码 %(c)s 与第 %(r)s 行重复") % {"c": code, "r": seen[code]})
        if code:
            seen.setdefault(code, n)
        if errs:
            result.errors.extend(errs)
        else:
            result.rows.append(
                {
                    "code": code,
                    "name": values["name"],
                    "kind": str(kind),
                    "township": township,
                    "address": values.get("address", ""),
                    "contact_person": values.get("contact_person", ""),
                    "contact_phone": values.get("contact_phone", ""),
                }
            )
    return result


@transaction.atomic
def import_units(*, user: User, rows: list[dict], filename: str) -> int:
    """Insert validated rows, all or none."""
    if not access.can_edit_units(user):
        raise PermissionDenied(_("您的角色不能登记单位。"))
    for code in {r["township"].code for r in rows}:
        access.require_region(user, code)  # parse_sheet() checked it; the write holds without it
    units = [
        Unit(
            township=r["township"],
            code=r["code"],
            name=r["name"],
            kind=r["kind"],
            category=category_of(r["kind"]),
            address=r["address"],
            contact_person=r["contact_person"],
            contact_phone=r["contact_phone"],
        )
        for r in rows
    ]
    # History rows too, so an imported unit's history starts at its registration.
    created = bulk_create_with_history(units, Unit, batch_size=2000, default_user=user)
    audit(actor=user, action="unit.imported", detail={"count": len(units), "file": filename[:200]})
    services.units_imported(units=created)
    return len(units)

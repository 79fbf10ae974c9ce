"""Bulk registration of units from an XLSX or CSV sheet.

parse_sheet() reads and validates every row without writing (so the API can reuse it);
import_units() writes all rows in one transaction or none. Duplicates against the
database are found with one query, not one per row.

Reading is bounded, whatever the file claims (issue 20, findings 2 and 14): the upload is at
most UNIT_IMPORT_MAX_BYTES; an XLSX is checked as a zip (members, uncompressed size,
compression ratio) and every part is scanned by a streaming parser that keeps no tree
(nesting, elements and attributes per row, per shared string and around them) before
openpyxl parses anything; openpyxl then reads through an archive that charges what it
parses whole and what it streams; rows are read with explicit max_row/max_col (a sheet's
<dimension> is not believed) and stop at the row limit. Every bad file is a SheetError.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.exceptions import CellCoordinatesException, InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from simple_history.utils import bulk_create_with_history

from . import access, services
from .audit import audit
from .models import Level, Region, Unit, UnitKind, User, category_of, phone_validator

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


# --- Reading, bounded -------------------------------------------------------------------

MB = 1024 * 1024
MAX_COLUMNS = len(COLUMNS) + 9  # columns read per row: the template's and room for 序号, 备注, …
CELL_CHARS = 1000  # a longer cell is cut before stripping (every field allows far fewer)
ECHO_CHARS = 30  # of a bad value, this much is repeated in an error message
MAX_MEMBERS = 1000  # parts in an XLSX (a real one has a few dozen)
MAX_RATIO = 100  # uncompressed : compressed, for parts over RATIO_FROM
RATIO_FROM = MB
MAX_RUN = 200_000  # bytes of XML without a "<": the longest tag or text (a cell holds ≤ 32,767 characters)
MAX_DEPTH = 64  # XML nesting
EXCEL_MAX_COLUMNS = 16_384  # cells in one row
MAX_UNIT_WEIGHT = 100_000  # elements + attributes inside one row or shared string
MAX_UNITS = 400_000  # rows or shared strings in one part (their cleared shells stay in memory)
MAX_CELLS = 1_000_000  # cells openpyxl would parse (it parses a whole row, then keeps max_col)
MAX_FRAME_WEIGHT = 200_000  # elements + attributes of one part outside its rows and shared strings
MAX_TREE_WEIGHT = 500_000  # elements + attributes of all parts openpyxl parses whole (styles, workbook, …)

# What a damaged or hostile XLSX makes zipfile, the XML parsers or openpyxl raise.
_READ_ERRORS = (
    InvalidFileException,
    CellCoordinatesException,
    DefusedXmlException,
    ParseError,
    expat.ExpatError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    EOFError,
    OverflowError,
    NotImplementedError,  # zip compression method
    RuntimeError,  # an encrypted member; RecursionError
)


def max_upload_bytes() -> int:
    return getattr(settings, "UNIT_IMPORT_MAX_BYTES", 5 * MB)


def _mb(n: int, *, up: bool) -> str:
    v = n / MB
    v = math.ceil(v * 100) / 100 if up else math.floor(v * 100) / 100
    return f"{v:.2f}".rstrip("0").rstrip(".")


def upload_size_error(size: int) -> str | None:
    """The message for an upload over the size cap, else None (the form and parse_sheet)."""
    limit = max_upload_bytes()
    if size <= limit:
        return None
    return _("文件大小为 %(size)s MB，超过了 %(limit)s MB 的上限，请拆分后分批导入。") % {
        "size": _mb(size, up=True),
        "limit": _mb(limit, up=False),
    }


def _unreadable() -> SheetError:
    return SheetError(_("无法读取该 XLSX 文件，请确认文件未损坏且为 Excel 2007 及以上格式。"))


def _over_limit(what: str) -> SheetError:
    return SheetError(
        _("该 XLSX 文件超出了导入限制（%(what)s），未读取。请将数据复制到下载的模板中后重新上传。") % {"what": what}
    )


def _too_many_rows(limit: int, rows: int | None = None) -> SheetError:
    if rows is None:
        return SheetError(_("一次最多导入 %(n)s 行，本文件超过 %(n)s 行。") % {"n": limit})
    return SheetError(_("一次最多导入 %(n)s 行，本文件有 %(m)s 行。") % {"n": limit, "m": rows})


class _PartScan:
    """Streaming (expat) statistics of one zip member, checked against the limits as they
    grow; no tree is kept. openpyxl streams rows (<row>) and shared strings (<si>) and clears
    each after use, so those are bounded one by one (plus the shell each leaves behind);
    everything around them is what a parser holds at once."""

    def __init__(self, name: str, max_row: int):
        self.name, self.max_row = name, max_row
        self.weight = 0  # elements + attributes in the whole part
        self.frame = 0  # … outside rows and shared strings
        self.units = 0  # rows and shared strings
        self.cells = 0  # cells in the rows openpyxl will read (numbered up to max_row)
        self.depth = 0
        self.unit_depth = 0  # depth of the open row/si, 0 outside one
        self.unit_start = 0
        self.unit_is_row = False
        self.row = 0  # openpyxl's row number: r="…", else the previous one + 1
        self.row_cells = 0
        self.last_data_row = 0  # the last row with a value (<v> or <is>) in it

    def start(self, name, attrs):  # attrs: [name, value, name, value, …]
        local = name.rpartition(":")[2]
        w = 1 + len(attrs) // 2
        self.weight += w
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _over_limit(_("XML 嵌套超过 %(n)s 层") % {"n": MAX_DEPTH})
        if not self.unit_depth:
            if local in ("row", "si"):
                self.unit_depth, self.unit_start, self.unit_is_row = self.depth, self.weight - w, local == "row"
                self.units += 1
                if self.units > MAX_UNITS:
                    raise _over_limit(_("一个部件中超过 %(n)s 行或共享字符串") % {"n": MAX_UNITS})
                if self.unit_is_row:
                    self.row, self.row_cells = self._row_number(attrs), 0
            else:
                self.frame += w
            if self.frame > MAX_FRAME_WEIGHT:
                raise _over_limit(_("部件 %(part)s 的结构元素过多") % {"part": self.name[:100]})
            return
        if self.weight - self.unit_start > MAX_UNIT_WEIGHT:
            raise _over_limit(_("第 %(r)s 行或某个共享字符串的元素过多") % {"r": self.row})
        if self.unit_is_row:
            if local == "c" and self.depth == self.unit_depth + 1:
                self.row_cells += 1
                if self.row_cells > EXCEL_MAX_COLUMNS:
                    raise _over_limit(_("第 %(r)s 行超过 %(n)s 个单元格") % {"r": self.row, "n": EXCEL_MAX_COLUMNS})
                if self.row <= self.max_row:
                    self.cells += 1
                    if self.cells > MAX_CELLS:
                        raise _over_limit(_("单元格超过 %(n)s 个") % {"n": MAX_CELLS})
            elif local in ("v", "is") and self.row > self.last_data_row:
                self.last_data_row = self.row

    def end(self, name):
        if self.depth == self.unit_depth:
            self.unit_depth = 0
        self.depth -= 1

    def _row_number(self, attrs) -> int:
        for i in range(0, len(attrs), 2):
            if attrs[i] == "r":  # as openpyxl reads it
                try:
                    return int(attrs[i + 1])
                except ValueError:
                    try:
                        value = float(attrs[i + 1])
                    except ValueError:
                        raise _unreadable() from None
                    if not value.is_integer():
                        raise _unreadable() from None
                    return int(value)
        return self.row + 1


def _entities_error() -> SheetError:
    return SheetError(_("该 XLSX 文件中含有 XML 实体声明，出于安全原因不予读取。"))


def _no_entities(*args):
    raise _entities_error()


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_row: int) -> _PartScan:
    scan = _PartScan(info.filename, max_row)
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.EntityDeclHandler = _no_entities
    parser.UnparsedEntityDeclHandler = _no_entities
    parser.ExternalEntityRefHandler = _no_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    with archive.open(info) as f:
        try:
            parser.Parse(f.read(1024), False)  # not XML (an image, …): openpyxl never parses it as such
            tail = b""
            while chunk := f.read(MB):
                buf = tail + chunk
                # A long stretch without "<" is one huge tag (attributes) or text: refused before
                # a parser turns it into objects.
                if max(map(len, buf.split(b"<"))) > MAX_RUN:
                    raise _over_limit(_("单个标签或文本超过 %(n)s 字节") % {"n": MAX_RUN})
                tail = buf[buf.rfind(b"<") :] if b"<" in buf else buf
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            pass  # malformed: openpyxl fails at the same place, on what was counted so far
    return scan


def _check_archive(archive: zipfile.ZipFile, max_row: int) -> dict[str, _PartScan]:
    """The zip as a whole, then every member scanned: before openpyxl parses anything."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _over_limit(_("部件超过 %(n)s 个") % {"n": MAX_MEMBERS})
    if len({i.filename for i in infos}) != len(infos):
        raise _unreadable()
    limit = getattr(settings, "UNIT_IMPORT_MAX_UNCOMPRESSED", 50 * MB)
    if sum(i.file_size for i in infos) > limit:
        raise _over_limit(_("解压后超过 %(n)s MB") % {"n": _mb(limit, up=False)})
    for i in infos:
        if i.file_size > RATIO_FROM and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _over_limit(
                _("部件 %(part)s 的压缩比超过 %(r)s:1，疑似压缩炸弹") % {"part": i.filename[:100], "r": MAX_RATIO}
            )
    return {i.filename: _scan_part(archive, i, max_row) for i in infos if not i.is_dir()}


class _GuardedArchive(zipfile.ZipFile):
    """The archive openpyxl reads from: a part it parses whole (read(), or open() and read())
    is charged its scanned weight against MAX_TREE_WEIGHT; what it streams (read(n), i.e.
    iterparse) is charged in bytes, so many sheet entries pointing at one big part cannot
    make it parse that part again and again."""

    def __init__(self, file, scans: dict[str, _PartScan], stream_budget: int):
        super().__init__(file)
        self._scans, self._tree, self._streamed, self._stream_budget = scans, 0, 0, stream_budget

    def charge_whole(self, name):
        scan = self._scans.get(getattr(name, "filename", name))
        self._tree += scan.weight if scan else 0
        if self._tree > MAX_TREE_WEIGHT:
            raise _over_limit(_("样式、工作簿等部件的元素过多"))

    def charge_stream(self, n: int):
        self._streamed += n
        if self._streamed > self._stream_budget:
            raise _over_limit(_("需要读取的内容过多"))

    def read(self, name, pwd=None):
        self.charge_whole(name)
        with zipfile.ZipFile.open(self, name, "r", pwd) as f:
            return f.read()

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        return _GuardedMember(zipfile.ZipFile.open(self, name, mode, pwd, force_zip64=force_zip64), self, name)


class _GuardedMember:
    def __init__(self, f, archive: _GuardedArchive, name):
        self._f, self._archive, self._name = f, archive, name

    def read(self, size=-1):
        if size is None or size < 0:
            self._archive.charge_whole(self._name)
            return self._f.read()
        data = self._f.read(size)
        self._archive.charge_stream(len(data))
        return data

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, attr):
        return getattr(self._f, attr)


def _xlsx_rows(data: bytes, limit: int):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            scans = _check_archive(archive, max_row=limit + 2)
            total = sum(i.file_size for i in archive.infolist())
        # load_workbook(read_only=True, data_only=True), reading through the guarded archive;
        # openpyxl parses its XML with defusedxml (installed), which refuses entities.
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.archive.close()
        reader.archive = _GuardedArchive(io.BytesIO(data), scans, stream_budget=2 * total + MB)
        reader.valid_files = reader.archive.namelist()
    except SheetError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable() from exc
    try:
        reader.read()
        ws = reader.wb.worksheets[0]
        if not isinstance(ws, ReadOnlyWorksheet):
            raise SheetError(_("第一个工作表不是数据表（可能是图表），请把登记表放在第一个工作表。"))
        scan = scans.get(ws._worksheet_path)
        if scan and scan.last_data_row - 1 > limit:
            raise _too_many_rows(limit, scan.last_data_row - 1)
        # Explicit bounds: the sheet's <dimension> may claim A1:XFD1048576.
        yield from ws.iter_rows(max_row=limit + 2, max_col=MAX_COLUMNS, values_only=True)
    except SheetError:
        raise
    except DefusedXmlException as exc:
        raise _entities_error() from exc
    except _READ_ERRORS as exc:
        if isinstance(exc.__cause__, DefusedXmlException):  # openpyxl wraps it in a ValueError
            raise _entities_error() from exc
        raise _unreadable() from exc
    finally:
        reader.archive.close()


def _csv_rows(data: bytes):
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(_("CSV 文件编码无法识别，请另存为 UTF-8 或 GB18030 编码。"))
    reader = csv.reader(io.StringIO(text))
    n = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # csv's field size limit (128 KB unless raised), or a broken quote
            if "field larger than field limit" in str(exc):
                raise SheetError(
                    _("第 %(r)s 行有超过 %(n)s 个字符的单元格，无法导入。") % {"r": n + 1, "n": csv.field_size_limit()}
                ) from exc
            raise SheetError(_("CSV 文件第 %(r)s 行格式有误，无法读取。") % {"r": n + 1}) from exc
        n += 1
        yield row


def _cell(value, memo: dict) -> str:
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    if len(s) <= 64:
        return s.strip()
    # One long shared string may fill every cell: cut and strip it once, not per cell.
    out = memo.get(s)
    if out is None:
        out = memo[s] = s[:CELL_CHARS].strip()
    return out


def _read_sheet(name: str, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header row and the non-empty body rows with their row numbers. At most
    MAX_COLUMNS cells of a row are kept and reading stops at the first non-empty row past
    UNIT_IMPORT_MAX_ROWS; empty rows are counted, not kept."""
    lower = name.lower()
    limit = settings.UNIT_IMPORT_MAX_ROWS
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data, limit)
    elif lower.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise SheetError(_("只支持 .xlsx 或 .csv 文件。"))
    header, body, memo = None, [], {}
    for n, raw in enumerate(rows, start=1):
        if any(isinstance(v, str) and "\x00" in v for v in raw):  # PostgreSQL cannot store it
            raise SheetError(_("第 %(r)s 行含有空字符（NUL），请删除后重新上传。") % {"r": n})
        row = [_cell(v, memo) for v in raw[:MAX_COLUMNS]]
        if header is None:
            header = row
        elif any(row):
            if n - 1 > limit:
                raise _too_many_rows(limit)
            body.append((n, row))
    return header or [], body


def _clip(value: str) -> str:
    return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"


def _plausible(code: str) -> bool:
    """Worth looking up: a digit string no longer than a unit code (others match nothing)."""
    return len(code) <= 15 and code.isdigit()


def parse_sheet(*, user: User, name: str, data: bytes) -> ParseResult:
    error = upload_size_error(len(data))
    if error:
        raise SheetError(error)
    header, body = _read_sheet(name, data)
    if not any(header) and not body:
        raise SheetError(_("文件是空的。"))
    header = [h.replace("*", "").strip() for h in header]
    index = {}
    for fld, title in COLUMNS:
        if title in header:
            index[fld] = header.index(title)
    missing = [title for fld, title in COLUMNS if fld in REQUIRED and fld not in index]
    if missing:
        message = _("表头缺少必需的列：%(cols)s。请使用下载的模板。") % {"cols": "、".join(missing)}
        if len(header) >= MAX_COLUMNS and header[MAX_COLUMNS - 1]:
            message += _("（只读取前 %(n)s 列。）") % {"n": MAX_COLUMNS}
        raise SheetError(message)
    if not body:
        raise SheetError(_("文件中没有数据行。"))

    def column(fld):
        i = index[fld]
        return (r[i] for _, r in body if len(r) > i)

    titles = dict(COLUMNS)
    result = ParseResult()
    today = timezone.localdate()
    township_codes = {c for c in column("township") if _plausible(c)}
    visible = {t.code: t for t in access.visible_regions(user).filter(code__in=township_codes, level=Level.TOWNSHIP)}
    existing_townships = set(
        Region.objects.filter(code__in=township_codes, level=Level.TOWNSHIP).values_list("code", flat=True)
    )
    codes = {c for c in column("code") if _plausible(c)}
    taken = set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
    seen: dict[str, int] = {}
    for n, raw in body:
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
                % {"k": _clip(values["kind"]), "opts": "、".join(str(label) for _, label in UnitKind.choices)},
            )
        code, tcode = values.get("code", ""), values.get("township", "")
        if code and not (code.isdigit() and 12 <= len(code) <= 15):
            err("code", _("单位代码必须是 12 至 15 位数字"))
        township = visible.get(tcode)
        if tcode and township is None:
            err(
                "township",
                _("乡镇代码 %(c)s 不存在") % {"c": _clip(tcode)}
                if tcode not in existing_townships
                else _("乡镇代码 %(c)s 不在您的管辖范围内") % {"c": _clip(tcode)},
            )
        if township is not None and not township.valid_on(today):
            err(
                "township",
                _("乡镇“%(n)s”（%(c)s）已于 %(d)s 撤销，请填写现在的乡镇代码")
                % {"n": township.name, "c": township.code, "d": township.valid_to},
            )
            township = None
        in_township = bool(township and code and code.startswith(township.prefix))
        if township and code and not in_township:
            err(
                "code",
                _("单位代码 %(code)s 不在所属乡镇“%(name)s”的代码前缀 %(prefix)s 之内")
                % {"code": _clip(code), "name": township.name, "prefix": township.prefix},
            )
        # "taken" only for a code of the user's own township: another township's codes
        # must not be probed through the import
        if in_township and code in taken:
            err("code", _("单位代码 %(c)s 已被登记") % {"c": code})
        elif code and code in seen:
            err("code", _("单位代码 %(c)s 与第 %(r)s 行重复") % {"c": _clip(code), "r": seen[code]})
        if code:
            seen.setdefault(code, n)
        phone = values.get("contact_phone", "")
        if phone:
            try:
                phone_validator(phone)
            except ValidationError:
                err("contact_phone", _("联系电话“%(p)s”不是有效的电话号码") % {"p": _clip(phone)})
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
    today = timezone.localdate()
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
            state_since=today,  # registered today: the years before do not count them
        )
        for r in rows
    ]
    # History rows too, so an imported unit's history starts at its registration.
    created = bulk_create_with_history(units, Unit, batch_size=2000, default_user=user)
    audit(actor=user, action="unit.imported", detail={"count": len(units), "file": filename[:200]})
    services.units_imported(units=created)
    return len(units)

"""The bulk import reads a bounded amount whatever the file claims, and every bad file is
a message on the form, never a 500 (issue 20, findings 2 and 14): an upload size cap, the
zip checked before openpyxl parses it, explicit row and column bounds, csv's field limit,
NUL refused."""

import io
import re
import threading
import time
import zipfile

import psutil
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from units.imports import SheetError, parse_sheet
from units.models import Unit

HEADER = ["单位代码", "单位名称", "类型", "所属乡镇代码"]
SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rewrite(data: bytes, parts: dict) -> bytes:
    """The same XLSX with members replaced (or added): part -> bytes, or old bytes -> new."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body, change = src.read(info), parts.get(info.filename)
            dst.writestr(info.filename, body if change is None else change(body) if callable(change) else change)
        for name, change in parts.items():
            if name not in src.namelist():
                dst.writestr(name, change)
    return out.getvalue()


def with_shared_strings(data: bytes, sst: bytes) -> bytes:
    """openpyxl writes inline strings; Excel writes a shared-string table."""
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    return rewrite(
        data,
        {
            "xl/sharedStrings.xml": sst,
            "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override + b"</Types>"),
        },
    )


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</sst>'


def at_sheet_end(extra: bytes):
    return lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>")


class PeakRss:
    """Peak resident memory while the block runs, sampled every 2 ms, in MB over the start."""

    def __enter__(self):
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.t0 = time.monotonic()
        return self

    def _sample(self):
        while not self.done.wait(0.002):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.growth_mb = (self.peak - self.start) / 1024 / 1024


def refused(users, name, data) -> str:
    with pytest.raises(SheetError) as exc:
        parse_sheet(user=users.officer, name=name, data=data)
    return str(exc.value)


# --- Finding 2: memory ------------------------------------------------------------------


def test_dimension_lie_reads_only_the_bounded_columns(users, tree, capsys):
    """A sheet claiming A1:XFD20000 with one cell at XFD20000 (today: 20,000 rows of 16,384
    cells, 2.6 GB) reads 16 columns of the rows there are: quick and small."""
    far_cell = b'<row r="20000"><c r="XFD20000" t="inlineStr"><is><t>x</t></is></c></row>'

    def lie(xml):
        xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD20000"', xml)
        return xml.replace(b"</sheetData>", far_cell + b"</sheetData>")

    data = rewrite(xlsx([("140105001201", "甲村", "村", tree.t1.code)]), {SHEET: lie})
    assert b"A1:XFD20000" in zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    assert len(data) < 10_000
    with PeakRss() as mem:
        result = parse_sheet(user=users.officer, name="u.xlsx", data=data)
    with capsys.disabled():
        print(f"\ndimension-lie sheet: +{mem.growth_mb:.1f} MB peak RSS, {mem.seconds:.2f}s")
    assert [r["code"] for r in result.rows] == ["140105001201"] and result.errors == []
    assert mem.growth_mb < 100
    assert mem.seconds < 10


@pytest.mark.parametrize(
    "strings,message",
    [
        # one huge, highly compressible string: 60 MB unpacked
        (b"<si><t>" + b"A" * (60 * 1024 * 1024) + b"</t></si>", "解压后超过 50 MB"),
        # one short string repeated: 30 MB unpacked from ~30 KB
        (b"<si><t>abc</t></si>" * 1_600_000, "压缩比超过 100:1"),
    ],
)
def test_shared_strings_bomb_refused_before_parsing(users, tree, strings, message):
    data = with_shared_strings(xlsx([("140105001201", "甲村", "村", tree.t1.code)]), SST % strings)
    assert len(data) < 300_000
    with PeakRss() as mem:
        assert message in refused(users, "u.xlsx", data)
    assert mem.growth_mb < 100


def test_a_row_wider_than_excel_is_refused(users, tree):
    cells = b"<c><v>1</v></c>" * 16_385
    data = rewrite(
        xlsx([("140105001201", "甲村", "村", tree.t1.code)]), {SHEET: at_sheet_end(b"<row>" + cells + b"</row>")}
    )
    assert "第 3 行超过 16384 个单元格" in refused(users, "u.xlsx", data)


def test_an_element_bomb_in_a_part_parsed_whole_is_refused(users, tree):
    """styles.xml is parsed into a tree at once: 200,000 number formats (3 MB packed) would
    hold hundreds of MB; refused from the streaming scan."""
    fmts = b"".join(b'<numFmt numFmtId="%d" formatCode="0"/>' % (164 + i) for i in range(200_000))
    styles = (
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts>'
        + fmts
        + b"</numFmts></styleSheet>"
    )
    data = rewrite(xlsx([("140105001201", "甲村", "村", tree.t1.code)]), {"xl/styles.xml": styles})
    with PeakRss() as mem:
        assert "超出了导入限制" in refused(users, "u.xlsx", data)
    assert mem.growth_mb < 100


# --- Finding 2: the upload size cap -----------------------------------------------------


def test_oversize_upload_refused_on_the_page(login, users, tree):
    body = ",".join(HEADER) + "\n140105001201,甲村,村,140105001000\n" + "\n" * (5 * 1024 * 1024)
    resp = login(users.officer).post("/units/import/", {"file": SimpleUploadedFile("u.csv", body.encode())})
    assert resp.status_code == 200
    assert "超过了 5 MB 的上限" in resp.content.decode()
    assert Unit.objects.count() == 0


def test_parse_sheet_checks_the_size_too(users, tree, settings):
    settings.UNIT_IMPORT_MAX_BYTES = 1024
    body = (",".join(HEADER) + "\n140105001201,甲村,村,140105001000\n").encode() + b"\n" * 2048
    assert "的上限" in refused(users, "u.csv", body)


# --- Finding 14: malformed input is a message, not a 500 --------------------------------


def test_csv_field_over_128_kb_is_a_message(login, users, tree):
    body = ",".join([*HEADER, "地址"]) + f"\n140105001201,甲村,村,140105001000,{'路' * 200_000}\n"
    resp = login(users.officer).post("/units/import/", {"file": SimpleUploadedFile("u.csv", body.encode())})
    assert resp.status_code == 200
    assert "第 2 行有超过 131072 个字符的单元格" in resp.content.decode()
    assert Unit.objects.count() == 0


@pytest.mark.parametrize("part", [SHEET, "xl/sharedStrings.xml", "xl/styles.xml", "xl/workbook.xml"])
def test_malformed_xml_in_a_valid_zip(users, tree, part):
    data = with_shared_strings(
        xlsx([("140105001201", "甲村", "村", tree.t1.code)]), SST % "<si><t>乙村</t></si>".encode()
    )
    data = rewrite(data, {part: lambda xml: xml[: len(xml) // 2]})
    assert "无法读取该 XLSX 文件" in refused(users, "u.xlsx", data)


def test_malformed_sheet_on_the_page(login, users, tree):
    data = rewrite(
        xlsx([("140105001201", "甲村", "村", tree.t1.code)]), {SHEET: lambda xml: xml.replace(b"</row>", b"</rwo>", 1)}
    )
    resp = login(users.officer).post("/units/import/", {"file": SimpleUploadedFile("u.xlsx", data)})
    assert resp.status_code == 200 and "无法读取该 XLSX 文件" in resp.content.decode()
    assert Unit.objects.count() == 0


def test_nul_in_csv_is_refused_naming_the_row(users, tree):
    body = ",".join(HEADER) + "\n140105001201,甲村,村,140105001000\n140105001202,乙\x00村,村,140105001000\n"
    assert "第 3 行含有空字符" in refused(users, "u.csv", body.encode())
    assert Unit.objects.count() == 0


# --- The row limit stops the read --------------------------------------------------------


def test_csv_over_the_row_limit_stops_reading(users, tree, settings):
    """Row 8 would be a csv error if it were read: the limit is met at row 7 first."""
    settings.UNIT_IMPORT_MAX_ROWS = 5
    rows = [f"14010500120{i},村{i},村,140105001000" for i in range(6)]
    body = "\n".join([",".join(HEADER), *rows, "x" * 200_000, *rows]) + "\n"
    assert "一次最多导入 5 行" in refused(users, "u.csv", body.encode())


def test_xlsx_over_the_row_limit_is_refused_without_reading_the_rows(users, tree, settings, monkeypatch):
    settings.UNIT_IMPORT_MAX_ROWS = 5
    data = xlsx([(f"140105001{i:03d}", f"村{i}", "村", tree.t1.code) for i in range(1000)])
    built = []
    real = ReadOnlyWorksheet._get_row
    monkeypatch.setattr(ReadOnlyWorksheet, "_get_row", lambda self, *a, **kw: built.append(1) or real(self, *a, **kw))
    assert "一次最多导入 5 行，本文件有 1000 行" in refused(users, "u.xlsx", data)
    assert len(built) <= 5 + 2

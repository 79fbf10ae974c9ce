"""Evidence is accepted by its content, never its name (issue 20, finding 17; issue 18's
“MZ” text named fake.png): markup anywhere, polyglots, active PDFs, fake or macro-laden
Office files, zip bombs and images that do not decode are refused; the stored name and the
download name take the extension of the detected type. Good files still pass."""

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inspections import evidence, services
from inspections.models import Evidence
from tests.factories import UnitFactory

YEAR = 2022
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def upload(name, content):
    return SimpleUploadedFile(name, content)


def check(name, content):
    return evidence.check(upload(name, content))


def refused(name, content, message):
    with pytest.raises(evidence.EvidenceError, match=message):
        check(name, content)


def image(fmt, size=(40, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def content_types(main_part="/word/document.xml", main_type=DOCX_MAIN, extra=""):
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{CONTENT_TYPES_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{main_part}" ContentType="{main_type}"/>{extra}</Types>'
    )


def docx(parts=None, types=None):
    """A minimal hand-built Word package; `parts` replaces or adds members (None drops one)."""
    members = {
        "[Content_Types].xml": content_types() if types is None else types,
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>整改台账</w:t></w:r></w:p></w:body></w:document>"
        ),
    }
    members.update(parts or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            if body is not None:
                z.writestr(name, body)
    return buf.getvalue()


def png_claiming(width, height):
    """A well-formed PNG (correct CRCs) that claims width x height, 1-bit gray, with a tiny IDAT."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# --- finding: HTML after a UTF-8 BOM, or after the first 4 KB of a text file ------


def test_html_after_a_bom_is_refused():
    refused("说明.txt", b"\xef\xbb\xbf<html><body>\xe7\x82\xb9\xe5\x87\xbb</body></html>", "网页或脚本")
    refused("说明.txt", b"\xef\xbb\xbf  <!DOCTYPE html><p>hi</p>", "网页或脚本")


def test_markup_after_the_first_4_kb_of_text_is_refused():
    filler = b"Rectification report, checked line by line.\n" * 120  # ~ 5 KB of honest text
    assert len(filler) > 4096
    tail = "整改情况说明。\n"
    refused("说明.txt", filler + tail.encode() + b"<script>alert(document.cookie)</script>", "网页或脚本")
    refused("说明.txt", filler + tail.encode() + b"<svg onload=alert(1)>", "网页或脚本")
    refused("说明.txt", filler + tail.encode("gb18030") + b"<iframe src=//x>", "网页或脚本")


# --- finding: a GIF/HTML polyglot ---------------------------------------------------


@pytest.mark.parametrize("markup", [b"<html><body>x</body></html>", b"<SCRIPT>alert(1)</SCRIPT>", b"<ScRiPt src=//x>"])
def test_gif_html_polyglot_is_refused(markup):
    gif = image("GIF")
    assert Image.open(io.BytesIO(gif + markup)).format == "GIF"  # still a real GIF
    refused("照片.gif", gif + markup, "网页或脚本")
    refused("照片.gif", b"GIF89a/*" + markup + b"*/", "网页或脚本")


def test_markup_inside_any_accepted_type_is_refused():
    refused("图.png", image("PNG") + b"<script>", "网页或脚本")
    refused("台账.pdf", PDF + b"<html>", "网页或脚本")


# --- finding: a PNG named a.html is stored and served under its detected type -------


def test_png_named_html_takes_the_detected_extension():
    assert check("a.html", image("PNG")) == "image/png"
    assert evidence.extension_for("image/png") == "png"
    assert evidence.download_name("a.html", "image/png") == "a.png"
    assert evidence.download_name("现场照片.HTML", "image/jpeg") == "现场照片.jpg"
    assert evidence.download_name("现场照片.jpeg", "image/jpeg") == "现场照片.jpeg"
    assert evidence.download_name("台账", "application/pdf") == "台账.pdf"
    assert evidence.download_name("a.png.exe", "text/plain") == "a.png.txt"


# --- finding: a PDF with JavaScript or an automatic action --------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"1 0 obj<</Type/Catalog/OpenAction 3 0 R>>endobj\n3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n",
        b"1 0 obj<</Type/Catalog/OpenAction<</S/GoTo/D[0/Fit]>>>>endobj\n",
        b"1 0 obj<</Type/Catalog/Names<</JavaScript 4 0 R>>>>endobj\n",
        b"3 0 obj<</Type/Page/AA<</O 5 0 R>>>>endobj\n",
        b"5 0 obj<</S/Launch/F(cmd.exe)>>endobj\n",
        b"5 0 obj<</S /JS (x)>>endobj\n",
        b"1 0 obj<</Type/Catalog/Open#41ction 3 0 R>>endobj\n",  # hex-escaped name
    ],
    ids=["openaction-js", "openaction", "javascript-names", "aa", "launch", "js", "hex-escaped"],
)
def test_pdf_with_script_or_action_is_refused(body):
    refused("台账.pdf", b"%PDF-1.7\n" + body + b"trailer<</Root 1 0 R>>\n%%EOF\n", "JavaScript/OpenAction")


def test_pdf_action_hidden_in_a_compressed_object_stream_is_refused():
    objects = b"1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj"
    packed = zlib.compress(b"1 0 " + objects)
    pdf = (
        b"%PDF-1.7\n9 0 obj\n<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length "
        + str(len(packed)).encode()
        + b">>\nstream\n"
        + packed
        + b"\nendstream\nendobj\n%%EOF\n"
    )
    assert b"OpenAction" not in pdf
    refused("台账.pdf", pdf, "JavaScript/OpenAction")


# --- finding: any zip with a word/ folder passed as DOCX ----------------------------


def test_zip_with_a_word_folder_is_not_a_docx():
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("[Content_Types].xml", "not xml at all")
        z.writestr("word/readme.txt", "hi")
    refused("报告.docx", plain.getvalue(), "不是有效的 Word/Excel/PowerPoint 文档")


@pytest.mark.parametrize(
    "parts,types",
    [
        ({"[Content_Types].xml": None}, None),  # no content types
        ({"word/document.xml": None}, None),  # no main part
        ({}, "<Types><Override"),  # content types do not parse
        ({}, content_types(main_type="application/xml")),  # main part not declared as a document
        ({}, '<?xml version="1.0"?><Other xmlns="urn:x"/>'),  # not a content-types document
    ],
    ids=["no-content-types", "no-main-part", "broken-xml", "main-not-declared", "not-content-types"],
)
def test_docx_must_be_valid_ooxml(parts, types):
    refused("报告.docx", docx(parts, types), "不是有效的 Word/Excel/PowerPoint 文档")


def test_docx_entity_bomb_in_content_types_is_refused():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f'<Types xmlns="{CONTENT_TYPES_NS}"><Default Extension="x" ContentType="&c;"/></Types>'
    )
    refused("报告.docx", docx(types=bomb), "不是有效的 Word/Excel/PowerPoint 文档")


def test_docx_with_macros_is_refused():
    refused("报告.docx", docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "含有宏")
    macro_type = "application/vnd.ms-word.document.macroEnabled.main+xml"
    refused("报告.docm", docx(types=content_types(main_type=macro_type)), "含有宏")


def test_zip_bomb_is_refused():
    buf = io.BytesIO(docx())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z, z.open("word/media/zero.bin", "w") as f:
        for _ in range(evidence.OOXML_MAX_UNCOMPRESSED // 1048576 + 1):
            f.write(bytes(1048576))
    assert len(buf.getvalue()) < 1048576  # ~100 KB that unpacks to over 100 MB
    refused("报告.docx", buf.getvalue(), "解压后过大")


# --- finding: a text file beginning “MZ” named fake.png; images must decode --------


def test_mz_text_named_png_is_refused():
    refused("fake.png", b"MZ this is not a picture\r\n", "类型不允许")
    refused("fake.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00", "类型不允许")


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"this is text, not IHDR" * 10,
        b"\xff\xd8\xff\xe0" + b"plain text after a JPEG marker" * 10,
        b"GIF89a" + b"not a logical screen" * 10,
        image("PNG")[:-30],  # truncated
    ],
    ids=["png-magic-text", "jpeg-magic-text", "gif-magic-text", "truncated-png"],
)
def test_image_that_does_not_decode_is_refused(content):
    refused("照片.png", content, "不是能打开的图片")


def test_image_decompression_bomb_is_refused():
    refused("照片.png", png_claiming(100_000, 100_000), "图片尺寸过大")
    refused("照片.png", png_claiming(evidence.MAX_SIDE + 1, 1), "图片尺寸过大")
    refused("照片.png", png_claiming(10_000, 5_000), "图片尺寸过大")  # 50 megapixels


# --- good files still pass ---------------------------------------------------------


@pytest.mark.parametrize(
    "fmt,ctype,ext", [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("GIF", "image/gif", "gif")]
)
def test_real_images_pass(fmt, ctype, ext):
    assert check(f"照片.{ext}", image(fmt, (640, 480))) == ctype
    assert check("没有扩展名", image(fmt)) == ctype
    assert evidence.extension_for(ctype) == ext


def test_minimal_pdf_passes():
    assert check("台账.pdf", PDF) == "application/pdf"
    assert check("台账.pdf", b"%PDF-1.4\n%%EOF\n") == "application/pdf"


def test_xlsx_made_with_openpyxl_passes():
    wb = openpyxl.Workbook()
    wb.active.append(["单位", "得分"])
    wb.active.append(["杏花村", 95])
    buf = io.BytesIO()
    wb.save(buf)
    ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert check("得分.xlsx", buf.getvalue()) == ctype
    assert evidence.extension_for(ctype) == "xlsx"


def test_hand_built_docx_passes():
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert check("报告.docx", docx()) == ctype
    assert evidence.extension_for(ctype) == "docx"


def test_office_97_files_by_their_streams():
    header = evidence.OLE2 + b"\0" * 504
    assert check("旧.doc", header + "WordDocument".encode("utf-16-le") + b"\0\0") == "application/msword"
    assert check("旧.xls", header + "Workbook".encode("utf-16-le") + b"\0\0") == "application/vnd.ms-excel"
    refused("宏.doc", header + "WordDocument".encode("utf-16-le") + b"\0\0" + evidence.OLE2_MACROS, "含有宏")
    refused("未知.doc", header + b"\0" * 64, "类型不允许")


@pytest.mark.parametrize(
    "content",
    [
        ("整改情况：已于 3 月完成清理。\nA < B, 5 > 3\n" * 400).encode("utf-8"),
        ("整改情况：已于 3 月完成清理。\r\n" * 400).encode("gb18030"),
        b"\xef\xbb\xbf" + "带 BOM 的说明\n".encode(),
    ],
)
def test_plain_text_passes(content):
    assert check("说明.txt", content) == "text/plain"
    assert evidence.extension_for("text/plain") == "txt"


# --- through the service and the download view -------------------------------------


@pytest.fixture
def draft(tree, campaign, users):
    unit = UnitFactory(township=tree.t1, name="杏花村")
    return services.assessment_start(unit=unit, campaign=campaign, year=YEAR, by=users.officer)


def test_service_stores_under_the_detected_extension(draft, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = draft.scores.get(item__code="1.1").item_id
    ev = services.evidence_add(assessment=draft, item_id=item, upload=upload("a.html", image("PNG")), by=users.officer)
    assert ev.content_type == "image/png" and ev.original_name == "a.html"
    assert ev.file.name.endswith(".png") and ".html" not in ev.file.name
    txt = services.evidence_add(
        assessment=draft, item_id=item, upload=upload("说明.txt", "说明".encode()), by=users.officer
    )
    assert txt.content_type == "text/plain" and txt.file.name.endswith(".txt")
    # text named as an image (“MZ…” in fake.png) is not what it claims: refused
    for name, body in (("fake.png", b"MZ this is text"), ("说明.png", "说明".encode()), ("报告.pdf", b"plain words")):
        with pytest.raises(services.ServiceError, match="但内容不是|类型不允许"):
            services.evidence_add(assessment=draft, item_id=item, upload=upload(name, body), by=users.officer)
    with pytest.raises(services.ServiceError, match="网页或脚本"):
        services.evidence_add(
            assessment=draft, item_id=item, upload=upload("a.gif", image("GIF") + b"<html>"), by=users.officer
        )
    assert Evidence.objects.count() == 2


def test_download_name_follows_the_detected_type(login, draft, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = draft.scores.get(item__code="1.1").item_id
    ev = services.evidence_add(assessment=draft, item_id=item, upload=upload("a.html", image("PNG")), by=users.officer)
    resp = login(users.officer).get(f"/assessments/evidence/{ev.pk}/")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert resp["Content-Disposition"] == 'attachment; filename="a.png"'
    assert resp["X-Content-Type-Options"] == "nosniff"

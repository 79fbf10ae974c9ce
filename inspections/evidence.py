"""Evidence uploads: a size limit and the file's type decided by its content, never by its
name. `filetype` names the format from its magic bytes; then the bytes must really be that
format: images decode with Pillow, PDFs carry no script or automatic action, Office files
are valid OOXML without macros, text is text all the way through. Nothing that contains
HTML or script markup is accepted, whatever it claims to be. The stored file and the
download take the extension of the detected type."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from pathlib import PurePath, PurePosixPath

import filetype
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

PDF = "application/pdf"
PNG, JPEG, GIF = "image/png", "image/jpeg", "image/gif"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ALLOWED_TEXT = "text/plain"

# Every accepted content type and its extensions, the canonical one first: the stored
# name always takes the canonical one; a download keeps the uploaded name's extension
# only when it is one of these (rows stored before OLE2 files were told apart say msword).
EXTENSIONS = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg"),
    GIF: ("gif",),
    DOC: ("doc", "xls", "ppt"),
    XLS: ("xls",),
    PPT: ("ppt",),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    PPTX: ("pptx",),
    ALLOWED_TEXT: ("txt", "csv"),
}

# filetype's verdict -> the type we store (an animated PNG is a PNG).
IMAGES = {"image/png": PNG, "image/apng": PNG, "image/jpeg": JPEG, "image/gif": GIF}
PIL_FORMAT = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb, not evidence
MAX_SIDE = 20_000

# Markup that a browser would run, anywhere in any accepted file (a GIF/HTML polyglot is a
# valid GIF); text files are also refused for the other markup below.
MARKUP = re.compile(rb"<(?:script|html)", re.IGNORECASE)
TEXT_MARKUP = re.compile(r"<(?:script|html|svg|iframe|!doctype)")
TEXT_MARKUP_START = ("<?xml", "<svg", "<!doctype", "<html", "<script")
# Control characters other than tab, newlines, form feed and DOS's end-of-file: binary.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")
BOM = b"\xef\xbb\xbf"

# PDF names that run code or act by themselves on opening: /JavaScript, /JS, /OpenAction,
# /AA (additional actions), /Launch. Names may be hex-escaped (/J#61vaScript), and may
# sit in compressed object streams: both are looked through.
PDF_ACTIVE = {b"JavaScript", b"JS", b"OpenAction", b"AA", b"Launch"}
PDF_NAME = re.compile(rb"/([^\x00\t\n\f\r ()<>\[\]{}/%]*)")
PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
PDF_OBJSTM_MAX = 50 * 1024 * 1024

# OOXML: the package's main part and its declared content type decide the format.
OOXML_MAIN = [
    ("word/document.xml", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    ("xl/workbook.xml", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    (
        "ppt/presentation.xml",
        PPTX,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
]
OPC_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
OOXML_MAX_UNCOMPRESSED = 100 * 1024 * 1024
OOXML_MAX_ENTRIES = 10_000
OOXML_MAX_CONTENT_TYPES = 1024 * 1024

# OLE2 (Office 97-2003): told apart by the stream names in the directory (UTF-16LE).
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE2_STREAMS = [("WordDocument", DOC), ("PowerPoint Document", PPT), ("Workbook", XLS), ("Book", XLS)]
OLE2_MACROS = "_VBA_PROJECT".encode("utf-16-le")


class EvidenceError(ValueError):
    pass


def extension_for(content_type: str) -> str:
    """The canonical extension (without the dot) of an accepted content type."""
    return EXTENSIONS.get(content_type, ("bin",))[0]


def download_name(original_name: str, content_type: str) -> str:
    """The uploaded name with its extension following the stored type: `a.html` that is a
    PNG downloads as `a.png`; `照片.jpeg` stays as it is."""
    path = PurePath(original_name)
    if path.suffix.lower().lstrip(".") in EXTENSIONS.get(content_type, ()):
        return original_name
    stem = path.stem if path.suffix else original_name
    return f"{stem or 'evidence'}.{extension_for(content_type)}"


def _refused(name: str) -> EvidenceError:
    return EvidenceError(
        _("文件“%(name)s”的类型不允许：只能上传 PDF、图片（PNG/JPEG/GIF）、Word/Excel/PowerPoint 文档或纯文本。")
        % {"name": name}
    )


def _markup(name: str) -> EvidenceError:
    return EvidenceError(
        _("文件“%(name)s”的类型不允许：文件中含有网页或脚本代码（HTML/script），不能作为佐证材料上传。")
        % {"name": name}
    )


def _image(data: bytes, ctype: str, name: str) -> None:
    """The image must decode as the format its magic says, at a sane size."""
    fmt = PIL_FORMAT[ctype]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                width, height = im.size
                if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{width}x{height}")
                im.verify()
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                if fmt == "JPEG":  # decode at 1/8 scale: every block is still read
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise EvidenceError(
            _("文件“%(name)s”的图片尺寸过大或无法安全打开，上限为 %(limit)d 万像素。")
            % {"name": name, "limit": MAX_PIXELS // 10000}
        ) from exc
    except Exception as exc:  # Pillow raises many kinds of errors on malformed data
        raise EvidenceError(_("文件“%(name)s”不是能打开的图片：内容已损坏或与图片格式不符。") % {"name": name}) from exc


def _pdf_names(chunk: bytes) -> set[bytes]:
    return {PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), n) for n in PDF_NAME.findall(chunk)}


def _pdf(data: bytes, name: str) -> None:
    """No JavaScript and no action that runs by itself, in the file or its object streams."""
    active = EvidenceError(
        _(
            "文件“%(name)s”是含有脚本或自动执行动作（JavaScript/OpenAction/Launch）的 PDF，不能上传；请打印或另存为普通 PDF 后再上传。"
        )
        % {"name": name}
    )
    if _pdf_names(data) & PDF_ACTIVE:
        raise active
    budget = PDF_OBJSTM_MAX
    for m in PDF_STREAM.finditer(data):
        window = data[max(0, m.start() - 4096) : m.start()]
        dictionary = window[window.rfind(b"obj") + 1 :]
        if b"ObjStm" not in _pdf_names(dictionary):
            continue
        try:
            inflater = zlib.decompressobj()
            body = inflater.decompress(memoryview(data)[m.end() :], budget + 1)
        except zlib.error as exc:
            raise EvidenceError(
                _("文件“%(name)s”的 PDF 内容无法检查（已加密或使用了不支持的压缩方式），请另存为普通 PDF 后再上传。")
                % {"name": name}
            ) from exc
        budget -= len(body)
        if budget < 0:
            raise EvidenceError(_("文件“%(name)s”的 PDF 内容解压后过大，无法检查。") % {"name": name})
        if _pdf_names(body) & PDF_ACTIVE:
            raise active


def _ooxml(data: bytes, name: str) -> str:
    """A valid Word/Excel/PowerPoint package: [Content_Types].xml parses, the main part
    exists and is declared as such, no macros, and it does not unpack into a bomb."""
    invalid = EvidenceError(
        _("文件“%(name)s”不是有效的 Word/Excel/PowerPoint 文档：文件结构不完整或已损坏。") % {"name": name}
    )
    macros = EvidenceError(
        _("文件“%(name)s”含有宏（VBA 代码），不能上传；请另存为不含宏的文档（.docx/.xlsx/.pptx）后再上传。")
        % {"name": name}
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > OOXML_MAX_ENTRIES:
                raise invalid
            unpacked = sum(i.file_size for i in infos)
            if unpacked > OOXML_MAX_UNCOMPRESSED:
                raise EvidenceError(
                    _("文件“%(name)s”解压后过大（%(size).1f MB），上限为 %(limit).1f MB。")
                    % {"name": name, "size": unpacked / 1048576, "limit": OOXML_MAX_UNCOMPRESSED / 1048576}
                )
            parts = {i.filename.lower(): i for i in infos}
            if any(PurePosixPath(p).name == "vbaproject.bin" for p in parts):
                raise macros
            types = parts.get("[content_types].xml")
            if types is None or types.file_size > OOXML_MAX_CONTENT_TYPES:
                raise invalid
            root = SafeET.fromstring(z.read(types))
    except EvidenceError:
        raise
    except Exception as exc:  # a broken zip or XML, an entity bomb, an unsupported compression
        raise invalid from exc
    if root.tag != f"{OPC_TYPES}Types":
        raise invalid
    declared = {}
    for el in root:
        ctype = (el.get("ContentType") or "").strip()
        if "macroenabled" in ctype.lower() or "vbaproject" in ctype.lower():
            raise macros
        if el.tag == f"{OPC_TYPES}Override":
            declared[(el.get("PartName") or "").lower()] = ctype
    found = [ctype for part, ctype, main in OOXML_MAIN if part in parts and declared.get(f"/{part}") == main]
    if len(found) != 1:
        raise invalid
    return found[0]


def _ole2(data: bytes, guess: str | None, name: str) -> str:
    """Office 97-2003: the type by its main stream; a VBA project is refused."""
    if OLE2_MACROS in data:
        raise EvidenceError(
            _("文件“%(name)s”含有宏（VBA 代码），不能上传；请另存为不含宏的文档（.docx/.xlsx/.pptx）后再上传。")
            % {"name": name}
        )
    if guess in (DOC, XLS, PPT):
        return guess
    for stream, ctype in OLE2_STREAMS:
        if stream.encode("utf-16-le") + b"\x00\x00" in data:
            return ctype
    raise _refused(name)


def _text(data: bytes, name: str) -> str:
    """Plain text (UTF-8, with or without BOM, or GB18030), all of it, with no markup."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _refused(name) from None
    if CONTROL.search(text):
        raise _refused(name)
    lowered = text.lower()
    if lowered.lstrip(" \t\r\n\f\ufeff\u200b").startswith(TEXT_MARKUP_START) or TEXT_MARKUP.search(lowered):
        raise _markup(name)
    return ALLOWED_TEXT


# what a file's extension claims, when its content turns out to be plain text
BINARY_EXTENSIONS = {
    **dict.fromkeys(("png", "jpg", "jpeg", "gif", "webp", "bmp"), gettext_lazy("图片")),
    "pdf": gettext_lazy("PDF 文件"),
    **dict.fromkeys(("doc", "docx", "xls", "xlsx", "ppt", "pptx"), gettext_lazy("Office 文档")),
}


def sniff(data: bytes, name: str = "") -> str:
    """The accepted content type of the whole file `data`, or EvidenceError saying why not."""
    if MARKUP.search(data):
        raise _markup(name)
    kind = filetype.guess(data)
    guess = kind.mime if kind else None
    if data.startswith(b"PK\x03\x04"):
        return _ooxml(data, name)
    if data.startswith(OLE2):
        return _ole2(data, guess, name)
    if guess in IMAGES:
        ctype = IMAGES[guess]
        _image(data, ctype, name)
        return ctype
    if guess == PDF:
        _pdf(data, name)
        return PDF
    if kind is not None:  # an executable, an archive, audio... whatever its name says
        raise _refused(name)
    ctype = _text(data, name)
    claimed = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if claimed in BINARY_EXTENSIONS:  # fake.png that is text: not what it claims to be
        raise EvidenceError(
            _("文件“%(name)s”的扩展名是 .%(ext)s，但内容不是%(what)s，请上传真实的文件。")
            % {"name": name, "ext": claimed, "what": BINARY_EXTENSIONS[claimed]}
        )
    return ctype


PREVIEWABLE = {"image/png", "image/jpeg", "image/gif"}


def attachment(stored, *, preview: bool = False) -> FileResponse:
    """Serve a stored upload (anything with file, original_name, content_type) as a
    download, never rendered inline — except, with `preview`, an image whose content was
    checked as one (a thumbnail on the entry page): callers look it up through the
    jurisdiction first. The download name's extension follows the stored type."""
    resp = FileResponse(
        stored.file.open("rb"),
        as_attachment=not (preview and stored.content_type in PREVIEWABLE),
        filename=download_name(stored.original_name, stored.content_type),
        content_type=stored.content_type,
    )
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def check(upload) -> str:
    """Return the content type of an acceptable upload, or raise EvidenceError. The
    canonical extension for it is extension_for(content type): the stored name uses it."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise EvidenceError(
            _("文件“%(name)s”过大（%(size).1f MB），上限为 %(limit).1f MB。")
            % {"name": upload.name, "size": upload.size / 1048576, "limit": limit / 1048576}
        )
    if upload.size == 0:
        raise EvidenceError(_("文件“%(name)s”是空的。") % {"name": upload.name})
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        raise EvidenceError(
            _("文件“%(name)s”过大（%(size).1f MB），上限为 %(limit).1f MB。")
            % {"name": upload.name, "size": len(data) / 1048576, "limit": limit / 1048576}
        )
    return sniff(data, upload.name)


def check_all(uploads) -> tuple[list[tuple[object, str]], str | None]:
    """Each upload with its content type, and the message of the last one refused (None
    when all pass): for services that check every file before storing anything."""
    checked, refused = [], None
    for upload in uploads or []:
        try:
            checked.append((upload, check(upload)))
        except EvidenceError as exc:
            refused = str(exc)
    return checked, refused


def store(model, upload, content_type: str, by, **owner):
    """Save an accepted upload as a row of `model` (an UploadedFile), under its generated
    name, with the original name kept for display and download."""
    ev = model(**owner, original_name=upload.name[:200], content_type=content_type, size=upload.size, uploaded_by=by)
    ev.file.save(upload.name, upload, save=False)
    ev.save()
    return ev

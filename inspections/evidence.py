"""Evidence uploads: a size limit and the file's type decided by its content."""

from __future__ import annotations

import zipfile

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext as _

# (content type, what officers call it) by magic bytes. HTML, SVG, scripts and
# executables are refused whatever their name says.
SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),  # OLE2: .doc/.xls/.ppt
]
OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ALLOWED_TEXT = "text/plain"


class EvidenceError(ValueError):
    pass


def sniff(head: bytes, fileobj) -> str | None:
    for magic, ctype in SIGNATURES:
        if head.startswith(magic):
            return ctype
    if head.startswith(b"PK\x03\x04"):
        try:
            fileobj.seek(0)
            with zipfile.ZipFile(fileobj) as z:
                names = z.namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, ctype in OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return ctype
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("gb18030")
        except UnicodeDecodeError:
            return None
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script")) or "<script" in lowered:
        return None
    return ALLOWED_TEXT


def attachment(stored) -> FileResponse:
    """Serve a stored upload (anything with file, original_name, content_type) as a
    download, never rendered inline: callers look it up through the jurisdiction first."""
    resp = FileResponse(
        stored.file.open("rb"), as_attachment=True, filename=stored.original_name, content_type=stored.content_type
    )
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def check(upload) -> str:
    """Return the content type of an acceptable upload, or raise EvidenceError."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise EvidenceError(
            _("文件“%(name)s”过大（%(size).1f MB），上限为 %(limit).1f MB。")
            % {"name": upload.name, "size": upload.size / 1048576, "limit": limit / 1048576}
        )
    if upload.size == 0:
        raise EvidenceError(_("文件“%(name)s”是空的。") % {"name": upload.name})
    upload.seek(0)
    head = upload.read(4096)
    ctype = sniff(head, upload)
    upload.seek(0)
    if ctype is None:
        raise EvidenceError(
            _("文件“%(name)s”的类型不允许：只能上传 PDF、图片（PNG/JPEG/GIF）、Word/Excel/PowerPoint 文档或纯文本。")
            % {"name": upload.name}
        )
    return ctype

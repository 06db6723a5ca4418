"""What a downloadable file really is: its type from its content, its size, its pages."""

import logging
import os
import zipfile
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, storages
from django.db import models
from django.utils.text import get_valid_filename, slugify

logger = logging.getLogger(__name__)

TYPE_LABELS = {
    "application/pdf": "PDF",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.ms-excel": "Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    "text/csv": "CSV",
    "text/plain": "Plain text",
    "application/zip": "ZIP",
}
OOXML_PREFIXES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def sniff_type(fileobj, name=""):
    """
    The MIME type of a file judged by its first bytes (and, for ZIP-based formats,
    its member names); the name only tells CSV from plain text.
    """
    fileobj.seek(0)
    head = fileobj.read(8192)
    fileobj.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(fileobj)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_type(fileobj)
    if _looks_like_text(head):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return "application/octet-stream"


# Old Office files are OLE compound files; the names of their streams (in UTF-16) say what
# they hold: a Word document has "WordDocument", an Excel workbook "Workbook" (or "Book").
OLE_STREAMS = [
    ("WordDocument".encode("utf-16-le"), "application/msword"),
    ("Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
    ("Book\x00".encode("utf-16-le"), "application/vnd.ms-excel"),
]


def _ole_type(fileobj, limit=64 * 1024 * 1024):
    """Word or Excel by the streams a compound file holds; anything else is refused."""
    fileobj.seek(0)
    data = fileobj.read(limit)
    fileobj.seek(0)
    for stream, mime_type in OLE_STREAMS:
        if stream in data:
            return mime_type
    return "application/x-ole-storage"


# What a damaged archive can raise while it is read.
ZIP_ERRORS = (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError, OSError)


MARKUP_MARKS = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<body", b"<iframe")


def _zip_type(fileobj):
    """OpenDocument and Office files are ZIP archives; their members say which."""
    try:
        archive = zipfile.ZipFile(fileobj)
        names = archive.namelist()
        declared = ""
        if "mimetype" in names:
            # Only the first bytes: a "mimetype" member could inflate to gigabytes.
            with archive.open("mimetype") as member:
                declared = member.read(100).decode("ascii", "replace").strip()
    except ZIP_ERRORS:
        return "application/zip"
    finally:
        fileobj.seek(0)
    if declared.startswith("application/vnd.oasis.opendocument."):
        return declared
    for prefix, mime in OOXML_PREFIXES.items():
        if any(member.startswith(prefix) for member in names):
            return mime
    return "application/zip"


def _looks_like_text(head):
    """UTF-8, UTF-16 with its byte-order mark, or Windows-1252 (what Excel's CSV export is)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[2:].decode("utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be",
                               "ignore").encode()  # fmt: skip
    if any(byte < 32 and byte not in (9, 10, 12, 13) for byte in head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    # HTML, SVG and XML are text, but never something we offer as a download: look for
    # their marks anywhere in the first part, past any byte-order mark or comment.
    lowered = head.lower()
    return not any(mark in lowered for mark in MARKUP_MARKS)


EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "application/zip": ".zip",
}


def validate_download(upload):
    """Refuse files of a type we do not offer (judged by content) or over the size cap."""
    max_bytes = settings.NEWSROOM["DOWNLOAD_MAX_BYTES"]
    if upload.size > max_bytes:
        raise ValidationError(
            f"This file is {describe_size(upload.size)}; the largest allowed is "
            f"{describe_size(max_bytes)}.",
            code="too_large",
        )
    mime_type = sniff_type(upload, upload.name)
    if mime_type not in settings.NEWSROOM["DOWNLOAD_TYPES"]:
        allowed = sorted({TYPE_LABELS[t] for t in settings.NEWSROOM["DOWNLOAD_TYPES"]})
        raise ValidationError(
            "This file's content is not one of the types we offer for download, whatever "
            f"its name says. Upload one of: {', '.join(allowed)}.",
            code="file_type",
        )
    return mime_type


def safe_filename(name, mime_type):
    """A plain file name ending in the extension of what the file really is."""
    stem = slugify(PurePosixPath(name).stem)[:80] or "download"
    return get_valid_filename(stem + EXTENSIONS.get(mime_type, ""))


class DownloadFormField(forms.FileField):
    def to_python(self, data):
        upload = super().to_python(data)
        if upload is not None and hasattr(upload, "seek"):
            validate_download(upload)
        return upload


class PrivateStorage(FileSystemStorage):
    """Files kept off MEDIA_URL: served only through the download view, which checks them."""

    def __init__(self, **kwargs):
        super().__init__(base_url=None, **kwargs)

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def downloads_storage():
    return storages["downloads"]


class DownloadFileField(models.FileField):
    """A download's file: checked by content when uploaded through a form."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": DownloadFormField, **kwargs})


def image_mime_type(field_file):
    """'image/jpeg' and so on, read from the image itself."""
    from PIL import Image, UnidentifiedImageError

    was_closed = field_file.closed
    try:
        field_file.open("rb")
        with Image.open(field_file) as image:
            return Image.MIME.get(image.format, "")
    except (UnidentifiedImageError, OSError, ValueError):
        return ""
    finally:
        if was_closed:
            field_file.close()
        else:
            field_file.seek(0)


def pdf_page_count(fileobj):
    """Pages in a PDF, or None when it cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        fileobj.seek(0)
        return len(PdfReader(fileobj).pages)
    except (PyPdfError, ValueError, OSError) as error:
        logger.warning("Could not count the pages of a PDF: %s", error)
        return None
    finally:
        fileobj.seek(0)


def summarise(mime_type, page_count, size):
    """'PDF, 2 pages, 340 KB'."""
    parts = [TYPE_LABELS.get(mime_type, "File")]
    if page_count:
        parts.append(f"{page_count} page{'s' if page_count != 1 else ''}")
    if size is not None:
        parts.append(describe_size(size))
    return ", ".join(parts)


def describe_size(size):
    """'340 KB', '2.4 MB': how GOV.UK-style pages state file sizes."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"

"""Files in and out: what a file is (from its bytes, not its name), whether it is allowed, and where it lives.

Content is stored once, named by its SHA-256, through Django's storage API (a local folder by default,
S3-compatible storage by setting). Nothing is stored before the checks have passed.
"""

import hashlib
import mimetypes
import os
import re
import unicodedata
import zipfile

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tillit.core.errors import InvalidInput

CHUNK = 1024 * 1024
HEAD = 8192

# Types a browser may show inside the page: they cannot run script (with nosniff and a strict policy).
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OLE = "application/x-ole-storage"
# Legacy Office files are all OLE containers; the name says which.
OLE_KINDS = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
             "application/vnd.ms-outlook"}
# Kinds of text the bytes cannot tell apart; the name may say which of them a text file is.
TEXT_KINDS = {"text/plain", "text/markdown", "text/csv", "text/calendar", "text/vcard", "message/rfc822",
              "application/json"}

SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"{\\rtf", "application/rtf"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
]

# Python's own table only (not the machine's /etc/mime.types), so every server judges names alike.
NAMES = mimetypes.MimeTypes()
for _kind, _exts in [
    ("text/markdown", ".md .markdown"), ("application/vnd.ms-outlook", ".msg"), ("image/webp", ".webp"),
    ("application/x-msdownload", ".exe .dll .msi .com .scr"), ("application/rtf", ".rtf"),
    ("text/calendar", ".ics"), ("text/vcard", ".vcf"), (DOCX, ".docx"), (XLSX, ".xlsx"), (PPTX, ".pptx"),
    ("application/vnd.oasis.opendocument.text", ".odt"), ("application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    ("application/vnd.oasis.opendocument.presentation", ".odp"),
]:
    for _ext in _exts.split():
        NAMES.add_type(_kind, _ext)


def allowed_types() -> set[str]:
    return set(settings.TILLIT_DOCUMENT_TYPES)


def sanitise_filename(name: str) -> str:
    """A file name safe to store and to send back: no folders, control characters or reserved characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[:200 - len(ext[:20])] + ext[:20]
    return name or "document"


def _zip_kind(fileobj) -> str:
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                if kind.startswith("application/vnd.oasis.opendocument."):
                    return kind
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
            if "ppt/presentation.xml" in names:
                return PPTX
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/octet-stream"
    finally:
        fileobj.seek(0)
    return "application/zip"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return True
    printable = sum(1 for b in head if b >= 0x20 or b in b"\t\r\n\f")
    return printable >= 0.97 * len(head)  # Latin-1 or Windows-1252 text


def sniff(fileobj, head: bytes) -> str:
    """The media type the content shows itself to be."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(fileobj)
    if not head or not _looks_like_text(head):
        return "application/octet-stream"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")):
        return "text/html"
    if b"<svg" in start[:1024]:
        return "image/svg+xml"
    if start.startswith(b"<?xml"):
        return "application/xml"
    return "text/plain"


def claimed_type(filename: str, declared: str = "") -> str:
    """The type the file's name (or, without an extension, the uploader) says it has; "" if neither says."""
    guessed, _encoding = NAMES.guess_type(filename, strict=False)
    if guessed:
        return guessed
    declared = (declared or "").split(";")[0].strip().lower()
    return "" if declared in ("", "application/octet-stream") else declared


def media_type(detected: str, claimed: str) -> str | None:
    """The media type to keep, or None if the name claims something the content is not."""
    if not claimed or claimed == detected:
        return detected
    if detected == "text/plain" and claimed in TEXT_KINDS:
        return claimed
    if detected == OLE and claimed in OLE_KINDS:
        return claimed
    if detected == "application/xml" and claimed in ("text/xml", "application/xml"):
        return detected
    return None


def describe(kind: str) -> str:
    return NAMES.guess_extension(kind, strict=False) or kind


class Incoming:
    """An upload checked and measured, ready to store: size, SHA-256, media type, safe name."""

    def __init__(self, fileobj, filename: str, declared_type: str = ""):
        self.file = fileobj
        self.filename = sanitise_filename(filename)
        self.declared_type = declared_type
        self.size = 0
        self.sha256 = ""
        self.media_type = ""

    def check(self, *, field: str = "file", enforce_types: bool = True) -> "Incoming":
        """Hash and measure the file in chunks, detect its type; refuse it with a message naming the field."""
        limit = settings.TILLIT_DOCUMENT_MAX_BYTES
        digest = hashlib.sha256()
        head = b""
        self.file.seek(0)
        while chunk := self.file.read(CHUNK):
            if len(head) < HEAD:
                head += chunk[:HEAD - len(head)]
            digest.update(chunk)
            self.size += len(chunk)
            if self.size > limit:
                _refuse(field, _("The file is larger than the limit of %(limit)s.") % {
                    "limit": filesizeformat(limit)})
        self.file.seek(0)
        if self.size == 0:
            _refuse(field, _("The file is empty."))
        self.sha256 = digest.hexdigest()
        detected = sniff(self.file, head)
        kind = media_type(detected, claimed_type(self.filename, self.declared_type))
        allowed = allowed_types() if enforce_types else None
        if allowed is not None and (kind or detected) not in allowed:
            _refuse(field, _("Files of this kind (%(kind)s) are not accepted.") % {"kind": describe(kind or detected)})
        if kind is None:
            _refuse(field, _("The file is named “%(name)s” but its content is %(kind)s.") % {
                "name": self.filename, "kind": describe(detected)})
        self.media_type = kind
        return self


def _refuse(field: str, message: str):
    raise InvalidInput(message, field_errors={field: [message]})


def stored_name(sha256: str) -> str:
    return f"documents/{sha256[:2]}/{sha256}"


def store(incoming: Incoming):
    """The Blob for the checked content, writing it to storage unless the same content is already there."""
    from tillit.documents.models import Blob

    blob = Blob.objects.filter(pk=incoming.sha256).first()
    name = stored_name(incoming.sha256)
    if blob is not None and default_storage.exists(blob.stored_name):
        return blob
    if default_storage.exists(name):
        default_storage.delete(name)  # a leftover of an interrupted upload, or damaged: write it again
    incoming.file.seek(0)
    saved = default_storage.save(name, incoming.file if isinstance(incoming.file, File) else File(incoming.file))
    if blob is None:
        blob = Blob.objects.create(sha256=incoming.sha256, size=incoming.size, media_type=incoming.media_type,
                                   stored_name=saved)
    elif blob.stored_name != saved:
        Blob.objects.filter(pk=blob.pk).update(stored_name=saved)
        blob.stored_name = saved
    return blob


def store_bytes(data: bytes, filename: str, declared_type: str = ""):
    """Keep bytes that arrived by mail (nothing is refused here; the size limit applies to documents)."""
    from tillit.documents.models import Blob

    sha = hashlib.sha256(data).hexdigest()
    blob = Blob.objects.filter(pk=sha).first()
    if blob is not None and default_storage.exists(blob.stored_name):
        return blob
    incoming = Incoming(ContentFile(data), filename, declared_type)
    incoming.size, incoming.sha256 = len(data), sha
    detected = sniff(incoming.file, data[:HEAD])
    incoming.media_type = media_type(detected, claimed_type(incoming.filename, declared_type)) or detected
    return store(incoming)


def open_blob(blob):
    return default_storage.open(blob.stored_name, "rb")


def verify_blob(blob) -> str:
    """"ok", "missing" or "corrupt": re-read the stored file and compare size and SHA-256."""
    if not default_storage.exists(blob.stored_name):
        return "missing"
    digest = hashlib.sha256()
    size = 0
    with default_storage.open(blob.stored_name, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return "ok" if size == blob.size and digest.hexdigest() == blob.sha256 else "corrupt"


def forget_unused(blobs) -> None:
    """Delete stored files no document version and no kept email attachment still uses."""
    from django.apps import apps

    from tillit.documents.models import Blob, DocumentVersion

    try:
        attachments = apps.get_model("messaging", "Attachment")
    except LookupError:
        attachments = None
    for blob in blobs:
        if DocumentVersion.objects.filter(blob=blob).exists():
            continue
        if attachments is not None and attachments.objects.filter(sha256=blob.sha256).exists():
            continue
        default_storage.delete(blob.stored_name)
        Blob.objects.filter(pk=blob.pk).delete()

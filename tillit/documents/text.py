"""Text for the full-text index, extracted in a background task from PDF, DOCX, OpenDocument text and
spreadsheets (ODT, ODS), XLSX, email (.eml), plain text, CSV and Markdown.

Files come from outside (uploads, mail attachments, portal replies), so a parser never runs in the worker
itself: each file is read in a child process with limits on CPU time, memory and wall time, and a ZIP-based file
(DOCX, XLSX, ODT, ODS) whose members unpack to too much, or at too high a ratio, is refused before any parser
sees it. A file over a limit is marked failed; the worker goes on. Extraction has a queue of its own
(`documents`), so mail and the nightly rounds never wait behind it.
"""

import email
import email.policy
import logging
import multiprocessing
import os
import zipfile
from xml.etree import ElementTree

from django.conf import settings
from django.db import transaction
from django_tasks import task

from tillit.documents import files
from tillit.documents.models import Document, DocumentVersion
from tillit.documents.search import TEXT_LIMIT, index_documents

log = logging.getLogger(__name__)
READ_LIMIT = 50 * 1024 * 1024  # bytes of a text file read for its words
TEXT_TYPES = {"text/plain", "text/markdown", "text/csv"}
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
XLSX = files.XLSX
EML = "message/rfc822"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _pdf_text(fh) -> str:
    from pypdf import PdfReader

    reader = PdfReader(fh)
    out, length = [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        out.append(text)
        length += len(text)
        if length > TEXT_LIMIT:
            break
    return "\n".join(out)


def _docx_text(fh) -> str:
    import docx

    document = docx.Document(fh)
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _opendocument_text(fh) -> str:
    """The words of an ODT or ODS: every text node of content.xml, a line per paragraph or cell."""
    with zipfile.ZipFile(fh) as archive, archive.open("content.xml") as content:
        parts, length = [], 0
        for _event, element in ElementTree.iterparse(content, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag in ("p", "h"):
                text = "".join(element.itertext()).strip()
                if text:
                    parts.append(text)
                    length += len(text)
                element.clear()
                if length > TEXT_LIMIT:
                    break
    return "\n".join(parts)


def _xlsx_text(fh) -> str:
    from tillit.core.sheets import open_workbook, rows_present

    book = open_workbook(fh)
    parts, length = [], 0
    for sheet in book.worksheets:
        parts.append(sheet.title)
        for _number, row in rows_present(sheet):
            line = " ".join(str(v) for v in row if v not in (None, ""))
            if line:
                parts.append(line)
                length += len(line)
            if length > TEXT_LIMIT:
                return "\n".join(parts)
    return "\n".join(parts)


def _email_text(fh) -> str:
    """Who wrote to whom about what, and the message's text (not its raw encoding)."""
    from tillit.messaging.mime import header_text, text_of

    raw = fh.read(READ_LIMIT)
    heads = [header_text(raw, name) for name in ("Subject", "From", "To", "Date")]
    return "\n".join([*(h for h in heads if h), text_of(email.message_from_bytes(raw, policy=email.policy.default))])


READERS = {"application/pdf": _pdf_text, files.DOCX: _docx_text, ODT: _opendocument_text, ODS: _opendocument_text,
           XLSX: _xlsx_text, EML: _email_text}


ZIPPED = {files.DOCX, XLSX, ODT, ODS}
ARCHIVE_BYTES = 200 * 1024 * 1024  # what the members of one file may unpack to
ARCHIVE_RATIO = 100  # and how much larger than packed, once past ARCHIVE_SMALL
ARCHIVE_SMALL = 5 * 1024 * 1024


class TooCostly(Exception):
    """The file would take more than a document's text is worth."""


def check_archive(fh) -> None:
    """Refuse a ZIP-based file whose members unpack to too much (before any parser opens it)."""
    with zipfile.ZipFile(fh) as archive:
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
    if unpacked > ARCHIVE_BYTES or (unpacked > ARCHIVE_SMALL and unpacked > ARCHIVE_RATIO * max(packed, 1)):
        raise TooCostly(f"unpacks to {unpacked} bytes from {packed}")
    fh.seek(0)


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _read_limited(sender, stored_name: str, kind: str, cpu_seconds: int, memory_bytes: int) -> None:
    """In the child: limits first, then the parser; the text or the reason it failed goes back to the parent."""
    import resource

    from django.core.files.storage import default_storage

    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        limit = _address_space() + memory_bytes  # the child starts as a copy of the worker
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        with default_storage.open(stored_name, "rb") as fh:
            if kind in ZIPPED:
                check_archive(fh)
            text = READERS[kind](fh)
        sender.send(("done", text[:TEXT_LIMIT * 2]))
    except BaseException as exc:  # any failure of the parser is reported, not raised
        sender.send(("failed", type(exc).__name__))


def read_isolated(stored_name: str, kind: str) -> str:
    """The text of a stored file of a parsed `kind`, read in a child process within the configured limits."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_read_limited, daemon=True, args=(
        sender, stored_name, kind, settings.TILLIT_EXTRACT_CPU_SECONDS,
        settings.TILLIT_EXTRACT_MEMORY_MB * 1024 * 1024))
    child.start()
    sender.close()
    try:
        if not receiver.poll(settings.TILLIT_EXTRACT_SECONDS):
            raise TooCostly(f"no text within {settings.TILLIT_EXTRACT_SECONDS} s")
        outcome, value = receiver.recv()
    except EOFError:  # the child was killed by a limit before it could answer
        raise TooCostly("the reader was stopped by a limit") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if outcome != "done":
        raise TooCostly(value)
    return value


def extract(blob) -> tuple[str, str]:
    """(text, status) for a stored file; a parsed kind is read in a child process (read_isolated)."""
    kind = blob.media_type
    if kind not in TEXT_TYPES and kind not in READERS:
        return "", DocumentVersion.Text.NONE
    if kind in TEXT_TYPES:
        with files.open_blob(blob) as fh:
            text = _decode(fh.read(READ_LIMIT))
    else:
        text = read_isolated(blob.stored_name, kind)
    text = text.replace("\x00", " ").strip()
    return text[:TEXT_LIMIT * 2], DocumentVersion.Text.DONE


@task(queue_name="documents")
def extract_text(version_id: int) -> str:
    """Read the words of one version and, if it is the document's latest, index them."""
    version = DocumentVersion.objects.select_related("blob").filter(pk=version_id).first()
    if version is None:
        return "gone"  # the document was deleted meanwhile: nothing to read
    try:
        text, status = extract(version.blob)
    except Exception as exc:  # a damaged file is marked, not retried for ever
        log.warning("text of document version %s could not be read: %s %s", version.pk, type(exc).__name__,
                    str(exc)[:200] if isinstance(exc, TooCostly) else "")
        text, status = "", DocumentVersion.Text.FAILED
    with transaction.atomic():
        DocumentVersion.objects.filter(pk=version.pk).update(text=text, text_status=status)
        if Document.objects.filter(pk=version.document_id, current_id=version.pk).exists():
            index_documents([version.document_id])
    return status


@task()
def requeue_pending_round() -> int:
    """On Redis: queue again the reading of versions whose text is still pending past core.tasks.STALLED (their
    task was lost between a commit and the queueing). Reading is safe to run twice."""
    from django.utils import timezone

    from tillit.core.tasks import STALLED, sweeps

    if not sweeps():
        return 0
    pending = list(DocumentVersion.objects.filter(text_status=DocumentVersion.Text.PENDING,
                                                  created_at__lt=timezone.now() - STALLED).values_list("pk", flat=True)
                   [:1000])
    for pk in pending:
        extract_text.enqueue(pk)
    return len(pending)

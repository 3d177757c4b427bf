"""Text for the full-text index, extracted in a background task from PDF, DOCX, OpenDocument text and
spreadsheets (ODT, ODS), XLSX, email (.eml), plain text, CSV and Markdown."""

import email
import email.policy
import logging
import zipfile
from xml.etree import ElementTree

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
    import openpyxl

    book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    parts, length = [], 0
    for sheet in book.worksheets:
        parts.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
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


def extract(blob) -> tuple[str, str]:
    """(text, status) for a stored file."""
    kind = blob.media_type
    if kind not in TEXT_TYPES and kind not in READERS:
        return "", DocumentVersion.Text.NONE
    with files.open_blob(blob) as fh:
        text = _decode(fh.read(READ_LIMIT)) if kind in TEXT_TYPES else READERS[kind](fh)
    text = text.replace("\x00", " ").strip()
    return text[:TEXT_LIMIT * 2], DocumentVersion.Text.DONE


@task()
def extract_text(version_id: int) -> str:
    """Read the words of one version and, if it is the document's latest, index them."""
    version = DocumentVersion.objects.select_related("blob").filter(pk=version_id).first()
    if version is None:
        return "gone"  # the document was deleted meanwhile: nothing to read
    try:
        text, status = extract(version.blob)
    except Exception as exc:  # noqa: BLE001 - a damaged file is marked, not retried for ever
        log.warning("text of document version %s could not be read: %s", version.pk, type(exc).__name__)
        text, status = "", DocumentVersion.Text.FAILED
    with transaction.atomic():
        DocumentVersion.objects.filter(pk=version.pk).update(text=text, text_status=status)
        if Document.objects.filter(pk=version.document_id, current_id=version.pk).exists():
            index_documents([version.document_id])
    return status

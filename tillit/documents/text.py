"""Text for the full-text index, extracted in a background task from PDF, DOCX, plain text and Markdown."""

import logging

from django.db import transaction
from django_tasks import task

from tillit.documents import files
from tillit.documents.models import Document, DocumentVersion
from tillit.documents.search import TEXT_LIMIT, index_documents

log = logging.getLogger(__name__)
READ_LIMIT = 50 * 1024 * 1024  # bytes of a text file read for its words
TEXT_TYPES = {"text/plain", "text/markdown", "text/csv", "message/rfc822"}


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


def extract(blob) -> tuple[str, str]:
    """(text, status) for a stored file."""
    kind = blob.media_type
    if kind not in TEXT_TYPES and kind not in ("application/pdf", files.DOCX):
        return "", DocumentVersion.Text.NONE
    with files.open_blob(blob) as fh:
        if kind in TEXT_TYPES:
            text = _decode(fh.read(READ_LIMIT))
        else:
            text = _pdf_text(fh) if kind == "application/pdf" else _docx_text(fh)
    text = text.replace("\x00", " ").strip()
    return text[:TEXT_LIMIT * 2], DocumentVersion.Text.DONE


@task()
def extract_text(version_id: int) -> str:
    """Read the words of one version and, if it is the document's latest, index them."""
    version = DocumentVersion.objects.select_related("blob").get(pk=version_id)
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

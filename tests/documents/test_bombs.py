"""Files from outside cannot stop the work: a spreadsheet declaring the whole sheet, a DOCX of a million empty
paragraphs and a parser that never ends are each read within limits, and the worker sends a login link within
seconds while they are being read."""

import io
import os
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest
from django.core.files.base import ContentFile

from tests import factories
from tillit.documents.models import DocumentVersion

pytestmark = pytest.mark.django_db


def declared_xlsx(ref: str, rows=(("national_id", "period", "amount"),)) -> bytes:
    """A small workbook whose sheet declares the extent `ref` (as a crafted file may)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    raw = io.BytesIO()
    book.save(raw)
    source, out = zipfile.ZipFile(io.BytesIO(raw.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b"<dimension ref=\"") + len(b"<dimension ref=\"")
                data = data[:start] + ref.encode() + data[data.index(b"\"", start):]
            target.writestr(item, data)
    return out.getvalue()


def million_paragraphs_docx() -> bytes:
    body = b"<w:p/>" * 1_000_000
    document = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>' + body + b"</w:body>"
                b"</w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
                         'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def _version(world, content: bytes, name: str):
    from tillit.documents.services import create_document

    document = create_document(file=ContentFile(content), filename=name, unit=world.a.branch, actor=None,
                               channel="system")
    return document.current


def test_the_bomb_files_are_small(world):
    assert len(declared_xlsx("A1:XFD1048576")) < 8_000 and len(million_paragraphs_docx()) < 120_000


def test_a_spreadsheet_is_read_by_its_rows_not_by_the_extent_it_declares(world, tmp_path):
    from tillit.documents.text import extract
    from tillit.dues.returns import parse_return
    from tillit.registry.importer import read_rows

    content = declared_xlsx("A1:XFD1048576", rows=(("national_id", "period", "amount"), ("", "2027-01", "400")))
    started = time.monotonic()
    text, status = extract(_version(world, content, "bomb.xlsx").blob)
    assert status == DocumentVersion.Text.DONE and "2027-01" in text
    with pytest.raises(Exception, match="national_id|member"):  # read in full, refused for its rows' content
        parse_return(declared_xlsx("A1:XFD3000", rows=(("period", "amount"), ("2027-01", "400"))), "r.xlsx")
    path = tmp_path / "people.xlsx"
    path.write_bytes(content)
    header, rows = read_rows(path)
    assert header == ["national_id", "period", "amount"] and len(list(rows)) == 1
    assert time.monotonic() - started < 20  # was minutes and hundreds of MB


def test_an_archive_that_unpacks_to_too_much_is_refused_before_it_is_parsed(world):
    from tillit.documents.text import extract_text

    version = _version(world, million_paragraphs_docx(), "bomb.docx")
    assert extract_text.call(version.pk) == DocumentVersion.Text.FAILED


def test_a_reader_that_never_ends_is_stopped_by_the_limits(world, settings, monkeypatch):
    from tillit.documents import text

    settings.TILLIT_EXTRACT_SECONDS = 3
    settings.TILLIT_EXTRACT_CPU_SECONDS = 2

    def forever(fh):
        while True:
            pass

    monkeypatch.setitem(text.READERS, "application/pdf", forever)
    version = _version(world, factories.tiny_pdf("Hello"), "slow.pdf")
    started = time.monotonic()
    assert text.extract_text.call(version.pk) == DocumentVersion.Text.FAILED
    assert time.monotonic() - started < 10


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_a_login_link_within_seconds_while_files_from_outside_are_read(portal, tmp_path, media):
    """Files arrive by upload, by email and as a portal reply; meanwhile a member asks for a login link."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.core.test_worker import _database_url, _wait
    from tillit.messaging.inbound import ingest_email
    from tillit.messaging.models import Message
    from tillit.portal.services import reply

    user, person = portal.members_users[0]
    case = factories.case(portal.a, subjects=[person])
    _version(portal, declared_xlsx("A1:XFD1048576"), "upload.xlsx")
    raw = (b"From: " + person.email.encode() + b"\r\nTo: post@tillit.example\r\nSubject: [" + case.number.encode()
           + b"] file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nHere\r\n--b\r\nContent-Type: application/vnd.openxmlformats-"
           b"officedocument.wordprocessingml.document\r\nContent-Disposition: attachment; filename=big.docx\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n")
    import base64

    raw += base64.encodebytes(million_paragraphs_docx()) + b"--b--\r\n"
    ingest_email(raw)
    reply(case, person=person, user=user, body="", upload=SimpleUploadedFile("reply.xlsx", declared_xlsx(
        "A1:XFD1048576")))
    versions = list(DocumentVersion.objects.values_list("pk", flat=True))
    assert len(versions) == 3
    env = {**os.environ, "DATABASE_URL": _database_url(), "TILLIT_VAR_DIR": str(tmp_path),
           "TILLIT_MEDIA_ROOT": str(media), "TILLIT_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    worker = subprocess.Popen([sys.executable, "-m", "tillit.cli", "worker", "--no-schedule", "--interval", "0.2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        Client().post("/login/link/", {"email": person.email})
        started = time.monotonic()
        _wait(lambda: Message.objects.filter(address=person.email, subject__icontains="login",
                                             status=Message.Status.SENT).exists(), 30, "the login link to be sent")
        assert time.monotonic() - started < 15
        _wait(lambda: not DocumentVersion.objects.filter(pk__in=versions, text_status="pending").exists(), 60,
              "the files to be read or refused")
    finally:
        worker.terminate()
        worker.wait(10)

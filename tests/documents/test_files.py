"""What a file is, from its bytes; what is refused; that nothing is kept of a refused upload."""

import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from tests import factories
from tillit.core.errors import InvalidInput
from tillit.documents import files
from tillit.documents.models import Blob, Document

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _docx_bytes(text="Hei"):
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(text)
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\kari\\Lønnsslipp mars.pdf", "Lønnsslipp mars.pdf"),
    ("a\x00b\nc.txt", "abc.txt"),
    ('bad<>:"|?*.txt', "bad_______.txt"),
    ("...hidden", "hidden"),
    ("", "document"),
])
def test_file_names_are_made_safe(name, expected):
    assert files.sanitise_filename(name) == expected


def test_long_names_keep_their_extension():
    name = files.sanitise_filename("x" * 400 + ".docx")
    assert len(name) <= 200 and name.endswith(".docx")


@pytest.mark.parametrize("content, name, kind", [
    (factories.tiny_pdf("Hello"), "a.pdf", "application/pdf"),
    (PNG, "a.png", "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "photo.jpg", "image/jpeg"),
    ("Lønn og ærlighet\n".encode(), "notes.txt", "text/plain"),
    (b"# Title\n\ntext", "readme.md", "text/markdown"),
    (b"a;b\n1;2\n", "table.csv", "text/csv"),
    (b"just text", "no-extension", "text/plain"),
])
def test_the_type_comes_from_the_content(content, name, kind):
    incoming = files.Incoming(ContentFile(content), name).check(enforce_types=False)
    assert incoming.media_type == kind


def test_office_files_are_told_apart_by_their_insides():
    incoming = files.Incoming(ContentFile(_docx_bytes()), "letter.docx").check()
    assert incoming.media_type == files.DOCX
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("x.txt", "x")
    with pytest.raises(InvalidInput) as refused:
        files.Incoming(ContentFile(plain_zip.getvalue()), "letter.docx").check()
    assert "(.zip) are not accepted" in refused.value.field_errors["file"][0]
    with pytest.raises(InvalidInput) as refused:
        files.Incoming(ContentFile(plain_zip.getvalue()), "letter.docx").check(enforce_types=False)
    assert "named “letter.docx” but its content is .zip" in refused.value.message


@pytest.mark.parametrize("content, name, message", [
    (b"", "empty.pdf", "The file is empty."),
    (PNG, "report.pdf", "named “report.pdf” but its content is .png"),
    (b"MZ\x90\x00" + b"\x00" * 40, "setup.exe", "are not accepted"),
    (b"MZ\x90\x00" + b"\x00" * 40, "invoice.pdf", "(.exe) are not accepted"),
    (b"%PDF-1.4 not really", "notes.txt", "named “notes.txt” but its content is .pdf"),
    (b"<html><script>alert(1)</script></html>", "page.html", "are not accepted"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "logo.svg", "are not accepted"),
])
def test_refused_uploads_say_why_and_keep_nothing(world, media, content, name, message):
    before = Document.objects.count()
    with pytest.raises(InvalidInput) as refused:
        if content:
            factories.document(world.a, content=content, filename=name)
        else:
            _create_empty(world, name)
    assert message in " ".join(refused.value.field_errors["file"]) + refused.value.message
    assert Document.objects.count() == before
    assert not Blob.objects.exists()
    assert not (media / "documents").exists() or not any((media / "documents").rglob("*"))


def _create_empty(world, name):
    from tillit.documents.services import create_document

    return create_document(file=ContentFile(b""), filename=name, unit=world.a.branch, actor=None)


def test_over_size_files_are_refused(world, settings):
    settings.TILLIT_DOCUMENT_MAX_BYTES = 1000
    with pytest.raises(InvalidInput) as refused:
        factories.document(world.a, content=b"x" * 1001)
    assert "larger than the limit" in refused.value.message
    assert not Document.objects.exists()


def test_identical_content_is_stored_once(world, media):
    one = factories.document(world.a, content=b"the same words")
    two = factories.document(world.b, content=b"the same words", filename="copy.txt")
    assert one.current.blob_id == two.current.blob_id
    assert Blob.objects.count() == 1
    assert len([p for p in (media / "documents").rglob("*") if p.is_file()]) == 1

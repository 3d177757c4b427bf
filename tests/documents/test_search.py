"""Text from PDF, DOCX, text and Markdown, extracted in the background and searched within the user's scope."""

import io

import pytest
from django.urls import reverse

from tests import factories
from tillit.documents import search, services
from tillit.documents.models import Document, DocumentVersion
from tillit.documents.text import extract_text

pytestmark = pytest.mark.django_db


def _docx(text):
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Innledning")
    table = document.add_table(rows=1, cols=1)
    table.rows[0].cells[0].text = text
    document.save(buffer)
    return buffer.getvalue()


def _extracted(doc):
    assert extract_text.call(doc.current_id) == "done"
    return DocumentVersion.objects.get(pk=doc.current_id)


def test_text_comes_out_of_pdf_docx_text_and_markdown(world):
    pdf = factories.document(world.a, content=factories.tiny_pdf("Tariffavtale for renholdere"), filename="a.pdf")
    docx = factories.document(world.a, content=_docx("Turnusplan for helgene"), filename="b.docx")
    md = factories.document(world.a, content="# Årsmøte\n\nValg av styre og lønnsoppgjør".encode(), filename="c.md")
    latin = factories.document(world.a, content="Förhandling om lön".encode("cp1252"), filename="d.txt")
    assert "Tariffavtale for renholdere" in _extracted(pdf).text
    assert "Turnusplan for helgene" in _extracted(docx).text
    assert "lønnsoppgjør" in _extracted(md).text
    assert "Förhandling om lön" in _extracted(latin).text


def test_images_have_no_text_and_broken_files_are_marked(world):
    png = factories.document(world.a, content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, filename="a.png")
    assert extract_text.call(png.current_id) == "none"
    broken = factories.document(world.a, content=b"%PDF-1.4\nnot a real pdf", filename="x.pdf")
    assert extract_text.call(broken.current_id) == "failed"


def test_search_finds_words_in_titles_and_text_with_a_snippet(world):
    doc = factories.document(world.a, content="Referat fra drøftingsmøte om nattevakter og bemanning.".encode(),
                             filename="referat.txt", title="Møtereferat mars")
    _extracted(doc)
    other = factories.document(world.a, content=b"Something else entirely", filename="o.txt")
    _extracted(other)
    qs = Document.objects.all()
    assert list(search.search(qs, "nattevakt")) == [doc]  # a prefix of the word
    assert list(search.search(qs, "møtereferat")) == [doc]  # in the title
    assert list(search.search(qs, "drøftingsmøte bemanning")) == [doc]
    assert list(search.search(qs, "drøftingsmøte entirely")) == []  # every word must match
    snippet = search.snippets([doc.pk], "nattevakter")[doc.pk]
    assert f"{search.START}nattevakter{search.STOP}" in snippet


def test_a_new_version_replaces_the_text_searched(world):
    doc = factories.document(world.a, content=b"old words here", filename="n.txt")
    _extracted(doc)
    services.add_version(doc, file=io.BytesIO(b"fresh content"), filename="n.txt", actor=None, base_version=1)
    doc.refresh_from_db()
    _extracted(doc)
    assert list(search.search(Document.objects.all(), "fresh")) == [doc]
    assert list(search.search(Document.objects.all(), "old")) == []


def test_search_stays_within_the_users_scope(client, world):
    mine = factories.document(world.a, content=b"Avtale om hjemmekontor", filename="a.txt")
    theirs = factories.document(world.b, content=f"Avtale om hjemmekontor {world.b.marker}".encode(), filename="b.txt")
    _extracted(mine)
    _extracted(theirs)
    client.force_login(world.a.staff)
    response = client.get(reverse("documents") + "?q=hjemmekontor")
    assert [d.pk for d in response.context["rows"]] == [mine.pk]
    assert "<mark>hjemmekontor</mark>" in response.content.decode()
    assert world.b.marker not in response.content.decode()


def test_the_snippet_is_escaped(client, world):
    doc = factories.document(world.a, content=b"Note: <script>alert(1)</script> kontingent", filename="x.txt")
    _extracted(doc)
    client.force_login(world.a.staff)
    body = client.get(reverse("documents") + "?q=kontingent").content.decode()
    assert "<mark>kontingent</mark>" in body
    assert "<script>alert" not in body  # escaped on SQLite; PostgreSQL's headline drops tags


def test_words_too_common_to_rank_give_the_newest_first(world, monkeypatch):
    older = factories.document(world.a, content=b"tariff tariff tariff", filename="a.txt")
    newer = factories.document(world.a, content=b"tariff once", filename="b.txt")
    for doc in (older, newer):
        _extracted(doc)
    assert list(search.search(Document.objects.all(), "tariff")) == [older, newer]  # ranked: more hits first
    monkeypatch.setattr(search, "RANKED", 1)
    assert list(search.search(Document.objects.all(), "tariff")) == [newer, older]


def _opendocument(kind: str, body: str) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                         '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        archive.writestr("content.xml", '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                         'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                         'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                         'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">'
                         f'<office:body>{body}</office:body></office:document-content>')
    return buffer.getvalue()


def test_text_comes_out_of_opendocument_spreadsheets_and_forwarded_email(world):
    import openpyxl

    odt = factories.document(world.a, filename="vedtak.odt", content=_opendocument(
        "text", "<office:text><text:h>Vedtak</text:h><text:p>Permisjon med <text:span>lønn</text:span> innvilget"
                "</text:p></office:text>"))
    ods = factories.document(world.a, filename="liste.ods", content=_opendocument(
        "spreadsheet", "<office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>Kontingent"
                       "sats</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"))
    book = openpyxl.Workbook()
    book.active.append(["Medlem", "Trekk i lønn"])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = factories.document(world.a, filename="trekk.xlsx", content=buffer.getvalue())
    eml = factories.document(world.a, filename="fwd.eml", content=(
        "From: Kari <kari@example.no>\r\nSubject: =?utf-8?q?S=C3=B8knad_om_st=C3=B8tte?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Jeg søker om støtte til kurs.\r\n").encode())
    assert "Permisjon med lønn innvilget" in _extracted(odt).text and "Vedtak" in _extracted(odt).text
    assert "Kontingentsats" in _extracted(ods).text
    assert "Trekk i lønn" in _extracted(xlsx).text
    text = _extracted(eml).text
    assert "Søknad om støtte" in text and "Jeg søker om støtte til kurs." in text and "=?utf-8" not in text
    assert search.search(Document.objects.all(), "støtte").filter(pk=eml.pk).exists()


def test_a_text_whose_words_overflow_the_index_is_still_read_and_found(world):
    """On PostgreSQL a text in four-byte characters overflowed the 1 MB a tsvector holds: the reading of the file
    failed and its text stayed unread and unfound. Now as much of its beginning as fits is indexed."""
    import random

    from django.core.files.base import ContentFile

    from tillit.documents.models import Document, DocumentVersion
    from tillit.documents.search import search
    from tillit.documents.services import create_document
    from tillit.documents.text import extract_text

    rng = random.Random(1)
    words = ["".join(chr(rng.randrange(0x20000, 0x2A6D6)) for _ in range(50)) for _ in range(7000)]
    document = create_document(file=ContentFile(("needle " + " ".join(words)).encode()), filename="wide.txt",
                               unit=world.a.branch, actor=None, channel="system")
    assert extract_text.call(document.current_id) == DocumentVersion.Text.DONE
    assert list(search(Document.objects.all(), "needle").values_list("pk", flat=True)) == [document.pk]


def test_a_snippet_splits_into_its_found_words_and_the_text_between():
    from tillit.documents.templatetags.documents import snippet_parts

    s, e = search.START, search.STOP
    parts = snippet_parts(f"om {s}lønn{e} og <b>{s}ferie{e}{s}")
    assert [(p["text"], p["found"]) for p in parts] == [("om ", False), ("lønn", True), (" og <b>", False),
                                                        ("ferie", True)]
    assert snippet_parts("") == []

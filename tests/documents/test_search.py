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

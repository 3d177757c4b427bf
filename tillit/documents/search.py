"""Full-text search over titles, descriptions, file names and the text of each document's latest version.

PostgreSQL: a tsvector column with a GIN index ('simple' configuration: the words as written, since
documents are in Norwegian, Swedish and English alike). SQLite: an FTS5 table keyed by document id.
Both are written by `index_documents` when a document or its latest text changes; every word of the
query must match, as a prefix ("lønn" finds "lønnsoppgjør").
"""

import re

from django.db import connection
from django.db.models import F, FloatField
from django.db.models.expressions import RawSQL

START, STOP = "\ue000", "\ue001"  # snippet highlight markers; the template escapes, then marks
TEXT_LIMIT = 300_000  # characters of a version's text that are indexed
HEADLINE_LIMIT = 100_000


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())[:10]


def index_documents(ids) -> None:
    ids = [int(i) for i in ids]
    if not ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE documents_document d SET search_vector ="
                " setweight(to_tsvector('simple', d.title), 'A')"
                " || setweight(to_tsvector('simple', d.description || ' ' || coalesce(v.filename, '')), 'B')"
                " || setweight(to_tsvector('simple', left(coalesce(v.text, ''), %s)), 'C')"
                " FROM documents_document d2 LEFT JOIN documents_documentversion v ON v.id = d2.current_id"
                " WHERE d.id = d2.id AND d.id = ANY(%s)", [TEXT_LIMIT, ids])
        elif connection.vendor == "sqlite":
            marks = ",".join("?" * len(ids))
            cursor.execute(f"DELETE FROM documents_fts WHERE rowid IN ({marks})", ids)
            cursor.execute(
                "INSERT INTO documents_fts(rowid, title, body)"
                " SELECT d.id, d.title, d.description || ' ' || coalesce(v.filename, '') || ' '"
                " || substr(coalesce(v.text, ''), 1, ?)"
                " FROM documents_document d LEFT JOIN documents_documentversion v ON v.id = d.current_id"
                f" WHERE d.id IN ({marks})", [TEXT_LIMIT, *ids])


def _pg_query(words):
    return " & ".join(f"{w}:*" for w in words)


def _sqlite_query(words):
    return " AND ".join(f'"{w}"*' for w in words)


def search(qs, text: str):
    """`qs` narrowed to documents matching every word of `text`, best matches first."""
    words = words_of(text)
    if not words:
        return qs
    if connection.vendor == "postgresql":
        query = _pg_query(words)
        return qs.annotate(rank=RawSQL("ts_rank(documents_document.search_vector, to_tsquery('simple', %s))",
                                       [query], output_field=FloatField())).extra(
            where=["documents_document.search_vector @@ to_tsquery('simple', %s)"], params=[query]
        ).order_by("-rank", "-updated_at", "-pk")
    query = _sqlite_query(words)
    return qs.filter(pk__in=RawSQL("SELECT rowid FROM documents_fts WHERE documents_fts MATCH %s", [query])).annotate(
        rank=RawSQL("(SELECT -rank FROM documents_fts WHERE documents_fts MATCH %s"
                    " AND documents_fts.rowid = documents_document.id)", [query], output_field=FloatField())
    ).order_by(F("rank").desc(nulls_last=True), "-updated_at", "-pk")


def snippets(ids, text: str) -> dict[int, str]:
    """For the documents of one page: the passage of text around the words found, with the words marked."""
    words = words_of(text)
    ids = [int(i) for i in ids]
    if not words or not ids:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT d.id, ts_headline('simple', left(coalesce(v.text, '') || ' ' || d.description, %s),"
                " to_tsquery('simple', %s), %s)"
                " FROM documents_document d LEFT JOIN documents_documentversion v ON v.id = d.current_id"
                " WHERE d.id = ANY(%s)",
                [HEADLINE_LIMIT, _pg_query(words),
                 f"StartSel={START}, StopSel={STOP}, MaxWords=28, MinWords=8, MaxFragments=2, FragmentDelimiter= … ",
                 ids])
        else:
            marks = ",".join("?" * len(ids))
            cursor.execute(f"SELECT rowid, snippet(documents_fts, 1, ?, ?, ' … ', 20) FROM documents_fts"
                           f" WHERE documents_fts MATCH ? AND rowid IN ({marks})",
                           [START, STOP, _sqlite_query(words), *ids])
        return {row[0]: row[1] for row in cursor.fetchall() if row[1] and START in row[1]}

"""Full-text search over titles, descriptions, file names and the text of each document's latest version.

PostgreSQL: a tsvector column with a GIN index ('simple' configuration: the words as written, since
documents are in Norwegian, Swedish and English alike). SQLite: an FTS5 table keyed by document id.
Both are written by `index_documents` when a document or its latest text changes; every word of the
query must match, as a prefix ("lønn" finds "lønnsoppgjør"). The snippet shown under a hit is cut
from the stored text in Python, the same on both databases.
"""

import re

from django.db import DataError, OperationalError, connection, transaction
from django.db.models import Case, FloatField, IntegerField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr

START, STOP = "\ue000", "\ue001"  # words found; templatetags split, the template marks
TEXT_LIMIT = 300_000  # characters of a version's text that are indexed
HEADLINE_LIMIT = 100_000
RANKED = 2000


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())[:10]


def _index_postgresql(cursor, ids: list[int], limit: int) -> None:
    cursor.execute(
        "UPDATE documents_document d SET search_vector ="
        " setweight(to_tsvector('simple', d.title), 'A')"
        " || setweight(to_tsvector('simple', d.description || ' ' || coalesce(v.filename, '')), 'B')"
        " || setweight(to_tsvector('simple', left(coalesce(v.text, ''), %s)), 'C')"
        " FROM documents_document d2 LEFT JOIN documents_documentversion v ON v.id = d2.current_id"
        " WHERE d.id = d2.id AND d.id = ANY(%s)", [limit, ids])


def index_documents(ids) -> None:
    """Write the search index of these documents. On PostgreSQL a text whose words take more than a tsvector
    holds (1 MB: text in four-byte characters, say) is indexed by as much of its beginning as fits, rather than
    failing the reading of the file and leaving its text unread."""
    ids = [int(i) for i in ids]
    if not ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    _index_postgresql(cursor, ids, TEXT_LIMIT)
            except (DataError, OperationalError) as exc:
                if "tsvector" not in str(exc):
                    raise
                for pk in ids:  # one at a time, each with as much text as fits
                    limit = TEXT_LIMIT // 2
                    while True:
                        try:
                            with transaction.atomic():
                                _index_postgresql(cursor, [pk], limit)
                            break
                        except (DataError, OperationalError):
                            if limit == 0:
                                raise
                            limit //= 2
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


def _matching(qs, words):
    if connection.vendor == "postgresql":
        return qs.extra(where=["documents_document.search_vector @@ to_tsquery('simple', %s)"],
                        params=[_pg_query(words)])
    return qs.filter(pk__in=RawSQL("SELECT rowid FROM documents_fts WHERE documents_fts MATCH %s",
                                   [_sqlite_query(words)]))


def _candidate_ids(matching) -> list[int]:
    """Up to RANKED + 1 matching ids. On PostgreSQL the word index must lead: the planner, which
    cannot know that each full-text test reads a large compressed value, otherwise prefers testing
    row after row (measured: 300-500 ms against 20-50 ms at 100,000 documents)."""
    ids = matching.order_by().values_list("pk", flat=True)[:RANKED + 1]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return list(ids)


def search(qs, text: str):
    """`qs` narrowed to documents matching every word of `text`, best matches first.

    Ranking reads each match's whole index entry, so it is done when at most RANKED documents
    match (on PostgreSQL: within the user's scope; on SQLite: in all, ranked by FTS5's bm25);
    words so common that more match are shown newest first (an index walk that stops at the page).
    Callers add select_related after this.
    """
    words = words_of(text)
    if not words:
        return qs
    matching = _matching(qs, words)
    if connection.vendor == "postgresql":
        ids = _candidate_ids(matching)
        if len(ids) > RANKED:
            return matching.order_by("-updated_at", "-pk")
        rank = RawSQL("ts_rank(documents_document.search_vector, to_tsquery('simple', %s))", [_pg_query(words)],
                      output_field=FloatField())
        return qs.model.objects.filter(pk__in=ids).annotate(rank=rank).order_by("-rank", "-updated_at", "-pk")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH %s ORDER BY rank LIMIT %s",
                       [_sqlite_query(words), RANKED + 1])
        ranked = [row[0] for row in cursor.fetchall()]
    if len(ranked) > RANKED:
        return matching.order_by("-updated_at", "-pk")
    position = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ranked)], output_field=IntegerField())
    return qs.filter(pk__in=ranked).annotate(rank=position).order_by("rank")


_TOKEN = re.compile(r"\w+")


def _snippet(text: str, words: list[str], around: int = 12) -> str:
    """The passage around the first place one of the words (as a prefix) occurs, with the words marked."""
    tokens = list(_TOKEN.finditer(text))
    hits = [i for i, t in enumerate(tokens) if t.group().lower().startswith(tuple(words))]
    if not hits:
        return ""
    first = max(0, hits[0] - around // 2)
    last = min(len(tokens) - 1, hits[0] + around)
    out, cursor = [], tokens[first].start()
    for token in tokens[first:last + 1]:
        out.append(text[cursor:token.start()])
        word = token.group()
        out.append(f"{START}{word}{STOP}" if word.lower().startswith(tuple(words)) else word)
        cursor = token.end()
    passage = " ".join("".join(out).split())
    return ("… " if first > 0 else "") + passage + (" …" if last < len(tokens) - 1 else "")


def snippets(ids, text: str) -> dict[int, str]:
    """For the documents of one page: the passage of text around the words found, with the words marked."""
    from tillit.documents.models import Document

    words = words_of(text)
    if not words or not ids:
        return {}
    rows = Document.objects.filter(pk__in=list(ids)).annotate(
        body=Substr(Coalesce("current__text", Value("")), 1, HEADLINE_LIMIT)).values_list("pk", "description", "body")
    out = {}
    for pk, description, body in rows:
        found = _snippet(body, words) or _snippet(description, words)
        if found:
            out[pk] = found
    return out

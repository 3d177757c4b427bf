"""Finding people by what a caller remembers: name (typo-tolerant), member number, email, phone, id.

Name search uses PostgreSQL's pg_trgm word similarity, and on SQLite an FTS5 trigram index
(substring match first, then a typo-tolerant pass that ranks candidates by shared trigrams).
"""

import re

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL

from tillit.registry.identity import parse_national_id, parse_phone
from tillit.registry.models import Membership, Person

_SEPARATORS = re.compile(r"[\s\-+.()]")
FUZZY_CANDIDATES = 400


def trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def name_similarity(query: str, name: str) -> float:
    """Mean over the query's words of the best trigram similarity with one of the name's words."""
    words = name.split()
    if not words:
        return 0.0
    total = 0.0
    query_words = query.split()
    for q in query_words:
        qt = trigrams(q)
        total += max(len(qt & trigrams(w)) / len(qt | trigrams(w)) for w in words)
    return total / len(query_words)


def _ordered(qs, ids):
    order = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], output_field=IntegerField())
    return qs.filter(pk__in=ids).order_by(order)


def _fts_phrase(words):
    return " AND ".join('"' + w.replace('"', "") + '"' for w in words)


def _search_names_sqlite(qs, text: str, limit: int):
    words = [w for w in text.split() if w]
    if all(len(w) >= 3 for w in words):
        exact = qs.filter(pk__in=RawSQL(
            "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s", [_fts_phrase(words)]))
        exact = exact.order_by("last_name", "first_name", "id")[:limit]
        found = list(exact)
        if found:
            return found
    grams = set()
    for w in words:
        grams |= {g for g in trigrams(w) if g.strip() and " " not in g}
    if not grams:
        return list(qs.filter(search_name__contains=text)[:limit])
    expr = " OR ".join('"' + g.replace('"', "") + '"' for g in sorted(grams))
    candidates = list(qs.filter(pk__in=RawSQL(
        "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s ORDER BY rank LIMIT %s",
        [expr, FUZZY_CANDIDATES])).values_list("pk", "search_name"))
    scored = sorted(((name_similarity(text, name), pk) for pk, name in candidates), reverse=True)
    ids = [pk for score, pk in scored if score >= 0.3][:limit]
    return list(_ordered(qs, ids))


def _search_names_postgres(qs, text: str, limit: int):
    from django.contrib.postgres.search import TrigramWordSimilarity

    return list(
        qs.filter(search_name__trigram_word_similar=text)
        .annotate(score=TrigramWordSimilarity(text, "search_name"))
        .order_by("-score", "last_name", "id")[:limit]
    )


def search_people(qs, text: str, *, limit: int = 50) -> list[Person]:
    """People in `qs` (already scoped with visible_to) matching `text`, best match first."""
    text = (text or "").strip().lower()
    if not text:
        return []
    if "@" in text:
        return list(qs.filter(email=text)[:limit])
    compact = _SEPARATORS.sub("", text)
    if compact.isdigit():
        q = Q(pk__in=Membership.objects.filter(member_number=compact).values("person_id"))
        try:
            q |= Q(national_id=parse_national_id(compact)[0])
        except ValueError:
            if len(compact) == 6:  # a birth date, the first half of a fødselsnummer
                q |= Q(national_id__startswith=compact)
        try:
            q |= Q(phone=parse_phone(text))
        except ValueError:
            pass
        return list(qs.filter(q).order_by("last_name", "first_name", "id")[:limit])
    if connection.vendor == "postgresql":
        return _search_names_postgres(qs, text, limit)
    return _search_names_sqlite(qs, text, limit)

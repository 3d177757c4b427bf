"""Finding people by what a caller remembers: name (typo-tolerant), member number, email, phone, id.

Names: substring match first, through a trigram index (pg_trgm GIN on PostgreSQL, FTS5 trigram
on SQLite); with no hit, a typo-tolerant pass gathers candidates that share trigrams with the
query or contain a one-typo variant of it, and ranks them by trigram and edit-distance score.
"""

import functools
import re

from django.db import connection
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL

from tillit.registry.identity import parse_national_id, parse_phone
from tillit.registry.models import Membership, Person

_SEPARATORS = re.compile(r"[\s\-+.()]")
FUZZY_CANDIDATES = 400
MIN_SCORE = 0.6
EXACT_CAP = 1000


def trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]


@functools.lru_cache(maxsize=65536)
def word_score(query: str, word: str) -> float:
    """1.0 for a prefix, else the better of trigram overlap and edit-distance similarity (cached:
    the same names come back for query after query)."""
    if word.startswith(query):
        return 1.0
    qt, wt = trigrams(query), trigrams(word)
    by_trigram = len(qt & wt) / len(qt | wt)
    by_edits = 1 - edit_distance(query, word[:len(query) + 1] if len(word) > len(query) + 1 else word) / max(
        len(query), 1)
    return max(by_trigram, by_edits)


def name_score(query: str, name: str) -> float:
    """Mean over the query's words of the best match with one of the name's words (0..1)."""
    words = name.split()
    query_words = query.split()
    if not words or not query_words:
        return 0.0
    return sum(max(word_score(q, w) for w in words) for q in query_words) / len(query_words)


def typo_variants(word: str) -> set[str]:
    """The word with one adjacent swap or one letter left out: what fingers most often do."""
    out = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    out |= {word[:i] + word[i + 1:] for i in range(len(word))}
    return {v for v in out if len(v) >= 3}


def _ordered(qs, ids):
    order = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], output_field=IntegerField())
    return qs.filter(pk__in=ids).order_by(order)


def _quote(term: str) -> str:
    return '"' + term.replace('"', "") + '"'


def _fts(qs, expr: str, limit: int):
    return qs.filter(pk__in=RawSQL(
        "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s ORDER BY rank LIMIT %s",
        [expr, limit]))


def _exact(qs, words):
    """Every word of the query as a substring of the name."""
    if connection.vendor == "sqlite":
        return qs.filter(pk__in=RawSQL("SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s",
                                       [" AND ".join(_quote(w) for w in words)]))
    q = Q()
    for w in words:
        q &= Q(search_name__contains=w)
    return qs.filter(q)


def _variant_groups(words):
    """Per query word: the word itself and its one-typo variants (only parts of 3+ letters index)."""
    groups = []
    for w in words:
        options = {v for v in {w} | typo_variants(w) if len(v) >= 3}
        if options:
            groups.append(sorted(options))
    return groups


def _candidates(qs, words):
    """Names in which every query word appears as typed or with one swap or extra letter undone;
    failing that, names sharing the most trigrams with the query (catches a wrong letter)."""
    groups = _variant_groups(words)
    grams = {g for w in words for g in trigrams(w) if " " not in g}
    if connection.vendor == "sqlite":
        found = set()
        if groups:
            expr = " AND ".join("(" + " OR ".join(_quote(v) for v in group) + ")" for group in groups)
            found = set(_fts(qs, expr, FUZZY_CANDIDATES).values_list("pk", "search_name"))
        if not found and grams:
            found = set(_fts(qs, " OR ".join(_quote(g) for g in sorted(grams)), FUZZY_CANDIDATES).values_list(
                "pk", "search_name"))
        return found
    from django.contrib.postgres.search import TrigramWordSimilarity

    found = set()
    if groups:
        # Whole words of the name against the typed words and their variants, through the GIN index
        # on string_to_array(search_name, ' ') (migration 0003).
        matching = qs
        for group in groups:
            matching = matching.filter(RawSQL("string_to_array(registry_person.search_name, ' ') && %s::text[]",
                                              [group], output_field=BooleanField()))
        found = set(matching.values_list("pk", "search_name")[:FUZZY_CANDIDATES])
    if not found:
        text = " ".join(words)
        found = set(qs.filter(search_name__trigram_word_similar=text).annotate(
            score=TrigramWordSimilarity(text, "search_name")).order_by("-score").values_list(
            "pk", "search_name")[:FUZZY_CANDIDATES])
    return found


def _exact_page(qs, words, limit):
    """Names containing every word, in name order, from at most EXACT_CAP matches.

    Asking the database for "the first 50 by name among 48,000 Hansens" makes it walk the name
    index through half the register; taking the matches from the trigram index and sorting them
    here is bounded. Past EXACT_CAP matches the user narrows the search (another word, a number).
    """
    rows = list(_exact(qs, words).order_by().values_list("pk", "last_name", "first_name")[:EXACT_CAP])
    rows.sort(key=lambda r: (r[1].lower(), r[2].lower(), r[0]))
    return list(_ordered(qs, [r[0] for r in rows[:limit]])) if rows else []


def search_names(qs, text: str, limit: int):
    """Exact substrings first (ordered by name); with none, the closest names by typo-tolerant score."""
    words = [w for w in text.split() if w]
    if all(len(w) >= 3 for w in words):
        found = _exact_page(qs, words, limit)
        if found:
            return found
    else:
        found = list(qs.filter(search_name__startswith=text).order_by("last_name", "first_name", "id")[:limit])
        if found:
            return found
    scored = sorted(((name_score(text, name), pk) for pk, name in _candidates(qs, words)), reverse=True)
    ids = [pk for score, pk in scored if score >= MIN_SCORE][:limit]
    return list(_ordered(qs, ids))


def search_people(qs, text: str, *, limit: int = 50) -> list[Person]:
    """People in `qs` (already scoped with visible_to) matching `text`, best match first."""
    text = (text or "").strip().lower()
    if not text:
        return []
    if "@" in text:
        return list(qs.filter(email=text)[:limit])
    compact = _SEPARATORS.sub("", text)
    if compact.isdigit():
        # Identifiers: each lookup is one index probe; the few hits are sorted here, because asking
        # the database to order an OR of them by name makes it walk the whole name index.
        ids = set(Membership.objects.filter(member_number=compact).values_list("person_id", flat=True)[:limit])
        try:
            ids |= set(Person.objects.filter(national_id=parse_national_id(compact)[0]).values_list("pk", flat=True))
        except ValueError:
            if len(compact) == 6:  # a birth date, the first half of a fødselsnummer
                ids |= set(Person.objects.filter(national_id__startswith=compact).values_list("pk", flat=True)[:500])
        try:
            ids |= set(Person.objects.filter(phone=parse_phone(text)).values_list("pk", flat=True)[:limit])
        except ValueError:
            pass
        found = list(qs.filter(pk__in=ids)) if ids else []
        found.sort(key=lambda p: (p.last_name.lower(), p.first_name.lower(), p.pk))
        return found[:limit]
    return search_names(qs, text, limit)


def by_name(qs, text, limit, fields=("name",)):
    """Rows of `qs` (org units, employers: thousands, not millions) whose name contains every word of `text`;
    with none, the names closest to it by the typo-tolerant score, among those sharing a word's first letters."""
    words = text.lower().split()
    q = Q()
    for w in words:
        q &= Q(name__icontains=w)
    found = list(qs.filter(q).order_by("name").values_list("pk", *fields)[:limit])
    if found or not words:
        return found
    starts = Q()
    for w in words:
        if len(w) >= 3:
            starts |= Q(name__icontains=w[:2])
    candidates = qs.filter(starts).values_list("pk", *fields)[:2000] if starts else []
    scored = sorted(((name_score(" ".join(words), row[1].lower()), row) for row in candidates),
                    key=lambda sr: -sr[0])
    return [row for score, row in scored if score >= MIN_SCORE][:limit]


def search_employers(user, text: str, limit: int = 15) -> list[tuple[int, str, str]]:
    """(id, name, kind) of employer nodes the user covers, by org.nr or (typo-tolerant) name."""
    from tillit.registry.models import employers_in_scope

    qs = employers_in_scope(user)
    digits = re.sub(r"\D", "", text)
    if len(digits) == 9 and digits == re.sub(r"\s", "", text):
        return list(qs.filter(org_number=digits).values_list("pk", "name", "kind")[:limit])
    return by_name(qs, text, limit, fields=("name", "kind"))


def picked_employer(user, params) -> int | None:
    """The employer chosen in a list's picker: its id, or (typed without the script's help) the best match of
    the name among the employers the user covers; -1 when the name matches none (the list is then empty)."""
    from tillit.core.text import as_id

    chosen = as_id(params.get("workplace"))
    name = str(params.get("workplace_name", "")).strip()[:100]
    if chosen or not name:
        return chosen
    found = search_employers(user, name, 1)
    return found[0][0] if found else -1


def picked_label(workplace: int | None, params) -> tuple | None:
    """(id, name) for the picker to show again."""
    from tillit.registry.models import Employer

    if workplace and workplace > 0:
        return Employer.objects.filter(pk=workplace).values_list("pk", "name").first()
    name = str(params.get("workplace_name", "")).strip()[:100]
    return ("", name) if name else None

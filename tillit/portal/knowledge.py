"""The knowledge base's search: every article's words in a table of their own (title words weigh more), matched
by whole words and, for the word being typed, by prefix — one indexed query on SQLite and PostgreSQL alike."""

import re
import unicodedata

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError
from tillit.core.policy import require
from tillit.portal.access import may_publish
from tillit.portal.models import Article, ArticleWord
from tillit.registry.validation import Errors, clean_line

WORD = re.compile(r"\w+", re.UNICODE)
STOP = {"og", "i", "på", "en", "et", "er", "det", "som", "for", "med", "til", "av", "jeg", "du", "hva", "hvordan",
        "och", "att", "är", "jag", "hur", "vad", "the", "and", "is", "to", "of", "a", "in", "how", "what", "my", "min",
        "mitt", "mine", "kan", "can"}


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", (text or "").lower())
    return [w[:40] for w in WORD.findall(text) if len(w) >= 2 and w not in STOP and not w.isdigit()]


def word_rows(article: Article) -> list[ArticleWord]:
    """The article's index rows: each word once, its weight its count in the text (at most 5) plus 10 in the
    title."""
    weights = {}
    for w in words(article.body):
        weights[w] = min(weights.get(w, 0) + 1, 5)
    title = set(words(article.title))
    for w in title:
        weights[w] = weights.get(w, 0) + 10
    return [ArticleWord(article=article, word=w, weight=n, in_title=w in title) for w, n in weights.items()]


@transaction.atomic
def index(article: Article) -> None:
    ArticleWord.objects.filter(article=article).delete()
    if article.state == Article.State.PUBLISHED:
        ArticleWord.objects.bulk_create(word_rows(article))


@transaction.atomic
def save_article(article: Article, data: dict, *, actor, expected_version=None) -> Article:

    if getattr(actor, "pk", None):
        require(may_publish(actor), _("Only those who configure the organisation publish help articles."))
    errors = Errors()
    title = clean_line(data.get("title"), "title", errors, max_length=200, required=True)
    body = (data.get("body") or "").replace("\r\n", "\n").strip()
    if not body:
        errors.add("body", _("This field is required."))
    elif len(body) > 50_000:
        errors.add("body", _("At most 50,000 characters."))
    language = data.get("language") or ""
    if language not in dict(Article._meta.get_field("language").choices):
        errors.add("language", _("Choose a language."))
    state = data.get("state") or Article.State.DRAFT
    if state not in Article.State.values:
        errors.add("state", _("Draft or published."))
    category = clean_line(data.get("category"), "category", errors, max_length=100)
    errors.raise_if_any()
    if article.pk:
        updated = Article.objects.filter(pk=article.pk, version=expected_version if expected_version is not None
                                         else article.version).update(version=article.version + 1)
        if not updated:
            raise ConflictError(_("Someone else changed this article meanwhile. Reload it and make your change again."))
        article.version += 1
    article.title, article.body, article.language, article.state, article.category = (
        title, body, language, state, category)
    article.updated_at = timezone.now()
    article.save()
    index(article)
    audit.record("portal.article.saved", article, actor=actor, channel="ui",
                 changes={"title": [None, title], "state": [None, state]})
    return article


def search(text: str, language: str | None = None, limit: int = 5) -> list[Article]:
    """Published articles best matching `text`: those whose title has its words (else its text), ranked by the
    sum of the weights of the words found, the last word (the one being typed) also by prefix; the reader's
    language first."""
    found = words(text)
    if not found:
        return []
    whole, last = set(found[:-1]), found[-1]
    q = Q(word__in=whole | {last})
    if len(last) >= 3:
        q |= Q(word__gte=last, word__lt=last + "\uffff")
    def ranked(rows):
        return {row["article_id"]: row["score"] for row in rows.values("article_id").annotate(score=Sum("weight"))
                .order_by("-score", "article_id")[:limit * 4]}

    # Titles first (a few words per article, so few rows to sum even for common words); the whole text only
    # when no title matches.
    scores = ranked(ArticleWord.objects.filter(q, in_title=True)) or ranked(ArticleWord.objects.filter(q))
    articles = Article.objects.filter(pk__in=scores, state=Article.State.PUBLISHED)
    return sorted(articles, key=lambda a: (a.language != language, -scores[a.pk], a.pk))[:limit]

"""Every page in the reader's language: each staff, rep and self-service page is rendered in bokmål, Swedish and
English, and fails on a raw key shown as text (a snake_case code, an audit code such as `registry.person.changed`)
and on a text of the catalogue left in another language (an English msgid on a bokmål page, a bokmål text on an
English one). What the organisation wrote (names, titles, configured texts) is data and is not judged."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from tests import factories
from tests.test_crawl import ROUTES
from tests.test_crawl import dues_world as dues_world  # the crawl's data: a fixture of this module too
from tests.test_crawl import world as world
from tillit.cases.models import Case, CaseType, State, Transition
from tillit.documents.models import Document
from tillit.dues.models import DeductionNotice
from tillit.messaging.models import Mailing, MessageTemplate
from tillit.portal.models import Article
from tillit.registry.models import Employer, OrgUnit, Person, RoleType
from tillit.registry.services import link_user

pytestmark = pytest.mark.django_db
LOCALE = Path(__file__).resolve().parent.parent / "tillit" / "locale"
RAW_KEY = re.compile(r"\b[a-z]{2,}(?:_[a-z]{2,})+\b|\b[a-z]{3,}\.[a-z_]{3,}\.[a-z_]{3,}\b")
HIDDEN = {"script", "style", "code", "pre", "textarea", "title"}
SHOWN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}


def _catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of one language's catalogue (singular forms; contexts and plurals by their first form)."""
    entries, current, key = {}, {}, None
    for line in (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8").splitlines():
        match = re.match(r'^(msgid|msgstr|msgstr\[0\]|msgid_plural|msgctxt) (".*")$', line)
        if match:
            key = match.group(1)
            if key == "msgid" and current.get("msgid") is not None:
                entries[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
                current = {}
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            current[key] = current.get(key, "") + ast.literal_eval(line)
        elif not line.strip():
            key = None
    if current.get("msgid") is not None:
        entries[current["msgid"]] = current.get("msgstr", current.get("msgstr[0]", ""))
    return {k: v for k, v in entries.items() if k and v}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        self.parts += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag):
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def shown_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def _data() -> list[str]:
    """What the organisation and its people wrote: longest first, so it is cut out whole."""
    values = set()
    for model, fields in ((Case, ["title"]), (Document, ["title"]), (Mailing, ["subject"]),
                          (MessageTemplate, ["subject", "body"]), (Article, ["title", "body"]),
                          (OrgUnit, ["name"]), (Employer, ["name"]), (CaseType, ["name"]), (State, ["name"]),
                          (Transition, ["label"]), (Person, ["first_name", "last_name", "email", "city"]),
                          (RoleType, ["name"]),
                          (get_user_model(), ["username", "first_name", "last_name", "email"])):
        for row in model.objects.values_list(*fields):
            values.update(str(v) for v in row if v)
    # a deduction notice is a document issued in the organisation's language: its lines are what it says
    for lines in DeductionNotice.objects.values_list("lines", flat=True):
        values.update(line.get("reason", "") for line in lines if line.get("reason"))
    return sorted(values, key=len, reverse=True)


def _phrases(catalogue: dict[str, str], other: bool) -> list[str]:
    """Texts that must not show on a page in the other language: a catalogue's msgids (an English page's own) or its
    translations, where the two differ; at least two words or eight letters, so a name does not count."""
    found = {(v if other else k) for k, v in catalogue.items() if k.strip() != v.strip()}
    return sorted({p for p in found if "%" not in p and "{" not in p and (" " in p.strip() or len(p) >= 8)},
                  key=len, reverse=True)


def _problems(text_parts: list[str], data: list[str], foreign: re.Pattern) -> list[str]:
    problems = []
    for part in text_parts:
        for value in data:
            if value in part:
                part = part.replace(value, " ")
        for key in RAW_KEY.findall(part):
            problems.append(f"raw key {key!r} in {part[:80]!r}")
        phrase = foreign.search(part)
        if phrase:
            problems.append(f"{phrase.group(0)!r} in another language in {part[:80]!r}")
    return problems


def _pages(who, side) -> list[str]:
    urls = []
    for name, kwargs_for in ROUTES.items():
        for kwargs in kwargs_for(side):
            try:
                urls.append(reverse(name, kwargs=kwargs))
            except NoReverseMatch:
                continue
    return urls


@pytest.mark.parametrize("language", ["nb", "sv", "en"])
def test_every_page_speaks_the_readers_language(client, dues_world, language):
    catalogues = {lang: _catalogue(lang) for lang in ("nb", "sv")}
    if language == "en":
        english = "\n".join(catalogues["nb"])  # a translation that is English too ("Register") is not foreign
        foreign = [p for p in _phrases(catalogues["nb"], other=True) + _phrases(catalogues["sv"], other=True)
                   if p not in english]
    else:
        foreign = _phrases(catalogues[language], other=False)
        # the other Nordic language's text for the same msgid, where it is not a part of one of this language's
        other = "sv" if language == "nb" else "nb"
        own = "\n".join(catalogues[language].values())
        foreign += [text for msgid, text in catalogues[other].items()
                    if text != catalogues[language].get(msgid, text) and text not in own
                    and (" " in text.strip() or len(text) >= 8) and "%" not in text and "{" not in text]
    foreign = re.compile("(?<!\\w)(?:" + "|".join(map(re.escape, sorted(set(foreign), key=len, reverse=True)))
                         + ")(?!\\w)")
    member = dues_world.a.members[1][0]
    link_user(member, factories.user("member_alfa"), actor=None, channel="system")
    data = _data()
    found, read = {}, 0
    for who in (None, dues_world.admin, dues_world.a.rep, get_user_model().objects.get(username="member_alfa")):
        if who is None:
            client.logout()
            urls = [reverse(name) for name in ("login", "portal_services", "portal_help")]
        else:
            client.force_login(who)
            urls = _pages(who, dues_world.a)
        client.cookies["django_language"] = language
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            read += 1
            problems = _problems(shown_text(response.content.decode()), data, foreign)
            if problems:
                found[f"{who.username if who else 'anyone'} {url}"] = problems[:4]
    assert not found, "\n".join(f"{url}: {p}" for url, p in found.items())
    assert read > 100  # the staff, rep, member and public pages were all read

"""One search for everything a member-service user may open: people, cases, documents, employers, org units.

Each kind is searched within the user's scope with the same querysets its own list uses (`visible_to`,
`employers_in_scope`, `units_in_scope`), so the search never shows what the list would not. Names are
typo-tolerant (registry.search): a case is found by the misspelt name of the person it is about, an employer
by a misspelt word of its name. Results are grouped by kind and ranked within each kind.
"""

import dataclasses

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case
from tillit.cases.queues import SUBJECT_PEOPLE, case_ids_by_subject, case_ids_by_text, title_q
from tillit.core.scopes import VIEW, scope_for
from tillit.registry.models import Employer, OrgUnit, Person, units_in_scope
from tillit.registry.search import by_name, search_employers, search_people

KINDS = {"people": _("People"), "cases": _("Cases"), "documents": _("Documents"), "employers": _("Employers"),
         "units": _("Organisation")}
LIMIT = 8
TEXT_MIN = 4  # words this long are looked for in the text of case timelines


@dataclasses.dataclass
class Hit:
    kind: str
    pk: int
    title: str
    url: str
    detail: str = ""


def kinds_for(user) -> list[str]:
    """What this user may search: reps see people only (their members); member service everything."""
    view = scope_for(user, VIEW)
    if view.empty:
        return []
    if view.via_rep_only:
        return ["people"]
    return list(KINDS)


def _matching_people(user, text):
    return search_people(Person.objects.visible_to(user).current(), text, limit=SUBJECT_PEOPLE)


def _people(user, text, limit, found=None):
    found = (found if found is not None else _matching_people(user, text))[:limit]
    url = reverse("person", args=[0])[:-2]
    return [Hit("people", p.pk, f"{p.last_name}, {p.first_name}", f"{url}{p.pk}/", p.email) for p in found]


def _cases(user, text, limit, people=None):
    visible = Case.objects.visible_to(user)
    text = text.strip()
    ranked: list[int] = []

    def add(ids):
        for pk in ids:
            if pk not in ranked:
                ranked.append(pk)

    add(visible.filter(number=text).values_list("pk", flat=True)[:1])
    add(visible.filter(title_q(text)).order_by("-opened_at").values_list("pk", flat=True)[:limit])
    if len(ranked) < limit:
        add(case_ids_by_subject(user, visible, text, limit, people=people))
    if len(ranked) < limit and len(text) >= TEXT_MIN:
        add(case_ids_by_text(visible, text, limit))
    ranked = ranked[:limit]
    rows = {pk: (number, title, state) for pk, number, title, state in Case.objects.filter(pk__in=ranked)
            .values_list("pk", "number", "title", "state__name")}
    url = reverse("case", args=[0])[:-2]
    return [Hit("cases", pk, f"{rows[pk][0]} {rows[pk][1]}", f"{url}{pk}/", str(rows[pk][2]))
            for pk in ranked if pk in rows]


def _documents(user, text, limit):
    from tillit.documents.models import Document
    from tillit.documents.search import search

    found = search(Document.objects.visible_to(user), text).values_list("pk", "title", "updated_at")[:limit]
    url = reverse("document", args=[0])[:-2]
    return [Hit("documents", pk, title, f"{url}{pk}/", f"{updated:%d.%m.%Y}") for pk, title, updated in found]


def _employers(user, text, limit):
    kinds = dict(Employer.Kind.choices)
    url = reverse("employer", args=[0])[:-2]
    return [Hit("employers", pk, name, f"{url}{pk}/", str(kinds.get(kind, kind)))
            for pk, name, kind in search_employers(user, text, limit)]


def _units(user, text, limit):
    ids = [u.pk for u in units_in_scope(user)]
    rows = by_name(OrgUnit.objects.filter(pk__in=ids), text, limit, fields=("name", "kind"))
    kinds = dict(OrgUnit.Kind.choices)
    url = reverse("org_unit", args=[0])[:-2]
    return [Hit("units", pk, name, f"{url}{pk}/", str(kinds.get(kind, kind))) for pk, name, kind in rows]


SEARCHES = {"people": _people, "cases": _cases, "documents": _documents, "employers": _employers, "units": _units}


def search_all(user, text: str, *, kinds=None, limit: int = LIMIT) -> dict[str, list[Hit]]:
    """{kind: hits} for the kinds the user may search (or the asked ones among them), best first."""
    text = (text or "").strip()[:200]
    if not text:
        return {}
    allowed = kinds_for(user)
    wanted = [k for k in allowed if kinds is None or k in kinds]
    out = {}
    people = _matching_people(user, text) if "people" in wanted and "cases" in wanted else None
    for kind in wanted:  # the person search once, for the people shown and for the cases about them
        out[kind] = SEARCHES[kind](user, text, limit, people) if kind in ("people", "cases") else \
            SEARCHES[kind](user, text, limit)
    return out

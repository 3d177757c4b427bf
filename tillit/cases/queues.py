"""The named queues of cases, shared by the staff UI and the API."""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from tillit.cases.models import Case, CaseEvent, CaseType, State
from tillit.core.kept import kept_in, new_generation
from tillit.registry.models import Employer, OrgUnit, Person
from tillit.registry.search import search_people


def configured_names(type_ids=(), state_ids=()) -> dict[str, dict[int, tuple[str, dict]]]:
    """(name, translations) of every case type and state by id, for the queue's rows (a join and two JSON
    columns a row otherwise): kept for five minutes, a new generation whenever a type or state is saved or
    deleted (cases.apps), and read again when one of the ids asked for is not among them."""
    def read():
        return kept_in("case-config", "names", 300, lambda: {
            "types": {pk: (name, tr) for pk, name, tr in CaseType.objects.values_list("pk", "name", "translations")},
            "states": {pk: (name, tr) for pk, name, tr in State.objects.values_list("pk", "name", "translations")}})

    names = read()
    if not (set(type_ids) <= names["types"].keys() and set(state_ids) <= names["states"].keys()):
        new_generation("case-config")
        names = read()
    return names


QUEUES = {
    "unit": lambda qs, user, today: qs.open(),
    "unassigned": lambda qs, user, today: qs.open().filter(handler__isnull=True),
    "mine": lambda qs, user, today: qs.open().filter(handler=user),
    "overdue": lambda qs, user, today: qs.overdue(today),
    "waiting": lambda qs, user, today: qs.open().filter(state__category=State.Category.WAITING),
    "closed": lambda qs, user, today: qs.filter(state__category=State.Category.CLOSED),
}



def case_ids_by_subject(user, visible, text: str, limit: int, people=None) -> list[int]:
    """Ids of cases in `visible` about a person the user may see whose name (typo-tolerant), member number,
    email or phone matches `text`: the person search first (its own indexes, within the user's scope; or
    `people`, its result already at hand), then those people's cases, kept only where `visible` has them."""
    if people is None:
        people = search_people(Person.objects.visible_to(user).current(), text, limit=SUBJECT_PEOPLE)
    if not people:
        return []
    order = {p.pk: i for i, p in enumerate(people)}
    pairs = list(Case.subjects.through.objects.filter(person_id__in=list(order)).values_list("case_id", "person_id")
                 [:SUBJECT_CASES])
    shown = set(visible.filter(pk__in=[c for c, _p in pairs]).values_list("pk", flat=True))
    ranked = sorted((pair for pair in pairs if pair[0] in shown), key=lambda cp: (order[cp[1]], -cp[0]))
    return list(dict.fromkeys(c for c, _p in ranked))[:limit]


SUBJECT_PEOPLE = 100  # the best-matching people whose cases are looked for
SUBJECT_CASES = 2000


def _escaped_like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrase(words) -> str:
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)


def title_q(text: str) -> Q:
    """Cases whose title holds every word of `text`: words of 3 letters or more through the titles' text index
    (cases migration 0007), shorter ones as a plain substring test on what the index found."""
    words = text.split()[:8]
    long, short = [w for w in words if len(w) >= 3], [w for w in words if len(w) < 3]
    q = Q()
    if long and connection.vendor == "postgresql":
        where = " AND ".join(["title ILIKE %s"] * len(long))
        q &= Q(pk__in=RawSQL(f"SELECT id FROM cases_case WHERE {where}",  # placeholders only
                             [_escaped_like(w) for w in long]))
    elif long:
        q &= Q(pk__in=RawSQL("SELECT rowid FROM cases_case_fts WHERE cases_case_fts MATCH %s", [_fts_phrase(long)]))
    for w in short:
        q &= Q(title__icontains=w)
    return q


def case_ids_by_text(visible, text: str, limit: int) -> list[int]:
    """Ids of cases in `visible` with a timeline entry containing every word of `text` (3 letters or more),
    newest entry first; through the entries' text index (cases migration 0006), never a scan of the timeline."""


    words = [w for w in text.split() if len(w) >= 3][:5]
    if not words:
        return []
    entries = CaseEvent.objects.filter(case__in=visible.values("pk"))
    if connection.vendor == "postgresql":
        where = " AND ".join(["body ILIKE %s"] * len(words))
        entries = entries.filter(pk__in=RawSQL(f"SELECT id FROM cases_caseevent WHERE {where}",
                                               [_escaped_like(w) for w in words]))
    else:
        entries = entries.filter(pk__in=RawSQL("SELECT rowid FROM cases_event_fts WHERE cases_event_fts MATCH %s",
                                               [_fts_phrase(words)]))
    found = []
    for case_id in entries.order_by("-at").values_list("case_id", flat=True)[:limit * 4]:
        if case_id not in found:
            found.append(case_id)
    return found[:limit]


SUBJECT_MATCHES = 200


def filter_cases(cases, *, unit_id=None, q: str = "", workplace_id=None, user=None):
    """Narrow a queue to a unit's subtree, an employer's subtree, and to a case number, words of the title or
    the name of the person a case is about (typo-tolerant)."""
    if unit_id:
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        cases = cases.filter(responsible_unit__path__startswith=unit.path) if unit else cases.none()
    if workplace_id:

        node = Employer.objects.filter(pk=workplace_id).first()
        cases = cases.filter(employer__path__startswith=node.path) if node else cases.none()
    text = q.strip()
    if text:
        words = title_q(text)
        by_subject = case_ids_by_subject(user, cases, text, SUBJECT_MATCHES) if user is not None else []
        return cases.filter(Q(number=text) | words | Q(pk__in=by_subject))
    return cases

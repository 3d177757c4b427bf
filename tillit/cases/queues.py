"""The named queues of cases, shared by the staff UI and the API."""

from django.db.models import Q

from tillit.cases.models import State
from tillit.registry.models import OrgUnit

QUEUES = {
    "unit": lambda qs, user, today: qs.open(),
    "unassigned": lambda qs, user, today: qs.open().filter(handler__isnull=True),
    "mine": lambda qs, user, today: qs.open().filter(handler=user),
    "overdue": lambda qs, user, today: qs.overdue(today),
    "waiting": lambda qs, user, today: qs.open().filter(state__category=State.Category.WAITING),
    "closed": lambda qs, user, today: qs.filter(state__category=State.Category.CLOSED),
}



def case_ids_by_subject(visible, text: str, limit: int) -> list[int]:
    """Ids of cases in `visible` about a person whose name (typo-tolerant), member number, email or phone
    matches `text`: the people searched are only the subjects of those cases."""
    from tillit.cases.models import Case
    from tillit.registry.models import Person
    from tillit.registry.search import search_people

    links = Case.subjects.through.objects
    subjects = Person.objects.filter(pk__in=links.filter(case__in=visible.values("pk")).values("person_id"))
    people = search_people(subjects, text, limit=limit)
    if not people:
        return []
    order = {p.pk: i for i, p in enumerate(people)}
    pairs = links.filter(person_id__in=list(order), case__in=visible.values("pk")).values_list(
        "case_id", "person_id")[:limit * 4]
    return [c for c, _p in sorted(pairs, key=lambda cp: (order[cp[1]], -cp[0]))]


def case_ids_by_text(visible, text: str, limit: int) -> list[int]:
    """Ids of cases in `visible` with a timeline entry containing every word of `text` (3 letters or more),
    newest entry first; through the entries' text index (cases migration 0006), never a scan of the timeline."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from tillit.cases.models import CaseEvent

    words = [w for w in text.split() if len(w) >= 3][:5]
    if not words:
        return []
    entries = CaseEvent.objects.filter(case__in=visible.values("pk"))
    if connection.vendor == "postgresql":
        patterns = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words]
        where = " AND ".join(["body ILIKE %s"] * len(patterns))
        entries = entries.filter(pk__in=RawSQL(f"SELECT id FROM cases_caseevent WHERE {where}", patterns))  # noqa: S611 - placeholders only
    else:
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        entries = entries.filter(pk__in=RawSQL("SELECT rowid FROM cases_event_fts WHERE cases_event_fts MATCH %s",
                                               [match]))
    found = []
    for case_id in entries.order_by("-at").values_list("case_id", flat=True)[:limit * 4]:
        if case_id not in found:
            found.append(case_id)
    return found[:limit]


SUBJECT_MATCHES = 200


def filter_cases(cases, *, unit_id=None, q: str = "", workplace_id=None):
    """Narrow a queue to a unit's subtree, an employer's subtree, and to a case number, words of the title or
    the name of the person a case is about (typo-tolerant)."""
    if unit_id:
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        cases = cases.filter(responsible_unit__path__startswith=unit.path) if unit else cases.none()
    if workplace_id:
        from tillit.registry.models import Employer

        node = Employer.objects.filter(pk=workplace_id).first()
        cases = cases.filter(employer__path__startswith=node.path) if node else cases.none()
    text = q.strip()
    if text:
        words = Q()
        for w in text.split():
            words &= Q(title__icontains=w)
        return cases.filter(Q(number=text) | words | Q(pk__in=case_ids_by_subject(cases, text, SUBJECT_MATCHES)))
    return cases

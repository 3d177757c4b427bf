"""The documents section of the person page, the case page, an employer's page and a unit's page."""

from django.utils import timezone

from tillit.core.memo import per_request
from tillit.core.present import url_maker
from tillit.core.scopes import EDIT, scope_for
from tillit.documents.models import Document
from tillit.registry.models import employers_in_scope

SHOWN = 100


def _panel(request, filters: dict, new_query: str, can_add=None, documents=None, found=None):
    document_url = url_maker("document")
    documents = Document.objects.visible_to(request.user).filter(**filters) if documents is None else documents
    rows = list(documents.order_by("-updated_at").values_list(
        "pk", "title", "checked_out_by__username", "category__name", "current__number", "updated_at")[:SHOWN + 1])
    if found is not None:
        found.extend(rows)
    docs = [{"url": document_url(pk), "title": title, "holder": holder, "category": category or "–",
             "number": number, "changed": timezone.localtime(changed).date()}
            for pk, title, holder, category, number, changed in rows[:SHOWN]]
    return "documents/_panel.html", {"documents": docs, "new_query": new_query,
                                     "can_add": not scope_for(request.user, EDIT).empty if can_add is None else can_add}


def person_documents(request, person):
    return _panel(request, {}, f"person={person.pk}",
                  documents=Document.objects.linked_to_visible(request.user, person=person))


def case_documents(request, case):
    found = []
    panel = _panel(request, {}, f"case={case.pk}", found=found,
                   documents=Document.objects.linked_to_visible(request.user, case=case))
    if len(found) <= SHOWN:  # every document of the case: other sections of the page need not ask again
        per_request(("case-documents", request.user.pk), dict)[case.pk] = [(pk, title) for pk, title, *_ in found]
    return panel


def case_document_titles(request, case, limit: int = SHOWN) -> list[tuple[int, str]]:
    """(id, title) of the case's documents the user was shown, by title: from the documents section of the same
    page where it listed them all, else one query."""
    known = per_request(("case-documents", request.user.pk), dict).get(case.pk)
    if known is not None:
        return sorted(known, key=lambda row: (row[1], row[0]))[:limit]
    return list(Document.objects.linked_to_visible(request.user, case=case).order_by("title", "pk")
                .values_list("pk", "title")[:limit])


def employer_documents(request, employer):
    return _panel(request, {"employers": employer}, f"employer={employer.pk}",
                  can_add=employers_in_scope(request.user, EDIT).filter(pk=employer.pk).exists())


def unit_documents(request, unit):
    """The documents the unit is responsible for (those of its sub-units are on their pages)."""
    return _panel(request, {"responsible_unit": unit}, "")

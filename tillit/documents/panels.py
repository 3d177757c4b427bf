"""The documents section of the person page and of the case page."""

from tillit.core.scopes import EDIT, scope_for
from tillit.documents.models import Document


def _panel(request, filters: dict, new_query: str):
    docs = list(Document.objects.visible_to(request.user).filter(**filters).select_related(
        "current__blob", "checked_out_by", "category").order_by("-updated_at")[:100])
    return "documents/_panel.html", {"documents": docs, "new_query": new_query,
                                     "can_add": not scope_for(request.user, EDIT).empty}


def person_documents(request, person):
    return _panel(request, {"persons": person}, f"person={person.pk}")


def case_documents(request, case):
    return _panel(request, {"cases": case}, f"case={case.pk}")

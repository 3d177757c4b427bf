from tillit.cases.models import Case
from tillit.core.scopes import EDIT, scope_for


def person_cases(request, person):
    """The person page's list of the person's cases the viewer may see."""
    cases = list(Case.objects.visible_to(request.user).filter(subjects=person).select_related(
        "state", "responsible_unit").order_by("-opened_at")[:100])
    return "cases/_person_cases.html", {"person": person, "cases": cases,
                                         "can_open": not scope_for(request.user, EDIT).empty}

from tillit.cases.models import Case
from tillit.core.panels import Panels
from tillit.core.scopes import EDIT, scope_for

# Sections other apps add to the case page (documents, ...).
CASE_PANELS = Panels()
register_case_panel = CASE_PANELS.register
case_panels = CASE_PANELS.render


def person_cases(request, person):
    """The person page's list of the person's cases the viewer may see."""
    cases = list(Case.objects.visible_to(request.user).filter(subjects=person).select_related(
        "state", "responsible_unit").order_by("-opened_at")[:100])
    return "cases/_person_cases.html", {"person": person, "cases": cases,
                                         "can_open": not scope_for(request.user, EDIT).empty}

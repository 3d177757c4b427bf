from tillit.cases.access import may_open_cases
from tillit.cases.models import Case
from tillit.core.panels import Panels
from tillit.core.present import url_maker

# Sections other apps add to the case page (documents, ...).
CASE_PANELS = Panels()
MEASURE_PANELS = Panels()  # sections of the measurement page: panel(request, (unit, start, end))
register_case_panel = CASE_PANELS.register
case_panels = CASE_PANELS.render


def person_cases(request, person):
    """The person page's list of the person's cases the viewer may see."""
    case_url = url_maker("case")
    cases = [{"url": case_url(pk), "number": number, "title": title, "state": state, "unit": unit}
             for pk, number, title, state, unit in Case.objects.visible_to(request.user).filter(subjects=person)
             .order_by("-opened_at").values_list("pk", "number", "title", "state__name",
                                                 "responsible_unit__name")[:100]]
    return "cases/_person_cases.html", {"person": person, "cases": cases,
                                         "can_open": may_open_cases(request.user)}

from tillit.cases.models import Case
from tillit.core.panels import Panels
from tillit.core.present import url_maker
from tillit.core.scopes import EDIT, VIEW, mark_shown, scope_for, was_shown

# Sections other apps add to the case page (documents, ...).
CASE_PANELS = Panels()
MEASURE_PANELS = Panels()  # sections of the measurement page: panel(request, (unit, start, end))
register_case_panel = CASE_PANELS.register
case_panels = CASE_PANELS.render


def may_open_cases(user, perm: str = EDIT) -> bool:
    """Cases belong to org units: opening one (EDIT) or measuring the flow (VIEW) needs a grant over a unit;
    a rep whose grants are over workplaces only has neither page."""
    scope = scope_for(user, perm)
    return scope.everything or bool(scope.paths["org"])


def may_edit_case(user, case) -> bool:
    """Whether `user` may act on a case they can see: at once where their edit scope is their view scope, else
    one query, remembered for the request (the case page and its sections ask it several times)."""
    if was_shown(user, case, EDIT):
        return True
    if scope_for(user, EDIT).covers_as_much_as(scope_for(user, VIEW)) or \
            Case.objects.visible_to(user, EDIT).filter(pk=case.pk).exists():
        mark_shown(user, case, EDIT)
        return True
    return False


def person_cases(request, person):
    """The person page's list of the person's cases the viewer may see."""
    case_url = url_maker("case")
    cases = [{"url": case_url(pk), "number": number, "title": title, "state": state, "unit": unit}
             for pk, number, title, state, unit in Case.objects.visible_to(request.user).filter(subjects=person)
             .order_by("-opened_at").values_list("pk", "number", "title", "state__name",
                                                 "responsible_unit__name")[:100]]
    return "cases/_person_cases.html", {"person": person, "cases": cases,
                                         "can_open": may_open_cases(request.user)}

"""Who may open, work on and configure cases. Cases belong to org units: a grant over a unit (not a rep's, whose
grants are over workplaces and who works in the reps' portal) gives the cases of its subtree."""

from django.utils.translation import gettext_lazy as _

from tillit.cases.models import Case
from tillit.core.policy import declare
from tillit.core.scopes import CONFIGURE, EDIT, VIEW, mark_shown, scope_for, was_shown

OPEN = declare("cases.open", _("Open a case in a unit"), EDIT,
               note=_("in the case type's default unit when covered, else the first unit covered; the case type "
                      "offered in the unit's country"))
WORK = declare("cases.work", _("Work on a case: assign, take a step, transfer, write a note, change the deadline, "
                                "whom it is about and its case type"),
               EDIT, note=_("also the case's handler and those it is shared with"))
CONFIGURE_TYPES = declare("cases.configure", _("Define case types and their processes"), CONFIGURE)


def may_open_cases(user, perm: str = EDIT) -> bool:
    """Whether the user may open cases anywhere (EDIT) or measure the flow (VIEW): a grant over a unit."""
    scope = scope_for(user, perm)
    return scope.everything or bool(scope.paths["org"])


def unit_for_new_case(user, case_type, unit=None):
    """Where a new case of `case_type` opened by `user` lands: the unit asked for, else the case type's default unit
    when the user covers it, else the user's first unit in a country the type is offered in (None: nowhere)."""
    if unit is not None:
        return unit
    scope = scope_for(user, EDIT)
    default = case_type.default_unit
    if scope.covers_node("org", default.path):
        return default
    from tillit.registry.models import units_in_scope

    return next((u for u in units_in_scope(user, EDIT) if case_type.offered_in(u.country)), None)


def may_open_case(user, case_type, unit) -> bool:
    """A grant with EDIT over the unit, and the case type in use and offered in the unit's country."""
    return (unit is not None and case_type.active and case_type.offered_in(unit.country)
            and scope_for(user, EDIT).covers_node("org", unit.path))


def may_edit_case(user, case) -> bool:
    """Whether `user` may act on the case (their edit scope, the handler's own case, a case shared with them). A
    case this request found in the user's view where their edit scope equals their view scope needs no query;
    otherwise one, remembered for the request (the case page and its sections ask several times)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if was_shown(user, case, EDIT):
        return True
    edit = scope_for(user, EDIT)
    if was_shown(user, case, VIEW) and edit.covers_as_much_as(scope_for(user, VIEW)) or \
            Case.objects.visible_to(user, EDIT).filter(pk=case.pk).exists():
        mark_shown(user, case, EDIT)
        return True
    return False


def may_configure(user) -> bool:
    return not scope_for(user, CONFIGURE).empty


def colleagues_for(case) -> list:
    """The logins a case may be assigned to: those whose own grant (not a rep's) lets them work on cases of the
    case's unit, from the unit up the tree, and who are active; by username."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tillit.core.models import Grant
    from tillit.core.scopes import REP_ROLES, ROLES
    from tillit.registry.models import OrgUnit

    unit = case.responsible_unit
    ancestors = [unit.path[:end] for end in range(OrgUnit.steplen, len(unit.path) + 1, OrgUnit.steplen)]
    today = timezone.localdate()
    roles = [code for code, (_label, perms) in ROLES.items() if EDIT in perms and code not in REP_ROLES]
    grants = Grant.objects.filter(tree="org", role__in=roles, node_id__in=OrgUnit.objects.filter(
        path__in=ancestors).values("pk")).exclude(valid_from__gt=today).exclude(valid_to__lt=today)
    return list(get_user_model().objects.filter(is_active=True, pk__in=grants.values("user_id"))
                .order_by("username").only("pk", "username", "first_name", "last_name"))

"""Who may do what: one table of the actions that change state, and one way to refuse.

Each app declares its actions here from its `access.py` (the code, what it is, the permission a user needs over
the object's node in which tree, whether a representative's grant is enough) and decides each in a
`may_<verb>(user, obj)` function beside it. The service that performs the action calls `require(...)` with that
function's answer, so every channel (staff pages, API, import, portal) meets the same rule; views, API routers,
templates and menus ask the same `may_` functions to decide what to offer. The table is also what the system
owner reads on the "who may do what" page: it is generated from here, not written twice.

An `actor` of None is the system itself (the demo, the nightly rounds, incoming mail): no person acts, so no
person's right is checked. Every door a person opens passes that person.
"""

import dataclasses

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tillit.core.errors import DomainError
from tillit.core.scopes import REP_ROLES, ROLES


class Refused(DomainError, PermissionDenied):
    """The actor may not do this. The API answers 403; a page shows the message (or Django's 403)."""


@dataclasses.dataclass(frozen=True)
class Action:
    code: str  # "<app>.<verb>", e.g. "cases.open"
    label: str  # what it is, for the rights page (a lazy translation)
    perm: str  # the permission a grant must carry over the object's node
    tree: str  # the tree whose node decides: "org", "employer", or "org/employer" (the person's either)
    reps: bool  # whether a representative's grant (rep, regional rep) is enough
    note: str = ""  # what else the rule asks, in words
    only_reps: bool = False  # an action of the reps' own portal: only representatives' grants take it


ACTIONS: dict[str, Action] = {}


def declare(code: str, label, perm: str, *, tree: str = "org", reps: bool = False, note="",
            only_reps: bool = False) -> str:
    """Add an action to the table (once, at import of the app's access module); returns its code."""
    ACTIONS[code] = Action(code, label, perm, tree, reps or only_reps, note, only_reps)
    return code


def require(allowed: bool, message: str | None = None) -> None:
    """Refuse unless `allowed` (the answer of the action's `may_` function)."""
    if not allowed:
        raise Refused(message or _("You may not do this here."))


def roles_for(action: Action) -> list[str]:
    """The roles whose grants allow `action` over the grant's subtree."""
    return [code for code, (_label, perms) in ROLES.items()
            if action.perm in perms and (action.reps or code not in REP_ROLES)
            and (not action.only_reps or code in REP_ROLES)]

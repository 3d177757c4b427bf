"""Who may do the dues work that concerns the whole organisation."""

from tillit.core.scopes import scope_for
from tillit.registry.models import OrgUnit


def organisation_wide(user, perm: str) -> bool:
    """Runs, bank files and settings concern every member: a grant for `perm` on a root org unit (or a superuser)."""
    scope = scope_for(user, perm)
    return scope.everything or any(len(p) == OrgUnit.steplen for p in scope.paths["org"])

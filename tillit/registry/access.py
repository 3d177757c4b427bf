"""Local administrators help the users of their own part of the organisation: they see who has access
there, give and take roles within it, unlock a login and reset a password.

Rules, so that nobody gains more than the administrator has:
- the users in reach are those with a grant inside the administrator's `manage_grants` subtrees, or
  linked to a person there;
- a role may be given over a node only if every permission of the role is one the administrator
  holds over that node (a superuser may give any);
- only grants inside the administrator's subtrees can be taken, and not those a rep's role gives
  (they follow the role's term);
- a password is reset and a login unlocked only for users whose every grant lies inside the
  administrator's subtrees and who are not system owners.
"""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.models import Grant
from tillit.core.scopes import MANAGE_GRANTS, ROLES, TREES, active_grants, roles_over, scope_for
from tillit.core.services import grant_access, revoke_grants
from tillit.registry.models import Employer, OrgUnit, Person

NODE_MODELS = {"org": OrgUnit, "employer": Employer}


def _covered_ids(user) -> dict[str, list[int]]:
    scope = scope_for(user, MANAGE_GRANTS)
    out = {}
    for tree, model in NODE_MODELS.items():
        q = scope.tree_q(tree, "")
        out[tree] = list(model.objects.filter(q).values_list("pk", flat=True)) if q is not None else []
    return out


def manages_anyone(user) -> bool:
    return user.is_superuser or not scope_for(user, MANAGE_GRANTS).empty


def users_in_reach(admin):
    """The users a local administrator may look after."""
    User = get_user_model()
    if admin.is_superuser:
        return User.objects.all()
    if not manages_anyone(admin):
        return User.objects.none()
    covered = _covered_ids(admin)
    q = Q(pk__in=Person.objects.visible_to(admin, MANAGE_GRANTS).filter(user__isnull=False).values("user_id"))
    for tree, ids in covered.items():
        if ids:
            q |= Q(pk__in=Grant.objects.filter(tree=tree, node_id__in=ids).values("user_id"))
    return User.objects.filter(q)


def grant_inside(admin, grant: Grant) -> bool:
    if admin.is_superuser:
        return True
    node = NODE_MODELS[grant.tree].objects.filter(pk=grant.node_id).first()
    return node is not None and scope_for(admin, MANAGE_GRANTS).covers_node(grant.tree, node.path)


def grantable_roles(admin, tree: str, node) -> list[str]:
    if admin.is_superuser:
        return list(ROLES)
    held = set()
    for role in roles_over(admin, tree, node.path):
        held |= ROLES.get(role, ("", set()))[1]
    if MANAGE_GRANTS not in held:
        return []
    return [code for code, (_label, perms) in ROLES.items() if perms <= held]


def may_reset(admin, user) -> bool:
    """Whether `admin` may unlock or reset the login of `user` (see the module's rules)."""
    if admin.is_superuser:
        return True
    if user.is_superuser or user.is_staff or user.pk == admin.pk:
        return False
    return all(grant_inside(admin, g) for g in Grant.objects.filter(user=user))


@transaction.atomic
def give_role(admin, user, role: str, tree: str, node, *, valid_from=None, valid_to=None) -> Grant:
    if tree not in TREES or node is None:
        raise InvalidInput(_("Choose where the role applies."), field_errors={"node": [_("Choose a unit.")]})
    if role not in grantable_roles(admin, tree, node):
        raise InvalidInput(_("You cannot give this role there: it would give more than you have yourself."),
                           field_errors={"role": [_("Not a role you can give here.")]})
    if valid_from and valid_to and valid_to < valid_from:
        raise InvalidInput(_("The end date is before the start date."), field_errors={"valid_to": [_("Too early.")]})
    return grant_access(user, role, tree, node, actor=admin, valid_from=valid_from, valid_to=valid_to)


@transaction.atomic
def take_role(admin, grant: Grant) -> None:
    if grant.source:
        raise DomainError(_("This access comes from a representative's role; end the role instead."))
    if not grant_inside(admin, grant):
        raise DomainError(_("This access lies outside your part of the organisation."))
    revoke_grants([grant], actor=admin)


@transaction.atomic
def unlock(admin, user) -> None:
    from axes.utils import reset

    if not may_reset(admin, user):
        raise DomainError(_("Only an administrator over all of this user's access can unlock the login."))
    reset(username=user.username)
    audit.record("core.user.unlocked", user, actor=admin, channel="ui")


@transaction.atomic
def reset_password(admin, user) -> str:
    """A new temporary password (returned once, never stored in clear); the login is unlocked too."""
    from axes.utils import reset

    if not may_reset(admin, user):
        raise DomainError(_("Only an administrator over all of this user's access can reset the password."))
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    user.set_password(password)
    user.save(update_fields=["password"])
    reset(username=user.username)
    audit.record("core.user.password_reset", user, actor=admin, channel="ui")
    return password


def grants_of(user) -> list[Grant]:
    """All the user's grants, current first, with the node each applies to."""
    active = set(active_grants(user).values_list("pk", flat=True))
    grants = list(Grant.objects.filter(user=user).order_by("tree", "role", "pk"))
    nodes = {tree: {n.pk: n for n in model.objects.filter(pk__in=[g.node_id for g in grants if g.tree == tree])}
             for tree, model in NODE_MODELS.items()}
    for grant in grants:
        grant.node = nodes[grant.tree].get(grant.node_id)
        grant.current = grant.pk in active
    return sorted(grants, key=lambda g: not g.current)


def failed_logins(user) -> int:
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.filter(username=user.username).values_list("failures_since_start", flat=True))

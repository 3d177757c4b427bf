"""Who may change the registry, and how local administrators help the users of their part of the organisation.

Changing people: member service (EDIT over the person) changes anything; a representative (CORRECT) only the
fields the organisation lets reps correct (`CORRECTABLE`), through the reps' corrections. A role whose type gives
access is a grant: appointing or ending it needs the right to give that access over the node.

Local administrators help the users of their own part of the organisation: they see who has access
there, give and take roles within it, unlock a login and reset a password.

Rules, so that nobody gains more than the administrator has:
- the users in reach are those with a grant inside the administrator's `manage_grants` subtrees, or
  linked to a person there;
- a role may be given over a node only if every permission of the role is one the administrator
  holds over that node (a superuser may give any);
- only grants inside the administrator's subtrees can be taken, and not those a rep's role gives
  (they follow the role's term);
- a password is reset, a second factor reset and a login unlocked only for users whose every grant lies inside the
  administrator's subtrees and who are not system owners.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tillit.core import audit, logins
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.models import ApiToken, Grant
from tillit.core.policy import Refused, declare, require
from tillit.core.scopes import (
    CONFIGURE,
    CORRECT,
    EDIT,
    MANAGE_GRANTS,
    MERGE,
    ROLES,
    TREES,
    VIEW,
    active_grants,
    held_roles,
    roles_over,
    scope_for,
)
from tillit.core.services import grant_access, revoke_grants, revoke_tokens
from tillit.registry.models import Employer, OrgUnit, Person, may

NODE_MODELS = {"org": OrgUnit, "employer": Employer}

# What a representative may correct: on the person, and on an employment under their node.
CORRECTABLE = {"person": ("phone", "email"), "employment": ("workplace", "position", "percentage", "ends_on")}

EDIT_PEOPLE = declare("registry.edit", gettext_lazy("Register and change people, memberships, employments, leave"),
                      EDIT, tree="org/employer")
CORRECT_PEOPLE = declare("registry.correct", gettext_lazy("Correct a member's phone, email and employment"), CORRECT,
                         tree="employer", reps=True,
                         note=gettext_lazy("applied at once or waiting for member service, as the organisation sets"))
MERGE_PEOPLE = declare("registry.merge", gettext_lazy("Merge duplicates and dismiss duplicate reviews"), MERGE,
                       tree="org/employer")
ROLES_ACTION = declare("registry.roles", gettext_lazy("Appoint and end roles that give access (reps)"), MANAGE_GRANTS,
                       tree="org/employer",
                       note=gettext_lazy("only roles whose access the actor could give over the node"))
USERS = declare("core.users", gettext_lazy(
    "Give and take access, unlock logins, set temporary passwords, reset second factors"),
                MANAGE_GRANTS, tree="org/employer",
                note=gettext_lazy("only users whose every grant the actor could give"))
NODES = declare("registry.nodes", gettext_lazy("Add and rename org units and employers"), EDIT, tree="org/employer",
                note=gettext_lazy("under a node the actor covers; a new top-level node needs a grant over everything"))
CONFIGURE_REGISTRY = declare("registry.configure", gettext_lazy(
    "Change the trees, name types, anonymise a person"), CONFIGURE)


def may_open_staff_pages(user, perm: str = VIEW) -> bool:
    """The staff pages of people are for grants: a login without one (a member, a citizen: their own record only)
    has self-service instead."""
    return not scope_for(user, perm).empty


def may_correct_anyone(user) -> bool:
    """Whether the user may correct some member (a rep's corrections page and its buttons)."""
    return not scope_for(user, CORRECT).empty


def may_edit_person(user, person, fields=None) -> bool:
    """EDIT over the person; or, when the `fields` changed are all ones a rep may correct, CORRECT over them."""
    if may(user, EDIT, person):
        return True
    return fields is not None and set(fields) <= set(CORRECTABLE["person"]) and may(user, CORRECT, person)


def may_edit_employment(user, employment, fields=None) -> bool:
    """EDIT over the person; or, when every field is correctable, CORRECT over a current employment the rep covers."""
    person = employment.person
    if may(user, EDIT, person):
        return True
    return (fields is not None and set(fields) <= set(CORRECTABLE["employment"]) and may(user, CORRECT, person)
            and employment.workplace.in_scope(scope_for(user, CORRECT)))


def may_change_node(user, node) -> bool:
    """EDIT over the node (an employer: its subtree, or the region a workplace lies in)."""
    scope = scope_for(user, EDIT)
    return scope.covers_node("org", node.path) if isinstance(node, OrgUnit) else node.in_scope(scope)


def may_add_node(user, parent) -> bool:
    """Under a node the user may change; a new root only with a grant over everything."""
    return may_change_node(user, parent) if parent is not None else scope_for(user, EDIT).everything


def may_register(user, *, unit=None, registered_at=None) -> bool:
    """EDIT over where the new person is registered (their unit, or the workplace that registers them)."""
    scope = scope_for(user, EDIT)
    if scope.everything:
        return True
    if unit is not None:
        return scope.covers_node("org", unit.path)
    if registered_at is not None:
        return registered_at.in_scope(scope)
    return not scope.empty


def may_give_role(user, person, role_type, node) -> bool:
    """EDIT over the person and the node; a role that gives access only where the actor could give that access."""
    tree = "org" if isinstance(node, OrgUnit) else "employer"
    scope = scope_for(user, EDIT)
    on_node = scope.covers_node(tree, node.path) if tree == "org" else node.in_scope(scope)
    if not (may(user, EDIT, person) and on_node):
        return False
    return not role_type.grant_role or role_type.grant_role in grantable_roles(user, tree, node)


def may_end_role(user, role) -> bool:
    return may_give_role(user, role.person, role.role_type, role.org_unit or role.employer)


def may_merge(user, *people) -> bool:

    return all(may(user, MERGE, p) for p in people)


def may_configure(user) -> bool:
    return not scope_for(user, CONFIGURE).empty


def check(allowed: bool) -> None:
    """The registry's refusal, in one wording."""
    require(allowed, _("You may not change this record this way. Member service can help."))


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


def roles_on_offer(admin) -> list[tuple[str, str]]:
    """(code, label) of the roles `admin` may give over at least one node in its care: what its forms offer."""
    if admin.is_superuser:
        return [(code, label) for code, (label, _perms) in ROLES.items()]
    offered = set()
    for tree, model in NODE_MODELS.items():
        paths = scope_for(admin, MANAGE_GRANTS).paths[tree]
        for node in model.objects.filter(path__in=paths):
            offered |= set(grantable_roles(admin, tree, node))
    return [(code, label) for code, (label, _perms) in ROLES.items() if code in offered]


def locked_out(usernames) -> set[str]:
    """Which of these logins are locked out by failed attempts (one query)."""
    from axes.models import AccessAttempt

    return set(AccessAttempt.objects.filter(username__in=list(usernames),
                                            failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
               .values_list("username", flat=True))


def may_reset(admin, user) -> bool:
    """Whether `admin` may unlock, reset or take access of `user`: only a user every grant of whom `admin` could
    itself give (a local administrator never takes over a stronger login), never a system owner or oneself."""
    if admin.is_superuser:
        return True
    if user.is_superuser or user.is_staff or user.pk == admin.pk:
        return False
    for grant in Grant.objects.filter(user=user):
        node = NODE_MODELS[grant.tree].objects.filter(pk=grant.node_id).first()
        if node is None or grant.role not in grantable_roles(admin, grant.tree, node):
            return False
    return True


@transaction.atomic
def give_role(admin, user, role: str, tree: str, node, *, valid_from=None, valid_to=None) -> Grant:
    if tree not in TREES or node is None:
        raise InvalidInput(_("Choose where the role applies."), field_errors={"node": [_("Choose a unit.")]})
    if role not in grantable_roles(admin, tree, node):
        raise Refused(_("You cannot give this role there: it would give more than you have yourself."),
                      field_errors={"role": [_("Not a role you can give here.")]})
    if valid_from and valid_to and valid_to < valid_from:
        raise InvalidInput(_("The end date is before the start date."), field_errors={"valid_to": [_("Too early.")]})
    return grant_access(user, role, tree, node, actor=admin, valid_from=valid_from, valid_to=valid_to)


@transaction.atomic
def take_role(admin, grant: Grant) -> None:
    if grant.source:
        raise DomainError(_("This access comes from a representative's role; end the role instead."))
    if not grant_inside(admin, grant) or not may_reset(admin, grant.user):
        raise DomainError(_("This access lies outside your part of the organisation, or the user holds access you "
                            "cannot give."))
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
    user.must_change_password = True  # it opens one login, which chooses a password nobody else knows
    user.save(update_fields=["password", "must_change_password"])
    reset(username=user.username)
    audit.record("core.user.password_reset", user, actor=admin, channel="ui")
    revoke_tokens(ApiToken.objects.filter(user=user), actor=admin)
    return password


@transaction.atomic
def reset_factors(admin, user) -> None:
    """Remove every second factor of `user` (a lost phone): the next login sets one up again."""
    if not may_reset(admin, user):
        raise Refused(_("Only an administrator over all of this user's access can reset the second factor."))
    logins.reset_factors(user, actor=admin)


def grants_of(user) -> list[Grant]:
    """All the user's grants, current first, with the node each applies to."""
    active = set(active_grants(user).values_list("pk", flat=True))
    grants = list(Grant.objects.filter(user=user).order_by("tree", "role", "pk"))
    nodes = {tree: {n.pk: n for n in model.objects.filter(pk__in=[g.node_id for g in grants if g.tree == tree])}
             for tree, model in NODE_MODELS.items()}
    for grant in grants:
        grant.node = nodes[grant.tree].get(grant.node_id)
        grant.current = grant.pk in active
        grant.role_label = ROLES[grant.role][0] if grant.role in ROLES else grant.role
    return sorted(grants, key=lambda g: not g.current)


def failed_logins(user) -> int:
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.filter(username=user.username).values_list("failures_since_start", flat=True))


def support_contact_for(username: str) -> str:
    """Whom a login asks for help (a lockout, a lost phone): the support contact of the nearest org unit up the
    tree from where the login has access or membership, else the organisation's (TILLIT_SUPPORT_CONTACT)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        unit_ids = set(Grant.objects.filter(user=user, tree="org").values_list("node_id", flat=True))
        unit_ids |= set(Person.objects.filter(user=user).values_list("memberships__branch_id", flat=True))
        paths = OrgUnit.objects.filter(pk__in=[i for i in unit_ids if i]).values_list("path", flat=True)
        ancestors = {path[:end] for path in paths for end in range(OrgUnit.steplen, len(path) + 1, OrgUnit.steplen)}
        nearest = (OrgUnit.objects.filter(path__in=ancestors).exclude(support_contact="")
                   .order_by("-depth").values_list("support_contact", flat=True).first())
        if nearest:
            return nearest
    return settings.TILLIT_SUPPORT_CONTACT


def supports_users_only(user) -> bool:
    """A login whose only role is local administrator: its work is the support of its users (where it starts)."""
    return not user.is_superuser and held_roles(user) == {"local_admin"}

"""Roles, what each may do, and the scope (subtrees) a user's grants give for one permission.

Every query for personal data goes through `Model.objects.visible_to(user)`, which asks
`scope_for(user, perm)` which subtrees of which tree the user covers.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.core.memo import forget_per_request, per_request

VIEW = "view"
EDIT = "edit"
EXPORT = "export"
IMPORT = "import"
VIEW_NATIONAL_ID = "view_national_id"
MERGE = "merge"
MANAGE_GRANTS = "manage_grants"
CONFIGURE = "configure"  # case types, processes and other settings of the whole organisation
VIEW_ACCESS_LOG = "view_access_log"  # who looked at a person's record (data protection)
DUES = "dues"  # dues runs, bank files, employer returns, deviations and corrections
VIEW_NOTICES = "view_notices"  # payroll deduction notices and returns of employers in scope
SEND_RETURNS = "send_returns"  # upload what an employer deducted
CORRECT = "correct"  # a rep's corrections of members' contact and employment data (reps.corrections), nothing more

ROLES = {
    "admin": (_("Administrator"), {VIEW, EDIT, CORRECT, EXPORT, IMPORT, VIEW_NATIONAL_ID, MERGE, MANAGE_GRANTS,
                                   CONFIGURE, VIEW_ACCESS_LOG, DUES, VIEW_NOTICES, SEND_RETURNS}),
    # Export too, so that every role a representative holds is one it can give: a local administrator looks after
    # the logins of the reps in its part of the organisation (passwords, second factors, access).
    "local_admin": (_("Local administrator"), {VIEW, EDIT, CORRECT, EXPORT, VIEW_NATIONAL_ID, MANAGE_GRANTS}),
    "case_handler": (_("Case handler"), {VIEW, EDIT, CORRECT, EXPORT, IMPORT, VIEW_NATIONAL_ID, MERGE, DUES,
                                         VIEW_NOTICES, SEND_RETURNS}),
    "rep": (_("Representative"), {VIEW, CORRECT, EXPORT}),
    "regional_rep": (_("Regional representative"), {VIEW, EXPORT}),
    "viewer": (_("Read only"), {VIEW}),
    # An employer's payroll office: its own deduction notices and returns, no one's registry record.
    "payroll": (_("Employer's payroll office"), {VIEW_NOTICES, SEND_RETURNS}),
}
# Roles whose edits are recorded with the channel "rep" (a rep correcting member data).
REP_ROLES = {"rep", "regional_rep"}

# Conditions a role's grants must meet before they open personal data: {role: callable(user) -> bool}, registered
# by the app that owns the condition (the reps' confidentiality declaration). A grant that does not meet its
# condition still counts as held (the rep lands on the page where they sign) but gives no scope.
CONDITIONS = {}


def require_for_roles(roles, condition) -> None:
    for role in roles:
        CONDITIONS[role] = condition


# tree name -> "app_label.Model" of its nodes; registered by the apps that own the trees.
TREES = {"org": "registry.OrgUnit", "employer": "registry.Employer"}


@dataclass
class Scope:
    """The subtrees a user covers for one permission. `everything`: a superuser, no filter at all."""

    everything: bool = False
    paths: dict[str, list[str]] = field(default_factory=lambda: {"org": [], "employer": []})
    via_rep_only: bool = False

    @property
    def empty(self) -> bool:
        return not self.everything and not any(self.paths.values())

    def covers_as_much_as(self, other: "Scope") -> bool:
        """Whether this scope reaches everything `other` does (everything, or the same subtrees): a
        permission check on an object already found under `other` then needs no query."""
        return self.everything or (not self.empty and self.paths == other.paths)

    def tree_q(self, tree: str, prefix: str) -> Q | None:
        """Q for objects whose `<prefix>path` lies under one of the covered nodes of `tree`."""
        paths = self.paths[tree]
        if not paths:
            return None
        q = Q()
        for p in paths:
            q |= Q(**{f"{prefix}path__startswith": p})
        return q

    def covers_node(self, tree: str, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths[tree])


def active_grants(user, today=None):
    from tillit.core.models import Grant

    today = today or timezone.localdate()
    return (
        Grant.objects.filter(user=user)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    )


# A user's grants are read once per request and kept in the shared cache for a minute across requests
# (keyed by the day, since grants have validity dates); every change of grants deletes the entry.
GRANTS_SECONDS = 60


def _grants_key(user_id: int, today) -> str:
    return f"tillit:grants:{user_id}:{today.isoformat()}"


def _grant_rows(user):
    from tillit.core.kept import kept

    return per_request(("grants", user.pk), lambda: kept(_grants_key(user.pk, timezone.localdate()), GRANTS_SECONDS,
                                                    lambda: _read_grant_rows(user)))


def _read_grant_rows(user):
    grants = list(active_grants(user))
    node_paths = {}
    for tree, label in TREES.items():
        ids = [g.node_id for g in grants if g.tree == tree]
        if ids:
            model = apps.get_model(label)
            node_paths.update({(tree, pk): path for pk, path in model.objects.filter(pk__in=ids).values_list(
                "pk", "path")})
    met = {}
    for g in grants:
        if g.role in CONDITIONS and CONDITIONS[g.role] not in met:
            met[CONDITIONS[g.role]] = CONDITIONS[g.role](user)
    rows = [(g.role, g.tree, node_paths.get((g.tree, g.node_id)), met.get(CONDITIONS.get(g.role), True))
            for g in grants]
    return [row for row in rows if row[2] is not None]


def forget_grants(user):
    """Drop what is remembered of the user's grants (this request's and the shared cache) after they change."""
    forget_per_request(*((name, user.pk) for name in ("grants", "shown", "rep-nodes")))
    forget_grants_of([user.pk])


def forget_grants_of(user_ids) -> None:
    """Forget the shared entries of these users (now and after the change commits)."""
    from tillit.core.kept import forget

    today = timezone.localdate()
    forget(_grants_key(pk, day) for pk in set(user_ids)
           for day in (today - timezone.timedelta(days=1), today, today + timezone.timedelta(days=1)))


def mark_shown(user, obj, perm: str = VIEW) -> None:
    """Remember for this request that `obj` was found through visible_to(user, perm): a section of the same page
    asking again needs no query."""
    per_request(("shown", user.pk), set).add((obj._meta.label, obj.pk, perm))


def was_shown(user, obj, perm: str = VIEW) -> bool:
    return (obj._meta.label, obj.pk, perm) in per_request(("shown", user.pk), set)


def scope_for(user, perm: str = VIEW) -> Scope:
    """Which subtrees `user` covers for `perm`; superusers cover everything."""
    scope = Scope()
    if not user or not user.is_authenticated or not user.is_active:
        return scope
    if user.is_superuser:
        scope.everything = True
        return scope
    roles_used = set()
    for role, tree, path, opens in _grant_rows(user):
        perms = ROLES.get(role, ("", set()))[1]
        if perm not in perms or not opens:
            continue
        roles_used.add(role)
        scope.paths[tree].append(path)
    scope.via_rep_only = bool(roles_used) and roles_used <= REP_ROLES
    return scope


def organisation_wide(user, perm: str) -> bool:
    """Whether `user` holds `perm` over the whole organisation: a grant on a root org unit (or a superuser). Dues
    runs, bank files, the organisation's settings and texts concern every member."""
    from tillit.core.models import TreeNode

    scope = scope_for(user, perm)
    return scope.everything or any(len(p) == TreeNode.steplen for p in scope.paths["org"])


def held_roles(user) -> set[str]:
    """The roles of the user's current grants (read from the grants kept for the request: no query)."""
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    return {role for role, _tree, _path, _opens in _grant_rows(user)}


def held_grants(user) -> set[tuple[str, str]]:
    """(role, tree) of the user's current grants (from the grants kept for the request: no query)."""
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    return {(role, tree) for role, tree, _path, _opens in _grant_rows(user)}


def channel_for(user, default: str = "ui") -> str:
    """Edits by someone who may only correct (a rep) are recorded as channel "rep"."""
    return "rep" if scope_for(user, EDIT).empty and not scope_for(user, CORRECT).empty else default


def roles_over(user, tree: str, path: str) -> set[str]:
    """The roles whose grants cover the node at `path` (every role for a superuser)."""
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(ROLES)
    return {role for role, grant_tree, grant_path, opens in _grant_rows(user)
            if opens and grant_tree == tree and path.startswith(grant_path)}

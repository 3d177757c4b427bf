"""Which nodes a representative's portal shows: the nodes of their rep grants (a workplace, a company, a group,
a region), and what lies under them."""

import dataclasses

from django.http import Http404

from tillit.core.memo import per_request
from tillit.core.scopes import REP_ROLES, ROLES, VIEW, active_grants, held_grants, held_roles
from tillit.registry.models import Employer, OrgUnit

TREES = {"org": OrgUnit, "employer": Employer}


@dataclasses.dataclass(frozen=True)
class Node:
    tree: str
    obj: object

    @property
    def key(self) -> str:
        return f"{self.tree}-{self.obj.pk}"

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def path(self) -> str:
        return self.obj.path


def rep_nodes(user) -> list[Node]:
    """The nodes of the user's current rep grants (through an elected role or given), in tree order."""
    return per_request(("rep-nodes", user.pk), lambda: _read_rep_nodes(user))


def _read_rep_nodes(user) -> list[Node]:
    grants = list(active_grants(user).filter(role__in=REP_ROLES).values_list("tree", "node_id"))
    nodes = []
    for tree, model in TREES.items():
        ids = [pk for t, pk in grants if t == tree]
        nodes += [Node(tree, obj) for obj in model.objects.filter(pk__in=ids).order_by("path")]
    return nodes


def staff_nodes(user) -> list[Node]:
    """The org units of the user's own staff grants (not a rep's, not a payroll office's) that open people: the
    organisation's staff see the reps' coverage there, the national staff for the whole country."""
    return per_request(("staff-nodes", user.pk), lambda: _read_staff_nodes(user))


STAFF_ROLES = {role for role, (_label, perms) in ROLES.items() if VIEW in perms and role not in REP_ROLES}


def _read_staff_nodes(user) -> list[Node]:
    if user.is_superuser:
        units = OrgUnit.objects.get_root_nodes()
    else:
        ids = active_grants(user).filter(role__in=STAFF_ROLES, tree="org").values_list("node_id", flat=True)
        units = OrgUnit.objects.filter(pk__in=list(ids)).order_by("path")
    return [Node("org", obj) for obj in units]


def has_staff_nodes(user) -> bool:
    """Whether `staff_nodes` finds any, from the grants already read for the request (no query)."""
    return bool(getattr(user, "is_superuser", False) or
                any(tree == "org" and role in STAFF_ROLES for role, tree in held_grants(user)))


def coverage_nodes(user) -> list[Node]:
    """Where the user may read the coverage of reps: their rep nodes, then their staff units."""
    return rep_nodes(user) + [n for n in staff_nodes(user) if n not in rep_nodes(user)]


def is_rep(user) -> bool:
    """Whether the user holds a current rep grant (no query: from the grants already read for the request). A
    superuser works in the staff UI."""
    return not getattr(user, "is_superuser", False) and bool(held_roles(user) & REP_ROLES)


def node_for(user, key: str | None, nodes: list[Node] | None = None) -> Node:
    """The node asked for (`org-3`, `employer-12`), if it is one of the user's rep nodes (or of `nodes`) or lies
    under one; without a key, the first of them. Anything else is a 404."""
    nodes = rep_nodes(user) if nodes is None else nodes
    if not nodes:
        raise Http404
    if not key:
        return nodes[0]
    tree, _dash, pk = str(key).partition("-")
    if tree not in TREES or not pk.isdigit() or len(pk) > 18:
        raise Http404
    obj = TREES[tree].objects.filter(pk=int(pk)).first()
    if obj is None:
        raise Http404
    if any(n.tree == tree and obj.path.startswith(n.path) for n in nodes):
        return Node(tree, obj)
    # a workplace in a regional rep's region
    if tree == "employer" and obj.region_id and any(
            n.tree == "org" and obj.region.path.startswith(n.path) for n in nodes):
        return Node(tree, obj)
    raise Http404

"""The portal's lists for a node, as the pages and the API show them: the company tree with its counts and reps,
the other reps, and the deduction notices of the last three months."""

from django.db.models import Q

from tillit.registry.models import Employer, Role
from tillit.reps import kpis
from tillit.reps.coverage import current_roles


def tree(user, node, today):
    """The employer nodes under the node (or a region's workplaces), each with its level below the node, members
    and members in work as last counted, and reps (of people the user may see); the count they come from (None:
    never counted, the figures are None)."""
    if node.tree == "employer":
        below = Employer.objects.filter(path__startswith=node.path).order_by("path")
    else:
        below = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path).order_by(
            "name")
    below = list(below[:2000])
    counted = kpis.latest_count(today)
    kept = {r.node_id: r for r in kpis.KpiDay.objects.filter(tree="employer", day=counted.day if counted else today,
                                                             node_id__in=[e.pk for e in below])}
    reps = {}
    for role in current_roles(today, user).filter(employer__in=below).select_related("person", "role_type"):
        reps.setdefault(role.employer_id, []).append(role)
    depth = min((e.depth for e in below), default=1)
    rows = [{"e": e, "level": min(e.depth - depth, 5) if node.tree == "employer" else 0,
             "members": kept[e.pk].members if e.pk in kept else (0 if counted else None),
             "in_work": kept[e.pk].in_work if e.pk in kept else (0 if counted else None),
             "reps": reps.get(e.pk, []), "key": f"employer-{e.pk}"} for e in below]
    return rows, counted


def other_reps(user, node, today):
    """The current roles under the node of people the user may see, and the user's own roles."""
    if node.tree == "employer":
        under = Q(employer__path__startswith=node.path)
    else:
        under = Q(org_unit__path__startswith=node.path) | Q(employer__region__path__startswith=node.path)
    roles = list(Role.objects.visible_to(user).current_on(today).filter(under)
                 .filter(role_type__grant_role__gt="").select_related("person", "role_type", "employer", "org_unit")
                 .order_by("person__last_name", "person__first_name")[:500])
    own = list(Role.objects.filter(person__user=user).select_related("role_type", "employer", "org_unit")
               .order_by("-starts_on"))
    return roles, own


def notices(user, node, today):
    """Deduction notices of the last three months for the payroll offices above the node's workplaces, with
    only the lines about members the user may see."""
    from tillit.dues.access import visible_member_numbers
    from tillit.dues.models import DeductionNotice, add_months

    if node.tree == "employer":
        places = Employer.objects.filter(path__startswith=node.path)
    else:
        places = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path)
    steps = Employer.steplen
    above = {path[:end] for path in places.values_list("path", flat=True)[:5000]
             for end in range(steps, len(path) + 1, steps)}
    found = list(DeductionNotice.objects.filter(payroll_unit__path__in=sorted(above),
                                                period__gte=add_months(today.replace(day=1), -2))
                 .select_related("payroll_unit").order_by("-period", "payroll_unit__name")[:200])
    visible = visible_member_numbers(user, [line["member_number"] for n in found for line in n.lines])
    return [{"notice": n, "lines": [line for line in n.lines if line["member_number"] in visible]} for n in found]

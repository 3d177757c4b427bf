"""The named queues of cases, shared by the staff UI and the API."""

from django.db.models import Q

from tillit.cases.models import State
from tillit.registry.models import OrgUnit

QUEUES = {
    "unit": lambda qs, user, today: qs.open(),
    "unassigned": lambda qs, user, today: qs.open().filter(handler__isnull=True),
    "mine": lambda qs, user, today: qs.open().filter(handler=user),
    "overdue": lambda qs, user, today: qs.overdue(today),
    "waiting": lambda qs, user, today: qs.open().filter(state__category=State.Category.WAITING),
    "closed": lambda qs, user, today: qs.filter(state__category=State.Category.CLOSED),
}



def filter_cases(cases, *, unit_id=None, q: str = ""):
    """Narrow a queue to a unit's subtree and to a case number or words of the title."""
    if unit_id:
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        cases = cases.filter(responsible_unit__path__startswith=unit.path) if unit else cases.none()
    if q.strip():
        cases = cases.filter(Q(number=q.strip()) | Q(title__icontains=q.strip()))
    return cases

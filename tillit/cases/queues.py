"""The named queues of cases, shared by the staff UI and the API."""

from tillit.cases.models import State

QUEUES = {
    "unit": lambda qs, user, today: qs.open(),
    "unassigned": lambda qs, user, today: qs.open().filter(handler__isnull=True),
    "mine": lambda qs, user, today: qs.open().filter(handler=user),
    "overdue": lambda qs, user, today: qs.overdue(today),
    "waiting": lambda qs, user, today: qs.open().filter(state__category=State.Category.WAITING),
    "closed": lambda qs, user, today: qs.filter(state__category=State.Category.CLOSED),
}

"""Who hears of what happens on a case: its handler of an assignment and of the person's answer, the staff of
the unit a case moves to, whoever an internal note mentions as @username, and the handler the day before a
deadline. Called from `services.record_event`, inside the transaction that writes the entry."""

import datetime
import re

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks import task

from tillit.core.models import Grant, Notification
from tillit.core.notify import notify
from tillit.core.scopes import EDIT, ROLES

MENTION = re.compile(r"(?<![\w@])@([\w.\-]{2,150})")
EDIT_ROLES = [code for code, (_label, perms) in ROLES.items() if EDIT in perms]


def _case(kind, case, users, key, actor):
    return notify(users, kind, object_type="case", object_id=case.pk, key=key, skip=actor)


def unit_staff(unit_id: int, today=None) -> list[int]:
    """Users whose own grant (not a rep's role) lets them work on the unit's cases: the unit's staff."""
    today = today or timezone.localdate()
    grants = Grant.objects.filter(tree="org", node_id=unit_id, role__in=EDIT_ROLES, source="").exclude(
        valid_from__gt=today).exclude(valid_to__lt=today)
    return list(grants.values_list("user_id", flat=True).distinct())


def mentioned(case, body: str) -> list[int]:
    """Users named as @username in the text who may open the case (no one else learns it exists)."""
    from tillit.cases.models import Case

    names = {m.group(1).rstrip(".-") for m in MENTION.finditer(body or "")}
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True)
    return [u.pk for u in users if Case.objects.visible_to(u).filter(pk=case.pk).exists()]


def on_event(case, event) -> None:
    from tillit.cases.models import CaseEvent

    kind, actor, key = event.kind, event.actor, f"event:{event.pk}"
    if kind == CaseEvent.Kind.ASSIGNMENT and event.data.get("to"):
        _case(Notification.Kind.ASSIGNED, case, [event.data["to"]], key, actor)
    elif kind == CaseEvent.Kind.MESSAGE_IN or (kind == CaseEvent.Kind.DOCUMENT and event.data.get("from_subject")):
        if case.handler_id:
            _case(Notification.Kind.ANSWERED, case, [case.handler_id], key, actor)
    elif kind == CaseEvent.Kind.TRANSFER and not event.public and event.data.get("to"):
        _case(Notification.Kind.TRANSFERRED, case, unit_staff(event.data["to"]), key, actor)
    elif kind == CaseEvent.Kind.NOTE and not event.public:
        _case(Notification.Kind.MENTIONED, case, mentioned(case, event.body), key, actor)


def deadlines_tomorrow(today: datetime.date | None = None) -> int:
    """Tell each handler of the open cases due tomorrow (once per case and deadline)."""
    from tillit.cases.models import Case

    today = today or timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    count = 0
    for pk, handler_id in Case.objects.open().filter(due_on=tomorrow, handler__isnull=False).values_list(
            "pk", "handler_id").iterator(chunk_size=2000):
        count += notify([handler_id], Notification.Kind.DEADLINE, object_type="case", object_id=pk,
                        key=f"deadline:{pk}:{tomorrow.isoformat()}")
    return count


@task()
def deadlines_tomorrow_round() -> int:
    return deadlines_tomorrow()

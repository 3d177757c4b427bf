"""The deadline round: note passed deadlines once and tell the handler; remind whoever we wait for.

Run by the worker every few minutes (`tillit worker`), or once with `tillit deadlines`.
"""

import datetime
import logging

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.cases.models import Case, CaseEvent, State
from tillit.cases.services import record_event
from tillit.messaging.services import send_case_message

log = logging.getLogger(__name__)


def note_overdue(today: datetime.date) -> int:
    """Mark each open case whose deadline passed (once per deadline) and mail its handler."""
    count = 0
    late = (Case.objects.open().filter(Q(due_on__lt=today) | Q(state_due_on__lt=today))
            .filter(Q(overdue_noted_on__isnull=True) | Q(overdue_noted_on__lt=F("due_on")))
            .select_related("handler", "responsible_unit"))
    for case in late.iterator(chunk_size=500):
        with transaction.atomic():
            Case.objects.filter(pk=case.pk).update(overdue_noted_on=today)
            record_event(case, CaseEvent.Kind.DEADLINE, actor=None, body=_("The deadline has passed."),
                         data={"overdue": True, "due_on": str(case.due_on or case.state_due_on)})
        if case.handler and case.handler.email:
            send_mail(_("Overdue: %(n)s %(t)s") % {"n": case.number, "t": case.title},
                      _("Case %(n)s has passed its deadline.") % {"n": case.number}, None, [case.handler.email],
                      fail_silently=True)
        count += 1
    return count


def send_reminders(now: datetime.datetime) -> int:
    """Remind the subject of cases waiting for them longer than the state's reminder interval."""
    count = 0
    waiting = (Case.objects.filter(state__category=State.Category.WAITING, state__remind_after_days__isnull=False)
               .select_related("state"))
    for case in waiting.iterator(chunk_size=500):
        since = max(case.state_since, case.reminded_at) if case.reminded_at else case.state_since
        if now < since + datetime.timedelta(days=case.state.remind_after_days):
            continue
        with transaction.atomic():
            Case.objects.filter(pk=case.pk).update(reminded_at=now)
            try:
                send_case_message(case, subject=_("Reminder: %(t)s") % {"t": case.title},
                                  body=_("We are still waiting for your answer in case %(n)s.") % {"n": case.number},
                                  actor=None, channel="system")
                record_event(case, CaseEvent.Kind.REMINDER, actor=None, public=True, body=_("Reminder sent."))
            except Exception as exc:  # no address: note it and go on
                record_event(case, CaseEvent.Kind.REMINDER, actor=None,
                             body=_("No reminder could be sent: %(e)s") % {"e": exc})
        count += 1
    return count


@task()
def deadline_round() -> dict:
    now = timezone.now()
    result = {"overdue": note_overdue(timezone.localdate(now)), "reminded": send_reminders(now)}
    log.info("deadline round: %s", result)
    return result

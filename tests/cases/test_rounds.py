import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from tillit.cases import services as cases
from tillit.cases.rounds import note_overdue, send_reminders
from tillit.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_a_passed_deadline_is_noted_once_and_the_handler_told(world):
    world.a.staff.email = "handler@example.no"
    world.a.staff.save(update_fields=["email"])
    case = factories.case(world.a)
    cases.assign_case(case, world.a.staff, actor=world.a.staff)
    later = case.due_on + datetime.timedelta(days=1)
    assert note_overdue(later) == 1
    assert note_overdue(later) == 0
    assert case.events.filter(kind="deadline", data__overdue=True).count() == 1
    assert [m.to for m in mail.outbox] == [["handler@example.no"]] and case.number in mail.outbox[0].subject
    case.refresh_from_db()
    cases.set_deadline(case, later + datetime.timedelta(days=5), actor=world.a.staff, reason="More time")
    assert note_overdue(later + datetime.timedelta(days=6)) == 1  # the new deadline passed too


def test_whoever_we_wait_for_is_reminded_after_the_configured_days(world):
    case = factories.case(world.a)
    cases.transition_case(case, "start", actor=world.a.staff)
    cases.transition_case(case, "wait", actor=world.a.staff)
    case.refresh_from_db()
    now = timezone.now()
    assert send_reminders(now + datetime.timedelta(days=4)) == 0  # the state reminds after 5 days
    assert send_reminders(now + datetime.timedelta(days=5, minutes=1)) == 1
    assert send_reminders(now + datetime.timedelta(days=6)) == 0  # not again the next day
    assert send_reminders(now + datetime.timedelta(days=10, minutes=2)) == 1  # but after another interval
    assert case.events.filter(kind="reminder").count() == 2
    assert Message.objects.filter(case=case, subject__contains="Reminder").count() == 2


def test_the_worker_runs_queued_deliveries_and_the_deadline_round(world, settings, transactional_db):
    case = factories.case(world.a)
    from tillit.messaging.services import send_case_message

    message = send_case_message(case, body="Hello", actor=world.a.staff)  # queued when the transaction ends
    call_command("worker", batch=True, interval=0.1)
    message.refresh_from_db()
    assert message.status == "sent"
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="deadline_round", status="SUCCESSFUL").exists()

"""Background work survives a dead worker: real worker processes, killed with SIGKILL mid-task."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django_tasks import task
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests import factories
from tillit.core.models import WorkerBeat
from tillit.core.worker import reclaim_abandoned
from tillit.messaging import outbox, services
from tillit.messaging.models import Message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class SlowInbox:
    """An SMTP server that takes the message and then holds its answer until released, so the
    sender can be killed after the server has the mail but before it hears "250"."""

    def __init__(self):
        self.received = []
        self.got = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.received.append(envelope.content)
        self.got.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 OK"


def _worker(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tillit.cli", "worker", "--no-schedule", "--interval", "0.2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_has_its_task_run_again_once_and_the_mail_is_sent_once(world, tmp_path):
    inbox = SlowInbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {**os.environ, "DATABASE_URL": _database_url(), "TILLIT_VAR_DIR": str(tmp_path),
           "TILLIT_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "TILLIT_SMTP_HOST": "127.0.0.1",
           "TILLIT_SMTP_PORT": str(port), "TILLIT_TASK_LEASE_SECONDS": "2", "TILLIT_MEDIA_ROOT": str(tmp_path)}
    first = second = None
    try:
        case = factories.case(world.a, subjects=[world.a.members[1][0]])
        message = services.send_case_message(case, body="Your answer", actor=world.a.staff)
        task = DBTaskResult.objects.get(task_path__endswith="deliver_message")
        first = _worker(env)
        assert inbox.got.wait(30), "the first worker never reached the SMTP server"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        inbox.release.set()
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING  # what the dead worker left behind
        second = _worker(env)
        _wait(lambda: DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.SUCCESSFUL, 30,
              "the task to be run again")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
        controller.stop()
    task.refresh_from_db()
    assert len(task.worker_ids) == 2  # run twice: by the worker that died and by the one after it
    assert len(inbox.received) == 1  # and the mail reached the server once
    message.refresh_from_db()
    assert message.status == Message.Status.UNCERTAIN and message.attempts == 1


@pytest.mark.django_db
def test_the_tasks_of_a_silent_worker_are_queued_again_and_a_poisonous_one_fails(world, settings):
    from django.utils import timezone

    settings.TILLIT_TASK_LEASE_SECONDS = 60
    now = timezone.now()
    WorkerBeat.objects.create(worker_id="alive", beat_at=now, pid=1)
    WorkerBeat.objects.create(worker_id="dead", beat_at=now - timezone.timedelta(seconds=120), pid=2)
    common = {"args_kwargs": {"args": [1], "kwargs": {}}, "task_path": "tillit.documents.text.extract_text",
              "backend_name": "default", "run_after": now, "status": TaskResultStatus.RUNNING}
    held = DBTaskResult.objects.create(worker_ids=["alive"], **common)
    orphan = DBTaskResult.objects.create(worker_ids=["dead"], **common)
    poison = DBTaskResult.objects.create(worker_ids=["w1", "w2", "dead"], **common)
    assert reclaim_abandoned(now) == (1, 1)
    statuses = {t.pk: t.status for t in DBTaskResult.objects.all()}
    assert statuses == {held.pk: TaskResultStatus.RUNNING, orphan.pk: TaskResultStatus.READY,
                        poison.pk: TaskResultStatus.FAILED}


@pytest.mark.django_db
def test_extracting_the_text_of_a_deleted_version_does_nothing(world):
    from tillit.documents.text import extract_text

    assert extract_text.call(987654) == "gone"


@pytest.mark.django_db
def test_an_operator_resends_an_uncertain_message_and_nothing_else(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = factories.case(world.a, subjects=[world.a.members[1][0]])
    message = services.send_case_message(case, body="Hello", actor=world.a.staff)
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
    assert outbox.deliver_message.call(message.pk) == Message.Status.UNCERTAIN  # a re-run sends nothing
    from django.core import mail

    assert mail.outbox == []
    sent = Message.objects.create(direction="out", status=Message.Status.SENT, case=case, address="a@b.no")
    with pytest.raises(services.InvalidInput):
        services.resend_message(sent)
    services.resend_message(message)
    assert Message.objects.get(pk=message.pk).status == Message.Status.QUEUED
    assert outbox.deliver_message.call(message.pk) == Message.Status.SENT and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_task_is_queued_in_the_transaction_of_the_change_that_asks_for_it(world):
    """Queued after the commit, a task was lost when the process died in between (a message stayed `queued` for
    ever after kill -9): on the database queue its row is written with the change, and rolls back with it."""
    from django.db import transaction

    case = factories.case(world.a, subjects=[world.a.members[1][0]])
    with transaction.atomic():
        message = services.send_case_message(case, body="Written", actor=world.a.staff)
        assert DBTaskResult.objects.filter(task_path__endswith="deliver_message", args_kwargs__args=[message.pk]
                                           ).exists()  # before any commit
    try:
        with transaction.atomic():
            lost = services.send_case_message(case, body="Never sent", actor=world.a.staff)
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    assert not Message.objects.filter(pk=lost.pk).exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="deliver_message", args_kwargs__args=[lost.pk]).exists()


@task()
def _sleeps_long() -> str:
    time.sleep(30)
    return "woke"


@pytest.mark.django_db
def test_a_task_past_its_time_limit_is_stopped_and_marked_failed(settings):
    from tillit.core.worker import LeasedWorker

    settings.TILLIT_TASK_SECONDS = 1
    queued = _sleeps_long.enqueue()
    worker = LeasedWorker(queue_names=["default"], interval=0.1, batch=True, backend_name="default",
                          startup_delay=False, max_tasks=None, worker_id="limit-test", excluded_queue_names=[])
    started = time.monotonic()
    worker.run_task(DBTaskResult.objects.get(pk=queued.id))
    assert time.monotonic() - started < 10
    result = DBTaskResult.objects.get(pk=queued.id)
    assert result.status == TaskResultStatus.FAILED and result.exception_class_path.endswith("TaskTimeLimit")

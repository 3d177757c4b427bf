"""The database worker with a lease: a task whose worker died is run again, a worker whose parent
died stops.

django-tasks-db claims a task by marking it RUNNING and nothing ever takes it back. Here every
worker beats (a row in `WorkerBeat`, renewed every few seconds by a thread of its own); before each
claim, a worker puts RUNNING tasks whose worker has not beaten for TILLIT_TASK_LEASE_SECONDS back
to READY. A task that has already killed TILLIT_TASK_MAX_ATTEMPTS workers is marked FAILED instead,
so one poisonous task cannot stop the queue. Tasks are written to be safe to run twice.
"""

import datetime
import logging
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tillit.core.models import WorkerBeat

log = logging.getLogger(__name__)


def lease_seconds() -> float:
    return float(getattr(settings, "TILLIT_TASK_LEASE_SECONDS", 60))


def reclaim_abandoned(now=None) -> tuple[int, int]:
    """Put the tasks of dead workers back in the queue (or fail them after too many deaths).

    Returns (requeued, failed)."""
    now = now or timezone.now()
    alive = set(WorkerBeat.objects.filter(beat_at__gte=now - datetime.timedelta(seconds=lease_seconds()))
                .values_list("worker_id", flat=True))
    requeued = failed = 0
    with transaction.atomic():
        for task in DBTaskResult.objects.select_for_update().filter(status=TaskResultStatus.RUNNING):
            if task.worker_ids and task.worker_ids[-1] in alive:
                continue
            if len(task.worker_ids) >= settings.TILLIT_TASK_MAX_ATTEMPTS:
                task.status = TaskResultStatus.FAILED
                task.finished_at = now
                task.exception_class_path = "tillit.core.worker.WorkerDied"
                task.traceback = f"The worker running this task stopped {len(task.worker_ids)} times."
                task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
                failed += 1
            else:
                task.status = TaskResultStatus.READY
                task.run_after = now
                task.save(update_fields=["status", "run_after"])
                requeued += 1
    if requeued or failed:
        log.warning("tasks of stopped workers: %s queued again, %s failed", requeued, failed)
    return requeued, failed


class TaskTimeLimit(Exception):
    """A task ran past TILLIT_TASK_SECONDS and was stopped (marked failed; the worker goes on)."""


def _time_limit_reached(signum, frame):
    raise TaskTimeLimit(f"stopped after {settings.TILLIT_TASK_SECONDS:.0f} s")


class LeasedWorker(Worker):
    """django-tasks-db's worker, beating while it lives and reclaiming what dead workers held. In the main thread
    every task runs under a time limit (TILLIT_TASK_SECONDS); the documents queue's thread reads files in child
    processes with limits of their own (documents.text)."""

    def run_task(self, db_task_result) -> None:
        limited = threading.current_thread() is threading.main_thread() and settings.TILLIT_TASK_SECONDS > 0
        if limited:
            signal.signal(signal.SIGALRM, _time_limit_reached)
            signal.setitimer(signal.ITIMER_REAL, settings.TILLIT_TASK_SECONDS)
        try:
            super().run_task(db_task_result)
        finally:
            if limited:
                signal.setitimer(signal.ITIMER_REAL, 0)

    def __init__(self, *, parent_pid: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.parent_pid = parent_pid
        self._stopped = threading.Event()

    def run(self):
        self._beat()
        threading.Thread(target=self._beat_loop, daemon=True, name="tillit-beat").start()
        try:
            super().run()
        finally:
            self._stopped.set()
            WorkerBeat.objects.filter(worker_id=self.worker_id).delete()

    def _beat(self):
        WorkerBeat.objects.update_or_create(worker_id=self.worker_id, defaults={
            "beat_at": timezone.now(), "pid": os.getpid(), "host": socket.gethostname()[:100]})

    def _beat_loop(self):
        beat_every = max(0.5, lease_seconds() / 4)
        last_beat = time.monotonic()
        while not self._stopped.wait(min(1.0, beat_every)):
            if self.parent_pid and os.getppid() != self.parent_pid:
                # The server that started this worker is gone, however it died: stop too.
                log.warning("worker %s: its server stopped; stopping", self.worker_id)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if time.monotonic() - last_beat < beat_every:
                continue
            last_beat = time.monotonic()
            try:
                self._beat()
                reclaim_abandoned()
            except Exception:  # a missed beat is retried; the lease allows for a few
                log.exception("worker %s: beat failed", self.worker_id)
            finally:
                close_old_connections()


class TaskSummary(logging.Filter):
    """The worker's console without a line per task: successful tasks are counted and summed up as one line
    (per kind of task) every `every` seconds while there was work; failures are still logged one by one."""

    def __init__(self, every: float = 30.0, out=None):
        super().__init__()
        self.every, self.out = every, out
        self.done: dict[str, int] = {}
        self.lock = threading.Lock()

    def filter(self, record) -> bool:
        message = record.getMessage()
        if "state=RUNNING" in message:
            return False
        if "state=SUCCESSFUL" in message:
            name = message.split("path=", 1)[-1].split()[0].rsplit(".", 1)[-1]
            with self.lock:
                self.done[name] = self.done.get(name, 0) + 1
            return False
        return True

    def flush(self) -> str:
        with self.lock:
            done, self.done = self.done, {}
        if not done:
            return ""
        parts = ", ".join(f"{name} {n}" for name, n in sorted(done.items(), key=lambda kv: -kv[1]))
        return f"worker: {sum(done.values())} tasks done ({parts})"

    def start(self):
        def loop():
            while True:
                time.sleep(self.every)
                line = self.flush()
                if line:
                    log.info(line)

        threading.Thread(target=loop, daemon=True).start()
        return self

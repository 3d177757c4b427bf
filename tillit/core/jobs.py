"""Long work in the background: a Job row the user's page follows, and the worker task that does the work.

A job starts from a form that carries a one-time token (`new_token`); the same token twice finds the job the
first submit started, so a double click or a resent form starts nothing new. Progress is written in its own
short transactions, outside the work's own, so the page sees it while the work goes on (on SQLite, whose one
writer is the work itself while it writes, through the shared cache instead).
"""

import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.core.errors import DomainError
from tillit.core.models import Job
from tillit.core.tasks import enqueue_on_commit

log = logging.getLogger(__name__)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def job_dir() -> Path:
    path = Path(settings.VAR_DIR) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(user, kind: str, *, token: str, label: str = "", params=None, task=None) -> tuple[Job, bool]:
    """The job for this token: a new one (queued, `task.enqueue(job.pk)` once the transaction commits) or the
    one the same token started before. Returns (job, created)."""
    token = (token or "").strip()[:64] or new_token()
    existing = Job.objects.filter(token=token).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind, user=user, token=token, label=label[:200], params=params or {})
    except IntegrityError:  # the same form sent twice at the same moment
        return Job.objects.get(token=token), False
    if task is not None:
        enqueue_on_commit(task, job.pk)
    return job, True


PROGRESS_SECONDS = 6 * 3600


def progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def with_progress(job: Job) -> Job:
    """The job with the progress its work reported from inside a transaction the database does not show yet."""
    if not job.finished:
        kept = cache.get(progress_key(job.pk))
        if kept is not None:
            job.done, job.total, job.stage = kept
    return job


class Progress:
    """Reports a running job's progress; at most one write per `every` units of work."""

    def __init__(self, job: Job, every: int = 1000):
        self.job, self.every, self._last = job, every, -every

    def __call__(self, done: int, total: int | None = None, stage: str = "") -> None:
        if total is not None:
            self.job.total = total
        if stage and stage != self.job.stage:
            self.job.stage = stage
            self._last = -self.every
        self.job.done = done
        if done - self._last < self.every and done != self.job.total:
            return
        self._last = done
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job.pk).update(done=done, total=self.job.total, stage=self.job.stage)
        elif connection.vendor == "postgresql":  # inside the work's transaction: through a connection of its own
            side = self._side()
            with side.cursor() as cursor:
                cursor.execute("UPDATE core_job SET done = %s, total = %s, stage = %s WHERE id = %s",
                               [done, self.job.total, self.job.stage, self.job.pk])
        else:  # SQLite inside the work's transaction: no other writer, so the page reads it from the cache
            cache.set(progress_key(self.job.pk), (done, self.job.total, self.job.stage), PROGRESS_SECONDS)

    _connection = None

    def _side(self):
        if self._connection is None:
            self._connection = connections.create_connection("default")
            self._connection.set_autocommit(True)
        return self._connection

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def run(job_id: int, work, *, known=()) -> Job | None:
    """Run `work(job, progress)` for a queued job; its return value (a dict) is the job's result. A job already
    done is not done again (a task may run twice). A DomainError (or one of the `known` exceptions) marks it
    failed with its message for the user; anything else with a general message, and the log has the rest."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return job
        job.status, job.started_at = Job.Status.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at"])
    progress = Progress(job)
    try:
        result = work(job, progress)
        job.status, job.result = Job.Status.DONE, result or {}
    except (DomainError, *known) as exc:
        job.status, job.error = Job.Status.FAILED, str(getattr(exc, "message", None) or exc)[:2000]
    except Exception:  # any failure is the job's result, shown to its user
        log.exception("job %s failed", job.pk)
        job.status, job.error = Job.Status.FAILED, _("The work stopped on an unexpected error. The administrators "
                                                     "can read why in the log.")
    finally:
        progress.close()
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "error", "finished_at", "done", "total", "stage"])
    cache.delete(progress_key(job.pk))
    return job


FILE_HOURS = 24  # how long the files of finished jobs (exports, rejected rows) are kept: they hold personal data


def purge_files(now=None) -> int:
    """Delete job files older than FILE_HOURS, and uploads of jobs that ended; returns how many went."""
    import time

    cutoff = (now or time.time()) - FILE_HOURS * 3600
    gone = 0
    for path in job_dir().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except FileNotFoundError:
            continue
    return gone


@task()
def purge_files_round() -> int:
    return purge_files()

"""Queueing background work so that it is never lost.

On the database queue (the default) a task is a row written in the caller's transaction: it exists exactly when
the change that asked for it was committed, and a process killed between the commit and the queueing cannot
lose it. On Redis the task can only be queued after the commit; what a crash lost there is queued again by the
apps' sweep rounds (messages still waiting, texts still unread, past STALLED)."""

import datetime

from django.conf import settings
from django.db import transaction

STALLED = datetime.timedelta(minutes=10)


def enqueue_on_commit(task, *args) -> None:
    """Queue `task(*args)` to run once the caller's transaction commits (never if it rolls back)."""
    if settings.TILLIT_TASK_BACKEND == "database":
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args))


def sweeps() -> bool:
    """Whether work lost between a commit and its queueing must be looked for (Redis only)."""
    return settings.TILLIT_TASK_BACKEND != "database"

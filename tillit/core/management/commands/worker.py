import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

# Tasks the worker queues on a schedule: (dotted path, every N seconds). The mail poll does
# nothing unless TILLIT_IMAP_HOST is set.
SCHEDULE = [("tillit.cases.rounds.deadline_round", 300), ("tillit.messaging.imap.fetch_mail_round", 60),
            ("tillit.dues.invoices.remind_task", 3600), ("tillit.reps.kpis.recount_round", 86400),
            ("tillit.reps.coverage.remind_terms_task", 86400), ("tillit.portal.booking.remind_task", 900),
            ("tillit.messaging.notifications.email_round_task", 120),
            ("tillit.cases.notify.deadlines_tomorrow_round", 3600), ("tillit.core.jobs.purge_files_round", 3600),
            ("tillit.messaging.outbox.requeue_stalled_round", 300),
            ("tillit.documents.text.requeue_pending_round", 300)]


class Command(BaseCommand):
    help = "Run background tasks (mail delivery, text extraction, deadlines, reminders)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="queue the scheduled rounds, run what is due, stop")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--parent-pid", type=int, default=None,
                            help="stop when this process (the server that started the worker) is gone")
        parser.add_argument("--no-schedule", action="store_true", help="run queued tasks only, no scheduled rounds")

    def handle(self, *args, batch, interval, parent_pid=None, no_schedule=False, **options):
        if settings.TILLIT_TASK_BACKEND == "rq":
            # RQ's own worker semantics: a job whose worker died is moved to the failed registry by RQ.
            if not no_schedule:
                self._queue_rounds()
            # one worker over both queues, default first; a file's text is read within TILLIT_EXTRACT_SECONDS
            call_command("rqworker", *settings.TASK_QUEUES, "--job-class", "django_tasks_rq.Job",
                         *(["--burst"] if batch else []))
            return
        import logging

        from tillit.core.worker import LeasedWorker, TaskSummary

        summary = None
        if options.get("verbosity", 1) < 2:  # -v 2 logs every task
            summary = TaskSummary()
            logging.getLogger("django_tasks").addFilter(summary)
            if not batch:
                summary.start()

        if batch and not no_schedule:
            self._queue_rounds()
        elif not no_schedule:
            threading.Thread(target=self._scheduler, daemon=True).start()
        def worker_for(queue):
            return LeasedWorker(queue_names=[queue], interval=interval, batch=batch, backend_name="default",
                                startup_delay=False, max_tasks=None, worker_id=get_random_string(32),
                                excluded_queue_names=[], parent_pid=parent_pid)

        # Files from outside are read beside the rest, never in front of it: mail, links and rounds go on
        # while a file's text is being read (in a child process with limits: documents.text).
        documents = worker_for("documents")
        if not batch:
            threading.Thread(target=documents.run, daemon=True, name="tillit-documents").start()
        worker = worker_for("default")
        worker.configure_signals()
        try:
            worker.run()
            if batch:
                documents.run()
        finally:
            line = summary.flush() if summary else ""
            if line:
                self.stderr.write(line)

    def _queue_rounds(self):
        for path, _every in SCHEDULE:
            import_string(path).enqueue()

    def _scheduler(self):
        last = {}
        while True:
            now = time.monotonic()
            for path, every in SCHEDULE:
                if now - last.get(path, -every) >= every:
                    import_string(path).enqueue()
                    last[path] = now
            time.sleep(5)

import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Tasks the worker queues on a schedule: (dotted path, every N seconds). The mail poll does
# nothing unless TILLIT_IMAP_HOST is set.
SCHEDULE = [("tillit.messaging.deadlines.deadline_round", 300), ("tillit.messaging.imap.fetch_mail_round", 60)]


class Command(BaseCommand):
    help = "Run background tasks (mail delivery, deadlines, reminders) from the database queue."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="queue the scheduled rounds, run what is due, stop")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, batch, interval, **options):
        if batch:
            self._queue_rounds()
            call_command("db_worker", "--batch", "--no-startup-delay", "--interval", str(interval))
            return
        threading.Thread(target=self._scheduler, daemon=True).start()
        call_command("db_worker", "--no-startup-delay", "--interval", str(interval))

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

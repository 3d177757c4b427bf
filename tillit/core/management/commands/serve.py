import logging
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Tillit with the production WSGI server (static files served by the app)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--with-worker", action="store_true",
                            help="also run `tillit worker` (mail, text extraction, deadlines) beside the server")

    def handle(self, *args, host, port, threads, with_worker=False, **options):
        from waitress import serve

        from tillit.wsgi import application

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        if settings.DEBUG:
            self.stderr.write("Warning: TILLIT_DEBUG=1 is set; never run production like this.")
        self.stdout.write(f"Tillit on http://{host}:{port}/ ({threads} threads)")
        worker = None
        if with_worker:
            # Its own session: a Ctrl+C or a group-wide SIGTERM reaches the server only, which then
            # stops the worker once (two signals make the worker abandon its current task).
            worker = subprocess.Popen([sys.executable, "-m", "tillit.cli", "worker"], start_new_session=True)
            signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))  # stop the worker too
        try:
            # The largest request: a document of the largest size allowed, with room for the form around it.
            serve(application, host=host, port=port, threads=threads, ident="tillit",
                  clear_untrusted_proxy_headers=True,
                  max_request_body_size=max(settings.TILLIT_DOCUMENT_MAX_BYTES, settings.TILLIT_IMPORT_MAX_BYTES)
                  + 1024 * 1024)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)

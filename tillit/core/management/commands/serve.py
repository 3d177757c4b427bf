import ctypes
import logging
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


def _die_with_parent():
    """In the worker child, before exec: ask Linux for SIGTERM when the parent dies (elsewhere the
    worker's own --parent-pid watch does it, within a few seconds)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


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
            # --parent-pid and the kernel's parent-death signal: the worker ends when this server
            # dies, however it dies (kill -9 included), so a restarted server never finds a second one.
            worker = subprocess.Popen([sys.executable, "-m", "tillit.cli", "worker", "--parent-pid", str(os.getpid())],
                                      start_new_session=True, preexec_fn=_die_with_parent)
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

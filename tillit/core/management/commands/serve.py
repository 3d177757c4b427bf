import ctypes
import logging
import os
import signal
import socket
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
        parser.add_argument("--processes", type=int, default=None,
                            help="server processes sharing the port (default: one per core, at most 8)")
        parser.add_argument("--with-worker", action="store_true",
                            help="also run `tillit worker` (mail, text extraction, deadlines) beside the server")
        parser.add_argument("--demo-logins", action="store_true",
                            help="print the demo logins once the server and its worker have started")

    def handle(self, *args, host, port, threads, processes=None, with_worker=False, demo_logins=False, **options):
        from django.db import connections

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        if settings.DEBUG:
            self.stderr.write("Warning: TILLIT_DEBUG=1 is set; never run production like this.")
        processes = max(1, processes or min(8, os.cpu_count() or 1))
        listener = socket.create_server((host, port), backlog=1024, reuse_port=False)
        self.stdout.write(f"Tillit on http://{host}:{port}/ ({processes} processes × {threads} threads)")
        self.stdout.flush()
        worker = None
        if with_worker:
            # Its own session: a Ctrl+C or a group-wide SIGTERM reaches the server only, which then
            # stops the worker once (two signals make the worker abandon its current task).
            # --parent-pid and the kernel's parent-death signal: the worker ends when this server
            # dies, however it dies (kill -9 included), so a restarted server never finds a second one.
            worker = subprocess.Popen([sys.executable, "-m", "tillit.cli", "worker", "--parent-pid", str(os.getpid())],
                                      start_new_session=True, preexec_fn=_die_with_parent)
        if demo_logins:  # last, after the worker's start-up lines: what a person trying Tillit needs
            import threading
            import time

            from django.core.management import call_command

            def logins():
                time.sleep(3)
                call_command("demo", logins=True)
                connections.close_all()

            threading.Thread(target=logins, daemon=True).start()
        connections.close_all()  # no connection is shared across the fork
        children = {}
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True
            for pid in children:
                _signal(pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            for _ in range(processes):
                self._fork(children, listener, threads)
            # Supervise: a server process that dies is replaced; a signal stops them all.
            while children:
                try:
                    pid, _status = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
                if children.pop(pid, None) is not None and not stopping:
                    self.stderr.write(f"server process {pid} stopped; starting another")
                    self._fork(children, listener, threads)
        finally:
            stop()
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)

    def _fork(self, children: dict, listener, threads: int):
        pid = os.fork()
        if pid:
            children[pid] = True
            return
        try:  # the server process
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the supervisor, which stops us
            _die_with_parent()
            from waitress import serve

            from tillit.wsgi import application

            # The largest request: a document of the largest size allowed, with room for the form around it.
            proxy = {}
            if settings.TILLIT_TRUSTED_PROXY:  # the client and scheme as the proxy names them; anyone else's dropped
                proxy = {"trusted_proxy": settings.TILLIT_TRUSTED_PROXY, "trusted_proxy_count": 1,
                         "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
            serve(application, sockets=[listener], threads=threads, ident="tillit", clear_untrusted_proxy_headers=True,
                  max_request_body_size=max(settings.TILLIT_DOCUMENT_MAX_BYTES, settings.TILLIT_IMPORT_MAX_BYTES)
                  + 1024 * 1024, **proxy)
        finally:
            os._exit(0)


def _signal(pid: int, sig) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass

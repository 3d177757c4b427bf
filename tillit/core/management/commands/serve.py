import logging

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Tillit with the production WSGI server (static files served by the app)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host, port, threads, **options):
        from waitress import serve

        from tillit.wsgi import application

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        if settings.DEBUG:
            self.stderr.write("Warning: TILLIT_DEBUG=1 is set; never run production like this.")
        self.stdout.write(f"Tillit on http://{host}:{port}/ ({threads} threads)")
        serve(application, host=host, port=port, threads=threads, ident="tillit", clear_untrusted_proxy_headers=True)

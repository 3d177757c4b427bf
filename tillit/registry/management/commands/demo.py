import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tillit.registry.demo import DEMO_LOGINS, DEMO_PASSWORD, LOGINS, demo_code, load_demo
from tillit.registry.models import Person


class Command(BaseCommand):
    help = "Load demo data: `tillit demo --members N --seed S` (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when people already exist")
        parser.add_argument("--logins", action="store_true", help="only print the demo logins (if they exist)")
        parser.add_argument("--code", metavar="USER", help="print the authenticator code of the moment of a demo "
                                                           "login (and its key, for an authenticator app)")

    def handle(self, *args, members, seed, if_empty, logins=False, code=None, **options):
        if settings.TILLIT_PRODUCTION:
            raise CommandError("This is a production configuration (TILLIT_HTTPS or TILLIT_PRODUCTION is set): demo "
                               "data and its published password never go into it.")
        if code:
            self.print_code(code)
            return
        if logins:
            from django.contrib.auth import get_user_model

            if get_user_model().objects.filter(username="handler").exists():
                self.print_logins()
            return
        if Person.objects.exists():
            if if_empty:
                self.stdout.write("Demo data already loaded.")
                self.print_logins()
                return
            raise CommandError("The registry is not empty; demo data goes into an empty database.")
        if members < 1:
            raise CommandError("--members must be at least 1")
        started = time.monotonic()
        load_demo(members=members, seed=seed, progress=lambda s: self.stdout.write(f"  {s}"))
        self.stdout.write(self.style.SUCCESS(f"Demo data: {members} members in {time.monotonic() - started:.1f}s"))
        self.print_logins()

    def print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for name, what in LOGINS + DEMO_LOGINS:
            self.stdout.write(f"  {name:<9} {what}")
        self.stdout.write("Logins with access to member data also ask for an authenticator code: `tillit demo "
                          "--code USER` prints it (and the key, to add the login to an authenticator app).")

    def print_code(self, username):
        try:
            key, now = demo_code(username)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(now)
        self.stderr.write(f"key for an authenticator app: {key}")

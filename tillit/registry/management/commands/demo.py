import time

from django.core.management.base import BaseCommand, CommandError

from tillit.registry.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from tillit.registry.models import Person

LOGINS = [("admin", "system owner, sees everything"), ("handler", "case handler, one region"),
          ("rep", "workplace rep, one workplace"), ("regional", "regional rep, one region"),
          ("localadmin", "local administrator, one region: users and access"),
          ("member", "a member, no staff access")]


class Command(BaseCommand):
    help = "Load demo data: `tillit demo --members N --seed S` (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when people already exist")
        parser.add_argument("--logins", action="store_true", help="only print the demo logins (if they exist)")

    def handle(self, *args, members, seed, if_empty, logins=False, **options):
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

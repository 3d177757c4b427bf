from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background tasks (mail delivery, deadlines, reminders) from the database queue."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="run what is due, then stop")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, batch, interval, **options):
        arguments = ["--interval", str(interval), "--no-startup-delay"]
        if batch:
            arguments.append("--batch")
        call_command("db_worker", *arguments)

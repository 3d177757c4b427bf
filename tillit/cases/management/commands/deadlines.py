from django.core.management.base import BaseCommand

from tillit.cases.rounds import deadline_round


class Command(BaseCommand):
    help = "Run the deadline round once: note overdue cases, send reminders."

    def handle(self, *args, **options):
        result = deadline_round.call()
        self.stdout.write(f"{result['overdue']} overdue noted, {result['reminded']} reminders")

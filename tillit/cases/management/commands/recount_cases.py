from django.core.management.base import BaseCommand

from tillit.cases.daycounts import rebuild


class Command(BaseCommand):
    help = "Recount the per-unit, per-day case figures behind the measurement page from the cases and timelines."

    def handle(self, *args, **options):
        rebuild(progress=lambda step: self.stdout.write(f"counted: {step}"))

from django.core.management.base import BaseCommand

from tillit.reps.kpis import days_to_keep, recount


class Command(BaseCommand):
    help = "Count the reps' KPIs of every node for today and the 24 months behind the trend, and keep them."

    def handle(self, *args, **options):
        from django.utils import timezone

        days = days_to_keep(timezone.localdate())

        def progress(done, total):
            share = done / total
            self.stdout.write(f"\r[{'#' * int(share * 30):<30}] {share * 100:5.1f} % {done}/{total} days",
                              ending="\n" if done == total else "")
            self.stdout.flush()

        rows = recount(days, progress=progress)
        self.stdout.write(f"{rows} node-days kept.")

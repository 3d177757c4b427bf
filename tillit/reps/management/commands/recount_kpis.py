from django.core.management.base import BaseCommand

from tillit.reps.kpis import recount


class Command(BaseCommand):
    help = ("Count the reps' KPIs of every node for today and the days of the trend not counted yet (--all: every "
            "one of them again), and keep them.")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="count every day of the trend again")

    def handle(self, *args, **options):
        def progress(done, total):
            share = done / total
            self.stdout.write(f"\r[{'#' * int(share * 30):<30}] {share * 100:5.1f} % {done}/{total} days",
                              ending="\n" if done == total else "")
            self.stdout.flush()

        rows = recount(progress=progress, every_day=options["all"])
        self.stdout.write(f"{rows} node-days kept.")

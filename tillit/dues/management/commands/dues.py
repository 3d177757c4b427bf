import sys

from django.core.management.base import BaseCommand, CommandError

from tillit.core.errors import DomainError
from tillit.dues import run as runs
from tillit.dues.giro import read_file
from tillit.dues.invoices import kroner, remind_round
from tillit.dues.notices import make_notices
from tillit.dues.returns import receive_return
from tillit.dues.run import parse_period
from tillit.registry.models import Employer


def _bar(done: int, total: int, width: int = 30) -> str:
    share = 1 if not total else min(1, done / total)
    return f"[{'#' * int(share * width):<{width}}] {share * 100:5.1f} % {done}/{total}"


class Command(BaseCommand):
    help = ("Dues: `run --period YYYY-MM [--dry-run]`, `notices --period YYYY-MM`, `remind`, "
            "`giro FILE` (OCR Giro or AvtaleGiro agreements from Nets), `return ORGNR FILE` (an employer's return).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "notices", "remind", "giro", "return"])
        parser.add_argument("files", nargs="*")
        parser.add_argument("--period")
        parser.add_argument("--dry-run", action="store_true")

    def _period(self, raw):

        try:
            return parse_period(raw)
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _progress(self, done, total):
        end = "\n" if done >= total else ""
        self.stdout.write("\r" + _bar(done, total), ending=end)
        self.stdout.flush()

    def handle(self, *unused, action, files, period=None, dry_run=False, **options):
        try:
            getattr(self, f"do_{action}")(files, period, dry_run)
        except DomainError as exc:
            raise CommandError("\n".join(exc.lines())) from None

    def do_run(self, args, period, dry_run):

        when = self._period(period)
        if dry_run:
            totals = runs.dry_run(when)
            self.stdout.write(f"Dry run for {when:%Y-%m}: nothing written.")
        else:
            result = runs.run_period(when, progress=lambda r: self._progress(r.processed, r.total))
            totals = result.totals
            self.stdout.write(f"Run {result}: {result.get_status_display()}, {result.processed} memberships.")
        for key, value in totals.items():
            shown = kroner(value) + " kr" if key.endswith("amount") else value
            self.stdout.write(f"  {key:<18} {shown}")

    def do_notices(self, args, period, dry_run):

        made = make_notices(self._period(period), progress=self._progress)
        self.stdout.write(f"{made} payroll offices have their notice for {period}.")

    def do_remind(self, args, period, dry_run):

        counts = remind_round()
        self.stdout.write(f"Reminders: {counts['first']} first, {counts['second']} second.")

    def do_giro(self, args, period, dry_run):

        if len(args) != 1:
            raise CommandError("Give one file: tillit dues giro FILE")
        data = sys.stdin.buffer.read() if args[0] == "-" else open(args[0], "rb").read()
        found, new = read_file(data, filename=args[0], channel="system")
        if not new:
            self.stdout.write(f"Transmission {found.transmission_number} was read before; nothing booked.")
            return
        self.stdout.write(f"{found.get_kind_display()}: {found.transactions} transactions, {found.booked} booked, "
                          f"{found.deviations} deviations.")

    def do_return(self, args, period, dry_run):

        if len(args) != 2:
            raise CommandError("Give the payroll office's organisation number and the file: "
                               "tillit dues return ORGNR FILE")
        unit = Employer.objects.filter(org_number=args[0], kind__in=["company", "group"]).first()
        if unit is None:
            raise CommandError(f"No company or group with organisation number {args[0]}.")
        ret = receive_return(unit, open(args[1], "rb").read(), filename=args[1], channel="system")
        self.stdout.write(f"Return {ret.pk}: {ret.rows} rows, {ret.matched} as asked, {ret.deviations} deviations.")

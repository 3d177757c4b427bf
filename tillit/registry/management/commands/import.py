from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tillit.registry.importer import ImportFileError, parse_mapping, run_import


class Command(BaseCommand):
    help = ("Import people, memberships and employments from CSV or XLSX. All-or-nothing unless "
            "--skip-invalid, which imports the good rows and writes the bad ones to --reject-file.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="the account the changes are recorded under")
        parser.add_argument("--mapping", default="", help='"column in file=tillit field, ..."')
        parser.add_argument("--skip-invalid", action="store_true")
        parser.add_argument("--reject-file", type=Path, help="where --skip-invalid writes the bad rows (CSV)")

    def handle(self, *args, file, user, mapping, skip_invalid, reject_file, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        try:
            actor = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {user!r}") from None
        last = {"line": ""}

        def progress(done, total=None, stage=""):
            # The same stages the web page shows, on one line that is rewritten while it runs.
            line = f"{stage}: {done:,} / {total:,} rows" if total else f"{stage}: {done:,} rows"
            if line != last["line"]:
                self.stderr.write(f"\r{line}", ending="")
                self.stderr.flush()
                last["line"] = line

        try:
            result = run_import(file, actor=actor, mapping=parse_mapping(mapping), skip_invalid=skip_invalid,
                                progress=progress)
            self.stderr.write("")
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        for e in result.errors[:1000]:
            self.stderr.write(f"row {e.row}, column {e.column!r}, value {e.value!r}: {e.message}")
        if len(result.errors) > 1000:
            self.stderr.write(f"... and {len(result.errors) - 1000} more errors")
        if not result.applied:
            raise CommandError(f"Nothing imported: {result.rejected} of {result.rows} rows have errors.")
        if result.reject_rows:
            target = reject_file or file.with_name(file.stem + ".rejected.csv")
            target.write_text(result.reject_csv(), encoding="utf-8")
            self.stderr.write(f"{result.rejected} rejected rows written to {target}")
        self.stdout.write(
            f"{result.rows} rows: {result.created} new, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.memberships_created} memberships, {result.employments_created} employments, "
            f"{result.rejected} rejected")

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Check settings, the database connection and pending migrations (--deploy: production settings too)."

    def add_arguments(self, parser):
        parser.add_argument("--deploy", action="store_true",
                            help="also Django's deployment checks and Tillit's own; warnings fail too")

    def handle(self, *args, deploy=False, **options):
        try:
            connection.ensure_connection()
        except Exception as exc:  # report any driver error the same way
            raise CommandError(f"database unreachable: {type(exc).__name__}") from exc
        if deploy:  # with the database: no login may still take the demo's password
            call_command("check", deploy=True, fail_level="WARNING", databases=["default"], stdout=self.stdout,
                         stderr=self.stderr)
        else:
            call_command("check", stdout=self.stdout, stderr=self.stderr)
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in pending)
            raise CommandError(f"{len(pending)} pending migration(s): {names}. Run `tillit migrate`.")
        self.stdout.write(f"database: {connection.vendor}, migrations: up to date")
        self.stdout.write(self.style.SUCCESS("Tillit: all checks passed."))

from django.core.management.base import BaseCommand, CommandError

from tillit.messaging.imap import fetch_email


class Command(BaseCommand):
    help = "Poll the IMAP mailbox (TILLIT_IMAP_*) once and file every unseen message."

    def handle(self, *args, **options):
        try:
            filed = fetch_email()
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{filed} messages filed")

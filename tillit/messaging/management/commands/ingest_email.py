import sys

from django.core.management.base import BaseCommand

from tillit.messaging.inbound import ingest_email


class Command(BaseCommand):
    help = "Read one RFC 822 message on standard input (an MTA pipe) and file it in its case or the intake."

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        message = ingest_email(raw)
        where = f"case {message.case.number}" if message.case_id else "no case (configure an intake case type)"
        self.stdout.write(f"message {message.pk}: {where}{' — ' + message.problem if message.problem else ''}")

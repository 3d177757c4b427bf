from django.core.management.base import BaseCommand, CommandError

from tillit.core.errors import DomainError
from tillit.messaging.models import Message
from tillit.messaging.services import resend_message


class Command(BaseCommand):
    help = "Outgoing mail: list messages whose delivery is uncertain or failed, resend one on purpose."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("uncertain", help="messages whose sending was interrupted, and failed ones")
        resend = sub.add_parser("resend", help="send an uncertain or failed message again (it may arrive twice)")
        resend.add_argument("message_id", type=int)

    def handle(self, *args, action, message_id=None, **options):
        if action == "uncertain":
            for m in Message.objects.filter(status__in=[Message.Status.UNCERTAIN, Message.Status.FAILED]):
                self.stdout.write(f"{m.pk}\t{m.status}\tcase {m.case_id}\t{m.created_at:%Y-%m-%d %H:%M}")
            return
        message = Message.objects.filter(pk=message_id).first()
        if message is None:
            raise CommandError(f"message {message_id}: no such message")
        try:
            resend_message(message)
        except DomainError as exc:
            raise CommandError(f"message {message_id}: {exc.message}") from None
        self.stdout.write(f"message {message_id} queued again")

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tillit.core.errors import DomainError
from tillit.registry.models import Person
from tillit.registry.services import anonymise_person


class Command(BaseCommand):
    help = "Erase a person on request (GDPR): identifying fields are replaced, history stays anonymous."

    def add_arguments(self, parser):
        parser.add_argument("person_id", type=int)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", required=True, help="who carries out the erasure (recorded)")

    def handle(self, *args, person_id, reason, user, **options):
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"no user named {user!r}")
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise CommandError(f"no person {person_id}")
        try:
            anonymise_person(person, actor=actor, channel="system", reason=reason)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"person {person_id} anonymised")

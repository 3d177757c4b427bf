from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tillit.core.services import create_token


class Command(BaseCommand):
    help = "Create a personal API token: `tillit token create --user U [--name N]`. Printed once."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args, action, user, name, **options):
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {user!r}") from None
        _token, raw = create_token(account, name)
        self.stdout.write(raw)
        self.stderr.write("Keep this token now: only its hash is stored, it cannot be shown again.")

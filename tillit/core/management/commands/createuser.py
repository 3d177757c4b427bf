import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a login. `--superuser` for a system owner; grants are given in the admin or the UI."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument("--password", help="for scripts; prompted for when left out")

    def handle(self, *args, username, email, superuser, password, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists")
        if password is None:
            password = getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        create = User.objects.create_superuser if superuser else User.objects.create_user
        create(username=username, email=email, password=password, is_staff=superuser)
        self.stdout.write(self.style.SUCCESS(f"created user {username}"))

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tillit.core.errors import DomainError
from tillit.core.models import ApiToken
from tillit.core.services import create_token, revoke_tokens


class Command(BaseCommand):
    help = ("Personal API tokens: `tillit token create --user U [--name N] [--days D]` (printed once), "
            "`tillit token list --user U`, `tillit token revoke --user U (--prefix P | --all)`.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--days", type=int, default=None, help="valid this many days (0: no expiry)")
        parser.add_argument("--prefix", default="", help="the token's first characters, as the list shows them")
        parser.add_argument("--all", action="store_true", help="revoke every token of the user")

    def handle(self, *args, action, user, name, days, prefix, all=False, **options):
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {user!r}") from None
        tokens = ApiToken.objects.filter(user=account)
        if action == "create":
            try:
                _token, raw = create_token(account, name, days=days)
            except DomainError as exc:
                raise CommandError("; ".join(exc.lines())) from None
            self.stdout.write(raw)
            self.stderr.write("Keep this token now: only its hash is stored, it cannot be shown again.")
        elif action == "list":
            for token in tokens.order_by("created_at"):
                state = "revoked" if token.revoked_at else ("expired" if not token.usable else "valid")
                self.stdout.write(f"{token.prefix}…  {state:<8} made {token.created_at:%Y-%m-%d}  "
                                  f"until {token.expires_at:%Y-%m-%d}  {token.name}" if token.expires_at else
                                  f"{token.prefix}…  {state:<8} made {token.created_at:%Y-%m-%d}  {token.name}")
        else:
            if not all and not prefix:
                raise CommandError("name the token with --prefix (see `tillit token list`), or give --all")
            chosen = tokens if all else tokens.filter(prefix__startswith=prefix.rstrip("…"))
            if not all and chosen.count() != 1:
                raise CommandError(f"{chosen.count()} tokens of {user!r} begin with {prefix!r}; name exactly one")
            self.stdout.write(f"{revoke_tokens(chosen, actor=None, channel='system')} token(s) revoked")

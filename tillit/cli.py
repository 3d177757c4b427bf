"""The `tillit` command for operators: Django's management commands under one name."""

import os
import sys

# `tillit check` is our wider check (settings, pending migrations); Django's stays as `tillit django-check`. Every
# other command is written with dashes for underscores (`tillit recount-kpis` runs recount_kpis).
ALIASES = {"check": "tillit_check", "django-check": "check"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tillit.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        args[0] = ALIASES.get(args[0], args[0].replace("-", "_"))
    execute_from_command_line(["tillit", *args])


if __name__ == "__main__":
    main()

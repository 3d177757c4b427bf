"""The `tillit` command for operators: Django's management commands under one name."""

import os
import sys

# `tillit check` is our wider check (settings, pending migrations); Django's stays as `tillit django-check`.
ALIASES = {"check": "tillit_check", "django-check": "check", "ingest-email": "ingest_email",
           "fetch-email": "fetch_email", "recount-cases": "recount_cases", "access-log": "access_log"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tillit.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    execute_from_command_line(["tillit", *args])


if __name__ == "__main__":
    main()

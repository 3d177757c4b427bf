import csv
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from tillit.core.audit import access_log_for


class Command(BaseCommand):
    help = "Who saw a person's data (the access log), newest first: for the data-protection officer."

    def add_arguments(self, parser):
        parser.add_argument("--person", type=int, required=True, help="the person's id")
        parser.add_argument("--limit", type=int, default=10_000)
        parser.add_argument("--format", choices=["text", "csv", "json"], default="text")

    def handle(self, *args, person, limit, format, **options):
        from tillit.registry.models import Person

        if not Person.objects.filter(pk=person).exists():
            raise CommandError(f"person {person}: no such person")
        rows = [{"at": e.at.isoformat(), "user": e.user.username if e.user_id else None, "channel": e.channel,
                 "action": e.action, "what": e.action_label, "detail": e.detail}
                for e in access_log_for(person, limit=limit)]
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
        elif format == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=["at", "user", "channel", "action", "what", "detail"])
            writer.writeheader()
            writer.writerows(rows)
        else:
            for r in rows:
                self.stdout.write(f"{r['at']}\t{r['user'] or 'system'}\t{r['channel']}\t{r['what']}")
            self.stdout.write(f"{len(rows)} entries")

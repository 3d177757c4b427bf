"""Message to a selection: recipients per second delivered to a local SMTP server (aiosmtpd on 127.0.0.1).

    python benchmarks/mailing.py --database sqlite:///var/bench-mailing.sqlite3 --recipients 5000
    python benchmarks/mailing.py --database postgresql://postgres@127.0.0.1:5432/tillit_mailing

Makes (once) N people with an email address, then times the whole send as the worker runs it: fixing the
recipients (opt-outs checked), rendering each recipient's text with merge fields and unsubscribe link, recording
each message, the SMTP exchange over one connection per chunk, and the status per recipient. Target ≥ 200
recipients/s. Prints a table; writes JSON to benchmarks/results/.
"""

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import setup  # noqa: E402

TARGET = 200


class Count:
    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.received += len(envelope.rcpt_tos)
        return "250 OK"


def people(count: int) -> list[dict]:
    from django.db import transaction

    from tillit.core.bulk import insert_dicts
    from tillit.registry.models import Person

    have = list(Person.objects.filter(last_name="Utsending").order_by("pk")[:count])
    missing = count - len(have)
    if missing > 0:
        with transaction.atomic():
            insert_dicts(Person, [{"first_name": f"Mottaker{i}", "last_name": "Utsending", "search_name": "",
                                   "email": f"mottaker{i}@example.org",
                                   "preferred_language": ("nb", "sv", "en")[i % 3]}
                                  for i in range(len(have), count)])
        have = list(Person.objects.filter(last_name="Utsending").order_by("pk")[:count])
    return [{"person_id": p.pk, "email": p.email, "phone": "", "language": p.preferred_language,
             "name": p.last_name, "merge": {"first_name": p.first_name, "last_name": p.last_name,
                                            "member_number": "", "workplace": "Verkstedet", "sender": "Benk"}}
            for p in have]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TILLIT_LOG_LEVEL", "ERROR")
    setup(args.database)
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from tillit.messaging import mailings
    from tillit.messaging.models import Recipient

    call_command("migrate", verbosity=0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        rows = people(args.recipients)
        user, _new = get_user_model().objects.get_or_create(username="bench-mailing")
        draft = mailings.clean_draft({"channel": "email", "subject": "Møte på {{ workplace }}",
                                      "body": "Hei {{ first_name }},\n\nvelkommen til medlemsmøte.\n\n{{ sender }}"})
        start = time.perf_counter()
        mailing = mailings.create_mailing(draft, rows, user=user, selection={"source": "benchmark"},
                                          base_url="http://127.0.0.1:8000/")
        created = time.perf_counter() - start
        mailings.send_mailing.call(mailing.pk)
        total = time.perf_counter() - start
        sent = Recipient.objects.filter(mailing=mailing, status="sent").count()
    finally:
        controller.stop()
    result = {"database": connection.vendor, "recipients": len(rows), "sent": sent, "smtp_received": handler.received,
              "fix_recipients_s": round(created, 2), "total_s": round(total, 2),
              "recipients_per_s": round(sent / total, 1), "target_per_s": TARGET}
    print(f"{'database':<12}{'recipients':>12}{'sent':>8}{'total s':>10}{'per s':>10}{'target':>8}")
    print(f"{result['database']:<12}{result['recipients']:>12}{sent:>8}{result['total_s']:>10}"
          f"{result['recipients_per_s']:>10}{TARGET:>8}")
    out = args.out or ROOT / "benchmarks" / "results" / f"mailing-{connection.vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

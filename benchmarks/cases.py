"""Cases benchmark: N cases on a demo registry, then queue, case and measurement pages, the queue
over HTTP through the production server, and email ingest.

    python benchmarks/cases.py --database sqlite:///var/bench-cases.sqlite3 --cases 500000
    python benchmarks/cases.py --database postgresql://postgres@127.0.0.1:5432/tillit_cases --cases 5000000

Page latencies are server time (in-process, the whole Django stack). Prints a table, writes JSON.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import setup, timed_requests  # noqa: E402

CHUNK = 20_000


def build_cases(count: int, seed: int) -> float:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from tillit.cases.models import Case, CaseEvent, CaseType, State
    from tillit.core.bulk import insert_dicts
    from tillit.core.services import next_numbers
    from tillit.registry.models import OrgUnit, Person

    rng = random.Random(seed)
    types = list(CaseType.objects.filter(is_intake=False))
    processes = {t.pk: t.process for t in types}
    states = {t.pk: list(State.objects.filter(process=processes[t.pk])) for t in types}
    units = list(OrgUnit.objects.filter(kind__in=["branch", "department"]).values_list("pk", flat=True))
    people = list(Person.objects.values_list("pk", flat=True)[:200_000])
    handlers = list(get_user_model().objects.values_list("pk", flat=True))
    now = timezone.now()
    year = timezone.localdate().year
    start = time.perf_counter()
    made = 0
    subjects_table = Case.subjects.through
    while made < count:
        n = min(CHUNK, count - made)
        with transaction.atomic():
            rows = []
            numbers = next_numbers(f"cases.case.{year}", n)
            for i in range(n):
                ctype = rng.choice(types)
                state = rng.choice(states[ctype.pk])
                opened = now - datetime.timedelta(minutes=rng.randint(60, 730 * 24 * 60))
                closed = opened + datetime.timedelta(hours=rng.randint(1, 60 * 24)) if state.category == "closed" \
                    else None
                if closed and closed > now:
                    closed = now
                rows.append({"number": f"{year}/{numbers[i]:05d}", "title": f"Sak {numbers[i]}",
                             "case_type_id": ctype.pk, "process_id": processes[ctype.pk].pk, "state_id": state.pk,
                             "state_since": closed or opened, "responsible_unit_id": rng.choice(units),
                             "handler_id": rng.choice(handlers) if rng.random() < 0.6 else None,
                             "priority": rng.choice([1, 2, 2, 2, 3, 4]), "tags": [], "opened_at": opened,
                             "closed_at": closed, "first_response_at": closed,
                             "due_on": (opened + datetime.timedelta(days=21)).date(),
                             "version": 1})
            insert_dicts(Case, rows)
            insert_dicts(subjects_table, [{"case_id": r["id"], "person_id": rng.choice(people)} for r in rows])
            events = [{"case_id": r["id"], "at": r["opened_at"], "kind": "opened", "public": True, "body": "",
                       "data": {"state": "new"}} for r in rows]
            events += [{"case_id": r["id"], "at": r["closed_at"], "kind": "state", "public": True, "body": "",
                        "data": {"from": "open", "to": "closed", "from_name": "Under behandling",
                                 "to_name": "Avsluttet"}, "actor_id": rng.choice(handlers)}
                       for r in rows if r["closed_at"]]
            insert_dicts(CaseEvent, events)
        made += n
        print(f"  cases: {made}", end="\r", flush=True)
    print()
    return time.perf_counter() - start


def http_rate(session: str, path: str, seconds: float, threads: int, port: int) -> dict:
    """Requests per second for `path` from `threads` keep-alive clients against `tillit serve`."""
    counts, errors = [0] * threads, [0]
    stop = time.monotonic() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                counts[i] += 1
            else:
                errors[0] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {"requests_per_s": round(sum(counts) / seconds, 1), "errors": errors[0], "threads": threads}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--cases", type=int, default=500_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--http-seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    setup(args.database)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tillit.cases.models import Case, CaseType
    from tillit.messaging.inbound import ingest_email
    from tillit.registry.demo import load_demo
    from tillit.registry.models import OrgUnit, Person

    call_command("migrate", verbosity=0)
    result = {"database": connection.vendor, "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores"}
    if not (args.reuse and Case.objects.count() >= args.cases):
        if Person.objects.exists() and not args.reuse:
            sys.exit("The database is not empty; pass --reuse or use an empty one.")
        if not Person.objects.exists():
            load_demo(members=20_000, seed=args.seed)
        result["build_seconds"] = round(build_cases(args.cases - Case.objects.count(), args.seed), 1)
        from tillit.cases.daycounts import rebuild

        start = time.perf_counter()
        rebuild()  # the rows above were written without the case services, which keep the day counts
        result["recount_seconds"] = round(time.perf_counter() - start, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load; index-only scans need it
    result["cases"] = Case.objects.count()
    rng = random.Random(args.seed)
    admin = get_user_model().objects.get(username="admin")
    handler = get_user_model().objects.get(username="handler")
    max_id = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    region = OrgUnit.objects.filter(kind="region").order_by("pk").first()
    timings = {}
    for who, user in (("admin", admin), ("handler", handler)):
        client = Client()
        client.force_login(user)
        queues = [f"/cases/?queue={q}&page={rng.randint(1, 5)}" for q in ("unit", "unassigned", "overdue", "waiting")
                  for _ in range(args.samples // 4)]
        timings[f"queue page ({who})"] = timed_requests(client, queues)
        visible = list(Case.objects.visible_to(user).filter(
            pk__in=[rng.randint(1, max_id) for _ in range(args.samples * 5)]).values_list("pk", flat=True))
        timings[f"case page ({who})"] = timed_requests(client, [f"/cases/{pk}/" for pk in visible[:args.samples]])
        timings[f"measurement page ({who})"] = timed_requests(
            client, [f"/cases/measure/?unit={region.pk}" for _ in range(max(5, args.samples // 10))])
    result["latency"] = timings

    client = Client()
    client.force_login(handler)
    session = client.cookies["sessionid"].value
    env = {**os.environ, "DATABASE_URL": args.database, "TILLIT_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(args.port), "--threads", "8"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        result["queue_over_http"] = http_rate(session, "/cases/?queue=unit", args.http_seconds, 8, args.port)
    finally:
        server.terminate()
        server.wait()

    if not CaseType.objects.filter(is_intake=True).exists():
        sys.exit("no intake case type (the demo data makes one)")
    known = list(Person.objects.exclude(email="").values_list("email", flat=True)[:50])
    numbers = list(Case.objects.order_by("-pk").values_list("number", flat=True)[:50])
    mails = []
    for i in range(200):
        msg = EmailMessage()
        msg["From"] = rng.choice(known)
        msg["To"] = "post@tillit.example"
        msg["Subject"] = f"Re: [{rng.choice(numbers)}] svar" if i % 2 else f"Nytt spørsmål {i}"
        msg.set_content("Hei, her er svaret mitt.\n" * 20)
        mails.append(msg.as_bytes())
    start = time.perf_counter()
    for raw in mails:
        ingest_email(raw)
    result["ingest_messages_per_s"] = round(len(mails) / (time.perf_counter() - start), 1)

    out = ROOT / "benchmarks" / "results" / f"cases-{connection.vendor}-{result['cases']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nTillit cases benchmark — {connection.vendor}, {result['cases']:,} cases, {result['machine']}")
    if "build_seconds" in result:
        print(f"build: {result['build_seconds']} s")
    print(f"{'measure':<30}{'n':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name, t in timings.items():
        print(f"{name:<30}{t['n']:>6}{t['median_ms']:>12}{t['p95_ms']:>10}{t['max_ms']:>10}")
    rate = result["queue_over_http"]
    print(f"queue page over HTTP (tillit serve, {rate['threads']} clients): {rate['requests_per_s']} requests/s, "
          f"{rate['errors']} errors")
    print(f"email ingest: {result['ingest_messages_per_s']} messages/s")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

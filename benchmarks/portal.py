"""Self-service benchmark: a member's portal home and case page against the bare Django floor, request submission
over HTTP, knowledge-base suggestions with 10,000 articles, and 50 concurrent bookings of one slot.

    python benchmarks/portal.py --database sqlite:///var/bench-floor.sqlite3
    python benchmarks/portal.py --database postgresql://postgres@127.0.0.1:5432/tillit_floor

Runs on a data set built by benchmarks/floor.py (people and cases); adds what it needs once (a public service
with a form, a bookable service, 10,000 articles, logins for the members with the most cases).

- portal pages: in-process, Tillit and the floor alternating request by request (benchmarks/floor.py), p95 and
  the ratio of medians; HTTP requests/s with wrk beside the floor's.
- submission: POST of the service's form (a case opened with its answers, the receipt mail queued) over HTTP
  under waitress, wrk with 8 connections: requests/s.
- suggestions: the suggest endpoint for 300 typed titles, p50/p95 server time.
- bookings: 50 threads book the same slot at once (each its own database connection): how many got it.

Targets (issue #12): portal home and case page p95 ≤ 50 ms; submission ≥ 100/s; suggestion p95 ≤ 30 ms; the
bookings exactly the slot's capacity. Prints a table; writes JSON to benchmarks/results/.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import percentile, setup  # noqa: E402

ARTICLES = 10_000
WORDS = ("kontingent lønn trekk permisjon forsikring oppsigelse turnus overtid ferie sykmelding foreldrepermisjon "
         "innmelding utmelding arbeidsavtale tariff pensjon avtale lønnsslipp medlemskort studentmedlem rabatt "
         "katt hund parkering avfall skole barnehage bygglov vann snø vei buss bibliotek").split()


def ensure_data(rng):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Count

    from tillit.cases.models import Case, CaseType
    from tillit.portal import knowledge
    from tillit.portal.models import Article, ArticleWord, FormField, Service
    from tillit.registry.models import Person
    from tillit.registry.services import link_user

    types = list(CaseType.objects.filter(active=True, is_intake=False).order_by("pk")[:2])
    ask = Service.objects.filter(case_type=types[0]).first() or Service.objects.create(
        case_type=types[0], titles={"en": "Ask a question"}, audience=Service.Audience.ANYONE)
    if ask.audience != Service.Audience.ANYONE or not ask.active:  # the demo may have made it members-only
        Service.objects.filter(pk=ask.pk).update(audience=Service.Audience.ANYONE, active=True)
    if not ask.fields.filter(key="title").exists():
        FormField.objects.create(service=ask, key="title", kind="short", required=True, labels={"en": "Title"})
        FormField.objects.create(service=ask, key="question", kind="long", labels={"en": "Question"}, position=1)
    book = Service.objects.filter(case_type=types[1]).first() or Service.objects.create(
        case_type=types[1], titles={"en": "Book a talk"}, bookable=True, opens=datetime.time(8),
        closes=datetime.time(16), slot_minutes=30, capacity=5, audience=Service.Audience.MEMBERS)
    if Article.objects.count() < ARTICLES:
        with transaction.atomic():
            made = Article.objects.bulk_create([Article(
                title=" ".join(rng.sample(WORDS, 4)).capitalize(), body=" ".join(rng.choices(WORDS, k=80)),
                language=rng.choice(["nb", "sv", "en"]), state=Article.State.PUBLISHED)
                for _ in range(ARTICLES - Article.objects.count())], batch_size=2000)
            rows = [row for article in made for row in knowledge.word_rows(article)]
            ArticleWord.objects.bulk_create(rows, batch_size=5000)
    busiest = list(Case.subjects.through.objects.values("person_id").annotate(n=Count("case_id"))
                   .order_by("-n", "person_id")[:20])
    User = get_user_model()
    users = []
    for i, row in enumerate(busiest):
        person = Person.objects.get(pk=row["person_id"])
        if person.user_id is None:
            user, _new = User.objects.get_or_create(username=f"bench_member_{i}")
            if not Person.objects.filter(user=user).exists():
                link_user(person, user, actor=None, channel="system")
            person.refresh_from_db()
        users.append((person.user, person, row["n"]))
    return ask, book, users


def wrk_post(port, path, cookie, token, body, seconds) -> float:
    import re

    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.method = "POST"\nwrk.body = "{body}"\nwrk.headers["Content-Type"] = '
                 f'"application/x-www-form-urlencoded"\nwrk.headers["X-CSRFToken"] = "{token}"\n'
                 f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["Referer"] = "http://127.0.0.1:{port}{path}"\n')
    script.close()
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", script.name, f"http://127.0.0.1:{port}{path}"],
                          capture_output=True, text=True, check=True)
    os.unlink(script.name)
    if "Non-2xx" in done.stdout:
        raise RuntimeError(done.stdout)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


_SERVED = []


def serve_processes(database: str, processes: int = 2) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--processes",
                               str(processes)], env={**os.environ, "DATABASE_URL": database},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _SERVED.append(server)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(2)  # every process up
    return port


def stop_served():
    while _SERVED:
        server = _SERVED.pop()
        server.terminate()
        server.wait(30)


def concurrent_bookings(service, people, threads=50) -> dict:
    from django.db import close_old_connections, connection

    from tillit.core.errors import ConflictError
    from tillit.portal import booking
    from tillit.portal.models import Booking

    slot = booking.slots(service, start=datetime.date.today() + datetime.timedelta(days=40), days=10)[-1]["at"]
    Booking.objects.filter(service=service, starts_at=slot).delete()
    outcomes, barrier = [], threading.Barrier(threads)

    def one(person):
        close_old_connections()
        barrier.wait()
        try:
            booking.book(service, person=person, at=slot, user=None, base_url="http://127.0.0.1/")
            outcomes.append("booked")
        except ConflictError:
            outcomes.append("full")
        except Exception as exc:  # counted and reported
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    workers = [threading.Thread(target=one, args=(people[i % len(people)],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    booked = Booking.objects.filter(service=service, starts_at=slot, state="booked").count()
    counts = {k: outcomes.count(k) for k in set(outcomes)}
    return {"threads": threads, "capacity": service.capacity, "booked_rows": booked, "outcomes": counts,
            "exactly_capacity": booked == service.capacity}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TILLIT_LOG_LEVEL", "ERROR")
    setup(args.database)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    import benchmarks.floor as floor
    from tillit.cases.models import Case
    from tillit.portal.access import own_cases
    from tillit.registry.models import Person

    call_command("migrate", verbosity=0)
    rng = random.Random(1)
    ask, book, users = ensure_data(rng)
    floor.urlpatterns[:] = floor._floor_views()
    app = floor.build_app()
    port = floor.serve(app) if shutil.which("wrk") else None
    result = {"database": connection.vendor, "people": Person.objects.count(), "cases": Case.objects.count(),
              "machine": f"{os.cpu_count()} cores", "date": datetime.datetime.now(datetime.UTC).isoformat(
                  timespec="seconds"), "pages": {}}
    user, person, n = users[1]  # users[0] sends the submissions below, so its list grows run by run
    cookie = floor.session_cookie(user)
    result["member_cases"] = own_cases(user).count()
    case_ids = list(own_cases(user).values_list("pk", flat=True)[:50])
    pages = {"portal home": (["/portal/"], [f"{floor.FLOOR}/portal/"]),
             "portal case page": ([f"/portal/cases/{pk}/" for pk in case_ids],
                                  [f"{floor.FLOOR}/portal/cases/{pk}/" for pk in case_ids])}
    for label, (paths, floor_paths) in pages.items():
        row = {"in_process": floor.in_process(app, cookie, paths, floor_paths, args.repeat)}
        if port:
            row["http"] = floor.over_http(port, cookie, paths[0], floor_paths[0], args.rounds, args.seconds)
        result["pages"][label] = row
        print(f"  {label} ({n} cases): {row}", flush=True)
    # suggestions
    client = Client()
    suggest = f"/services/{ask.pk}/suggest/"
    times = []
    for _ in range(300):
        typed = " ".join(rng.sample(WORDS, 2)) + " " + rng.choice(WORDS)[:4]
        start = time.perf_counter()
        response = client.get(suggest, {"q": typed})
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    result["suggestions"] = {"articles": ARTICLES, "p50_ms": round(percentile(times, 50), 2),
                             "p95_ms": round(percentile(times, 95), 2)}
    print(f"  suggestions: {result['suggestions']}", flush=True)
    # submission over HTTP: the form of a logged-in member, POSTed with wrk
    if port:
        web = Client()
        web.force_login(users[0][0])
        web.get(f"/services/{ask.pk}/")
        token = web.cookies["csrftoken"].value
        session = web.cookies["sessionid"].value
        before = Case.objects.count()
        rps = wrk_post(port, f"/services/{ask.pk}/", f"sessionid={session}; csrftoken={token}", token,
                       "f_title=Benchmark+question&f_question=How+are+dues+counted%3F", args.seconds * 2)
        result["submission"] = {"requests_per_s": rps, "cases_opened": Case.objects.count() - before}
        # the same against `tillit serve` as it runs in production: one process per core
        served = serve_processes(args.database)
        try:
            result["submission"]["tillit_serve_2_processes_per_s"] = wrk_post(
                served, f"/services/{ask.pk}/", f"sessionid={session}; csrftoken={token}", token,
                "f_title=Benchmark+question&f_question=How+are+dues+counted%3F", args.seconds * 2)
        finally:
            stop_served()
        print(f"  submission: {result['submission']}", flush=True)
    result["bookings"] = concurrent_bookings(book, [p for _u, p, _n in users])
    print(f"  bookings: {result['bookings']}", flush=True)
    out = args.out or ROOT / "benchmarks" / "results" / f"portal-{connection.vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nSelf-service — {connection.vendor}, {result['people']:,} people, {result['cases']:,} cases")
    print(f"{'page':<20}{'Tillit ms':>10}{'p95':>8}{'floor ms':>10}{'÷':>6}{'Tillit r/s':>12}{'floor r/s':>11}")
    for label, row in result["pages"].items():
        p, h = row["in_process"], row.get("http", {})
        print(f"{label:<20}{p['tillit_median_ms']:>10}{p['tillit_p95_ms']:>8}{p['floor_median_ms']:>10}"
              f"{p['ratio']:>6}{h.get('tillit_rps', '-'):>12}{h.get('floor_rps', '-'):>11}")
    print(f"written: {out}")


if __name__ == "__main__":
    main()

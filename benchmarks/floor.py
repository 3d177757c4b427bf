"""Tillit against a bare Django floor, in one process and one HTTP run.

    python benchmarks/floor.py --database sqlite:///var/bench-floor.sqlite3 --members 100000 --cases 500000
    python benchmarks/floor.py --database postgresql://postgres@127.0.0.1:5432/tillit_floor --members 100000 \\
        --cases 500000

For each measured page the floor is a bare Django view — only the session and authentication
middleware (Django's own: the user read from the database) — that runs the same reads as the page
(through the same domain functions and `visible_to`; a page of several sections: every section's
query) and returns the rows as JSON.
It writes nothing: the access-log rows Tillit writes for every person shown are Tillit's cost.
Both are served by one WSGI application in this process: paths under /__floor/ go to the floor,
everything else to Tillit with its whole middleware stack.

- in-process: each request is one WSGI call (no network), Tillit and floor alternating request by
  request, so machine noise falls on both alike; median and p95 server time, ratio of medians.
- HTTP: the same application under waitress (8 threads, as `tillit serve`), loaded by wrk
  (8 connections); Tillit and floor alternate in rounds of a few seconds; ratio of requests/s.

Targets (issue #9): HTTP ratio Tillit ÷ floor ≥ 0.5, in-process ratio ≤ 2, p95 ≤ 50 ms.
Prints a table and writes JSON to benchmarks/results/.
"""

import argparse
import datetime
import io
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.registry import percentile, setup  # noqa: E402

FLOOR = "/__floor"


# --- the floor: bare views over the pages' own queries ------------------------------------------

def _floor_views():
    from django.http import Http404, JsonResponse
    from django.urls import path
    from django.utils import timezone

    from tillit.cases.models import Case, CaseEvent, State, Transition
    from tillit.cases.queues import QUEUES, filter_cases
    from tillit.core.models import AccessLogEntry, AuditEntry
    from tillit.core.present import capped_count
    from tillit.core.scopes import VIEW_ACCESS_LOG, scope_for
    from tillit.core.text import as_page
    from tillit.documents.models import Document
    from tillit.dues.models import LedgerEntry
    from tillit.messaging.models import Message, Recipient
    from tillit.registry.listing import clean_filters, people_page, people_total
    from tillit.registry.models import (
        Employment,
        LeavePeriod,
        Membership,
        MembershipPeriod,
        MembershipType,
        Person,
        Role,
    )
    from tillit.registry.views import latest_memberships

    def queue(request):
        cases = QUEUES["unit"](Case.objects.visible_to(request.user), request.user, timezone.localdate())
        cases = filter_cases(cases, unit_id=None, q="").order_by("due_on", "pk")
        total, more = capped_count(cases)
        rows = list(cases.values("pk", "number", "title", "state__name", "responsible_unit__name",
                                 "handler__username", "due_on", "priority")[:51])
        return JsonResponse({"rows": rows[:50], "total": total, "more": more}, json_dumps_params={"default": str})

    def case(request, pk):
        """The case page's reads: the case, its subjects, timeline, related cases, transitions, documents."""
        found = Case.objects.visible_to(request.user).filter(pk=pk).values(
            "pk", "number", "title", "state_id", "process_id", "state__name", "responsible_unit__name",
            "due_on").first()
        if found is None:
            raise Http404
        case = Case.objects.get(pk=pk)
        found["subjects"] = list(case.subjects.values("pk", "first_name", "last_name"))
        found["events"] = list(case.events.values("at", "kind", "body", "public", "actor__username"))
        found["related"] = list(case.related.values("pk", "number", "title"))
        found["transitions"] = list(Transition.objects.filter(process_id=found["process_id"],
                                                              from_state_id=found["state_id"]).values("code", "label"))
        found["states"] = list(State.objects.filter(process_id=found["process_id"]).values("code", "name"))
        found["delivery"] = list(Message.objects.filter(case_id=pk).values("pk", "status"))
        found["documents"] = list(Document.objects.linked_to_visible(request.user, case=case).values("pk", "title"))
        found["shown_to_the_person"] = list(CaseEvent.objects.filter(case_id=pk, kind=CaseEvent.Kind.DOCUMENT,
                                                                     public=True).values_list("data", flat=True))
        return JsonResponse(found, json_dumps_params={"default": str})

    def people(request):
        filters = clean_filters(request.GET)
        page = as_page(request.GET.get("page"))
        shown = Person.objects.visible_to(request.user).current()
        rows, has_next = people_page(shown, filters, page=page, size=50)
        total = people_total(shown, filters, page=page, size=50, found=len(rows), has_next=has_next)[0]
        latest = latest_memberships([p.pk for p in rows])
        types = list(MembershipType.objects.values("code", "name"))
        return JsonResponse({"rows": [{"pk": p.pk, "name": p.full_name, "email": p.email, "city": p.city,
                                       "membership": latest.get(p.pk)} for p in rows], "total": total,
                             "types": types})

    def person(request, pk):
        """The person page's reads: the person, memberships with their periods, employments, roles, the
        latest changes, the person's cases and documents."""
        found = Person.objects.visible_to(request.user).filter(pk=pk).values(
            "pk", "first_name", "last_name", "email", "phone", "city", "national_id").first()
        if found is None:
            raise Http404
        found["memberships"] = list(Membership.objects.filter(person_id=pk).values(
            "pk", "member_number", "status", "branch__name", "membership_type__name"))
        found["periods"] = list(MembershipPeriod.objects.filter(membership__person_id=pk).values(
            "membership_id", "status", "valid_from", "valid_to"))
        found["employments"] = list(Employment.objects.filter(person_id=pk).values(
            "workplace__name", "position", "starts_on", "ends_on"))
        found["leaves"] = list(LeavePeriod.objects.filter(employment__person_id=pk).values("starts_on", "ends_on"))
        found["roles"] = list(Role.objects.filter(person_id=pk).values("role_type__name", "starts_on", "ends_on"))
        found["history"] = list(AuditEntry.objects.filter(person_id=pk).values(
            "at", "actor__username", "action", "changes")[:25])
        found["cases"] = list(Case.objects.visible_to(request.user).filter(subjects=pk).values(
            "pk", "number", "title", "state__name")[:100])
        found["documents"] = list(Document.objects.linked_to_visible(request.user, person=Person(pk=pk)).values(
            "pk", "title")[:100])
        found["messages"] = list(Recipient.objects.filter(person_id=pk).values("mailing__subject", "status")[:10])
        found["dues"] = list(LedgerEntry.objects.filter(person_id=pk).values("kind", "period", "amount")[:60])
        if not scope_for(request.user, VIEW_ACCESS_LOG).empty:
            found["looked"] = list(AccessLogEntry.objects.filter(person_id=pk).values("at", "user__username",
                                                                                      "action")[:25])
        return JsonResponse(found, json_dumps_params={"default": str})

    def reps_dashboard(request):
        """The dashboard's reads: the kept figures of today, a month and a year ago, and the 24-month trend."""
        from tillit.reps.access import node_for
        from tillit.reps.figures import figures

        kept, _live, month_ago, year_ago, trend = figures(node_for(request.user, None), timezone.localdate())
        return JsonResponse({"figures": {str(d): v for d, v in kept.items()}}, json_dumps_params={"default": str})

    def reps_members(request):
        """The member list's reads: one page of the selection, its rows described, the total."""
        from tillit.reps import selection
        from tillit.reps.access import node_for
        from tillit.reps.figures import describe

        found = selection.select(request.user, node_for(request.user, None), selection.clean({}))
        rows = describe(list(found[:51])[:50], timezone.localdate())
        return JsonResponse({"rows": rows, "total": found.count()})

    def reps_coverage(request):
        from tillit.reps import coverage
        from tillit.reps.access import node_for

        found = coverage.lists(request.user, node_for(request.user, None))
        return JsonResponse({"lacking": [r["e"].pk for r in found["lacking"]],
                             "lost": [r["e"].pk for r in found["lost"]], "ending": [r.pk for r in found["ending"]],
                             "entitlement": [r["e"].pk for r in found["entitlement"]]})

    def portal_home(request):
        """A member's portal home: their own cases."""
        from tillit.portal.access import own_cases

        fields = ("pk", "number", "title", "state__name", "responsible_unit__name", "due_on", "closed_at")
        mine = own_cases(request.user).order_by("-opened_at", "-pk")
        rows = list(mine.filter(closed_at__isnull=True).values(*fields)[:200])
        rows += list(mine.filter(closed_at__isnull=False).values(*fields)[:51])
        return JsonResponse({"rows": rows}, json_dumps_params={"default": str})

    def portal_case(request, pk):
        """A member's case page: the case, its public timeline, answers, bookings and rating."""
        from tillit.portal.access import own_case
        from tillit.portal.models import Booking, Rating

        found = own_case(request.user, pk)
        return JsonResponse({"number": found.number, "title": found.title, "state": found.state.name,
                             "unit": found.responsible_unit.name, "due_on": found.due_on,
                             "events": list(found.events.filter(public=True).values("at", "kind", "body", "data")),
                             "answers": list(found.answers.values("label", "value")),
                             "bookings": list(Booking.objects.filter(case=found).values("starts_at", "state")),
                             "rated": Rating.objects.filter(case=found).exists()},
                            json_dumps_params={"default": str})

    def home(request):
        """The staff home page's reads: the handler's own work and their units' backlog (workspace.home)."""
        from tillit.workspace.home import home_for

        data = home_for(request.user)
        data["units"] = [{**u, "unit": u["unit"].pk} for u in data.get("units", [])]
        data.pop("checks", None)
        return JsonResponse(data, json_dumps_params={"default": str})

    def search(request):
        """The one search's reads: every kind's hits (workspace.search)."""
        from dataclasses import asdict

        from django.urls import get_urlconf, set_urlconf

        from tillit.workspace.search import search_all

        floor_urls = get_urlconf()
        set_urlconf("tillit.urls")  # the hits' links are Tillit's
        try:
            found = search_all(request.user, request.GET.get("q", ""))
        finally:
            set_urlconf(floor_urls)
        return JsonResponse({kind: [asdict(h) for h in hits] for kind, hits in found.items()})

    return [path("", home), path("search/", search),
            path("cases/", queue), path("cases/<int:pk>/", case), path("people/", people),
            path("portal/", portal_home), path("portal/cases/<int:pk>/", portal_case),
            path("people/<int:pk>/", person), path("reps/", reps_dashboard), path("reps/members/", reps_members),
            path("reps/coverage/", reps_coverage)]


urlpatterns = []  # filled in by main(): this module is the floor's URLconf


class FloorAuthentication:
    """Stock Django authentication: the session's user read from the database by Django's ModelBackend and its
    session hash checked, as Django's AuthenticationMiddleware does (Tillit's backend keeps users in the cache;
    that gain is Tillit's, not the floor's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.functional import SimpleLazyObject

        request.user = SimpleLazyObject(lambda: self.user(request))
        return self.get_response(request)

    @staticmethod
    def user(request):
        from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.auth.backends import ModelBackend
        from django.contrib.auth.models import AnonymousUser
        from django.utils.crypto import constant_time_compare

        user = ModelBackend().get_user(request.session.get(SESSION_KEY))
        if user is None or not constant_time_compare(request.session.get(HASH_SESSION_KEY, ""),
                                                     user.get_session_auth_hash()):
            return AnonymousUser()
        return user


class FloorUrls:
    """The floor handler's only middleware beyond sessions and auth: route to this module."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.urlconf = "benchmarks.floor"
        return self.get_response(request)


def build_app():
    """One WSGI application: /__floor/… to the bare handler, the rest to Tillit."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    tillit = WSGIHandler()
    with override_settings(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                                       "benchmarks.floor.FloorAuthentication", "benchmarks.floor.FloorUrls"]):
        floor = WSGIHandler()

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(FLOOR + "/"):
            environ = {**environ, "PATH_INFO": environ["PATH_INFO"][len(FLOOR):]}
            return floor(environ, start_response)
        return tillit(environ, start_response)

    return app


# --- measuring --------------------------------------------------------------------------------

def _environ(path: str, cookie: str) -> dict:
    route, _sep, query = path.partition("?")
    return {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "HTTP_COOKIE": cookie, "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1"}


def _call(app, path: str, cookie: str) -> float:
    status = []
    start = time.perf_counter()
    body = app(_environ(path, cookie), lambda s, h, exc_info=None: status.append(s))
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()
    elapsed = (time.perf_counter() - start) * 1000
    assert status[0].startswith("200"), (path, status[0])
    return elapsed


def in_process(app, cookie: str, paths: list[str], floor_paths: list[str], repeat: int) -> dict:
    ours, bare = [], []
    for _ in range(2):  # warm both
        _call(app, paths[0], cookie)
        _call(app, floor_paths[0], cookie)
    for i in range(repeat):
        ours.append(_call(app, paths[i % len(paths)], cookie))
        bare.append(_call(app, floor_paths[i % len(floor_paths)], cookie))
    med, fmed = statistics.median(ours), statistics.median(bare)
    return {"tillit_median_ms": round(med, 2), "tillit_p95_ms": round(percentile(ours, 95), 2),
            "floor_median_ms": round(fmed, 2), "floor_p95_ms": round(percentile(bare, 95), 2),
            "ratio": round(med / fmed, 2), "n": repeat}


def wrk(port: int, path: str, cookie: str, seconds: float) -> float:
    # A request may take longer than wrk's own 2 s timeout on the largest data set: wait up to 30 s for each.
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
                           "-H", f"Cookie: {cookie}",
                           f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"{path}: errors under load\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def over_http(port: int, cookie: str, path: str, floor_path: str, rounds: int, seconds: float) -> dict:
    ours, bare = [], []
    for _ in range(rounds):
        ours.append(wrk(port, path, cookie, seconds))
        bare.append(wrk(port, floor_path, cookie, seconds))
    return {"tillit_rps": round(statistics.mean(ours), 1), "floor_rps": round(statistics.mean(bare), 1),
            "ratio": round(sum(ours) / sum(bare), 2) if sum(bare) else None, "rounds": rounds}


def serve(app) -> int:
    from waitress import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=8, ident="bench")
    threading.Thread(target=server.run, daemon=True).start()
    return port


def serve_scaling(database: str, cookie: str, path: str, seconds: float) -> dict:
    """Requests/s of one page from `tillit serve` with one process and with one per core."""
    out = {}
    for processes in (1, os.cpu_count() or 1):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--processes",
                                   str(processes)], env={**os.environ, "DATABASE_URL": database},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            wrk(port, path, cookie, 1)  # warm every process
            out[f"{processes} process{'es' if processes > 1 else ''}"] = wrk(port, path, cookie, seconds * 2)
        finally:
            server.terminate()
            server.wait(30)
    return out


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=200, help="in-process requests per page and side")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP rounds per page and side")
    parser.add_argument("--seconds", type=float, default=3, help="length of one HTTP round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this")
    parser.add_argument("--build-only", action="store_true", help="build the data set, measure nothing")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TILLIT_LOG_LEVEL", "ERROR")
    setup(args.database)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.cases import build_cases
    from tillit.cases.models import Case
    from tillit.registry.demo import load_demo
    from tillit.registry.models import Person

    sys.modules.setdefault("benchmarks.floor", sys.modules[__name__])  # run as a script: one module, one URLconf
    urlpatterns[:] = _floor_views()
    call_command("migrate", verbosity=0)
    result = {"database": connection.vendor, "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores"}
    if not Person.objects.exists():
        start = time.perf_counter()
        load_demo(members=args.members, seed=args.seed, progress=lambda s: print(f"  demo: {s}", end="\r",
                                                                                   flush=True))
        print()
        result["build_seconds"] = round(time.perf_counter() - start, 1)
    if Case.objects.count() < args.cases:
        build_cases(args.cases - Case.objects.count(), args.seed)
        call_command("recount_cases", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    result["people"], result["cases"] = Person.objects.count(), Case.objects.count()
    if args.build_only:
        print(f"built: {result['people']:,} people, {result['cases']:,} cases")
        return

    app = build_app()
    port = None if args.no_http or not shutil.which("wrk") else serve(app)
    rng = random.Random(args.seed)
    rows = {}
    for who in ("admin", "handler"):
        user = get_user_model().objects.get(username=who)
        cookie = session_cookie(user)
        people = list(Person.objects.visible_to(user).current().order_by("pk").values_list("pk", "last_name")[:5000])
        cases = list(Case.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)[:5000])
        sample_people = [p for p in rng.sample(people, min(50, len(people)))]
        sample_cases = rng.sample(cases, min(50, len(cases)))
        pages = {
            "case queue": (["/cases/"], [f"{FLOOR}/cases/"]),
            "case page": ([f"/cases/{pk}/" for pk in sample_cases], [f"{FLOOR}/cases/{pk}/" for pk in sample_cases]),
            "people list": (["/people/"], [f"{FLOOR}/people/"]),
            "people list, resigning, page 4": (["/people/?status=resigning&page=4"],
                                               [f"{FLOOR}/people/?status=resigning&page=4"]),
            "person page": ([f"/people/{pk}/" for pk, _n in sample_people],
                            [f"{FLOOR}/people/{pk}/" for pk, _n in sample_people]),
            "person search": ([f"/people/?q={name}" for _pk, name in sample_people],
                              [f"{FLOOR}/people/?q={name}" for _pk, name in sample_people]),
            "home": (["/"], [f"{FLOOR}/"]),
            "global search": ([f"/search/?q={name}" for _pk, name in sample_people],
                              [f"{FLOOR}/search/?q={name}" for _pk, name in sample_people]),
        }
        for page, (paths, floor_paths) in pages.items():
            if args.only not in page:
                continue
            key = f"{page} ({who})"
            row = {"in_process": in_process(app, cookie, paths, floor_paths, args.repeat)}
            if port:
                row["http"] = over_http(port, cookie, paths[0], floor_paths[0], args.rounds, args.seconds)
            rows[key] = row
            print(f"  {key}: {row}", flush=True)
    from benchmarks.reps import portal_users

    rep, regional = portal_users()
    for who, user in (("company rep", rep), ("regional rep", regional)):
        cookie = session_cookie(user)
        for page, url in (("portal dashboard", "/reps/"), ("portal member list", "/reps/members/"),
                          ("portal coverage", "/reps/coverage/")):
            key = f"{page} ({who})"
            if args.only not in page:
                continue
            row = {"in_process": in_process(app, cookie, [url], [FLOOR + url], args.repeat)}
            if port:
                row["http"] = over_http(port, cookie, url, FLOOR + url, args.rounds, args.seconds)
            rows[key] = row
            print(f"  {key}: {row}", flush=True)
    result["pages"] = rows
    if port and not args.only:
        cookie = session_cookie(get_user_model().objects.get(username="handler"))
        result["serve_scaling"] = {"page": "case queue (handler)", **serve_scaling(args.database, cookie, "/cases/",
                                                                                     args.seconds)}
        print(f"  tillit serve: {result['serve_scaling']}", flush=True)

    name = f"floor-{connection.vendor}-{result['people']}{'-' + args.only.replace(' ', '_') if args.only else ''}"
    out = args.out or ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nTillit ÷ bare Django floor — {connection.vendor}, {result['people']:,} people, {result['cases']:,} "
          f"cases, {result['machine']}")
    print(f"{'page':<34}{'Tillit ms':>10}{'p95':>8}{'floor ms':>10}{'÷':>6}{'Tillit r/s':>12}{'floor r/s':>11}"
          f"{'÷':>6}")
    for key, row in rows.items():
        p, h = row["in_process"], row.get("http", {})
        print(f"{key:<34}{p['tillit_median_ms']:>10}{p['tillit_p95_ms']:>8}{p['floor_median_ms']:>10}"
              f"{p['ratio']:>6}{h.get('tillit_rps', '-'):>12}{h.get('floor_rps', '-'):>11}{h.get('ratio') or '-':>6}")
    if "serve_scaling" in result:
        print("tillit serve, requests/s:", {k: v for k, v in result["serve_scaling"].items() if k != "page"})
    print(f"written: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()

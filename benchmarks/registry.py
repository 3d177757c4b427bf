"""Registry benchmark: build N members, then measure import, search, list and person pages.

    python benchmarks/registry.py --database sqlite:///var/bench.sqlite3 --members 100000
    python benchmarks/registry.py --database postgresql://postgres@127.0.0.1:5432/tillit_bench --members 1000000

Latencies are server time: each request goes through the whole Django stack in-process
(middleware, session, view, template), without a network hop. Prints a table and writes JSON
to benchmarks/results/. With --reuse an existing data set is kept (only the import rows are added).
"""

import argparse
import csv
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: str):
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("TILLIT_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tillit.settings")
    os.environ.setdefault("TILLIT_LOG_LEVEL", "WARNING")
    if database.startswith("postgresql"):
        import psycopg

        base, name = database.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_requests(client, urls):
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return {"n": len(times), "median_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2),
            "max_ms": round(max(times), 2)}


def build(members: int, seed: int):
    from tillit.registry.demo import load_demo

    start = time.perf_counter()
    load_demo(members=members, seed=seed, progress=lambda s: print(f"  demo: {s}", end="\r", flush=True))
    print()
    return round(time.perf_counter() - start, 1)


def write_import_file(path: Path, rows: int, seed: int):
    from tillit.registry.demo import norwegian_id
    from tillit.registry.models import Employer, OrgUnit, Person

    rng = random.Random(seed)
    branches = list(OrgUnit.objects.filter(kind="branch", country="NO").values_list("pk", flat=True))
    places = list(Employer.objects.filter(kind="workplace", country="NO").values_list("pk", flat=True)[:500])
    # Births before 1950: the demo data has none, so rows are new people (checked below).
    taken = set()
    while len(taken) < rows:
        batch = set()
        while len(batch) < min(5000, rows - len(taken)):
            nid = norwegian_id(rng, datetime.date(1925, 1, 1) + datetime.timedelta(days=rng.randint(0, 9000)))
            if nid not in taken:
                batch.add(nid)
        batch -= set(Person.objects.filter(national_id__in=batch).values_list("national_id", flat=True))
        taken |= batch
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["first_name", "last_name", "national_id", "email", "phone", "postal_code", "city",
                         "membership_type", "branch", "joined_on", "workplace", "employment_starts_on", "position",
                         "percentage", "payroll_deduction"])
        for i, nid in enumerate(sorted(taken)):
            writer.writerow([f"Imp{seed}n{i}", rng.choice(["Berg", "Dahl", "Lunde", "Moen", "Strand"]), nid,
                             f"import{seed}.{i}@example.no", f"+47{rng.randint(90000000, 99999999)}", "0150", "Oslo",
                             "retired", rng.choice(branches), "2024-01-01", rng.choice(places), "2023-08-01",
                             "Rådgiver", "100", "ja"])


def copy_ceiling(path: Path) -> float:
    """Seconds to load the file's rows, as text, into an unindexed table: PostgreSQL COPY, SQLite executemany."""
    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = list(reader)
        columns = ", ".join(f'"{c}"' for c in header)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
            cursor.execute(f"CREATE TABLE bench_copy_ceiling ({columns})")
            start = time.perf_counter()
            cursor.executemany(f"INSERT INTO bench_copy_ceiling VALUES ({', '.join(['%s'] * len(header))})", rows)
            elapsed = time.perf_counter() - start
            cursor.execute("DROP TABLE bench_copy_ceiling")
        return elapsed
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
        cursor.execute("CREATE UNLOGGED TABLE bench_copy_ceiling (first_name text, last_name text, national_id text, "
                       "email text, phone text, postal_code text, city text, membership_type text, branch bigint, "
                       "joined_on date, workplace bigint, employment_starts_on date, position text, "
                       "percentage numeric, payroll_deduction text)")
        start = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy_ceiling FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_copy_ceiling")
    return elapsed


def yardstick_ms() -> float:
    """A fixed piece of pure Python (best of three): how fast this machine runs Python right now. Figures from
    different days are comparable only beside it (the shared machine's speed varies by a factor of two)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def timed_import(path: Path, actor, rows: int) -> dict:
    """One import of `path`: end to end, the time spent writing batches, the rest (reading, checking, matching:
    "checking"), and the time the database itself spent answering (every statement timed)."""
    from django.db import connection

    from tillit.core import bulk
    from tillit.registry import importer

    spent, in_db, writing = {"writing": 0.0}, [0.0], [False]

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not writing[0]:
                in_db[0] += time.perf_counter() - start

    def adding_to(stage, function):
        def wrapper(*args):
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                spent[stage] += time.perf_counter() - start
        return wrapper

    write, write_batch = bulk._write, importer._write_batch

    by_table = {}

    def timed_write(*args):  # the row inserts: COPY on PostgreSQL passes no execute wrapper
        start, writing[0] = time.perf_counter(), True
        try:
            return write(*args)
        finally:
            writing[0] = False
            took = time.perf_counter() - start
            in_db[0] += took
            by_table[args[0]] = by_table.get(args[0], 0.0) + took

    yardstick = yardstick_ms()
    bulk._write = timed_write
    importer._write_batch = adding_to("writing", write_batch)
    start = time.perf_counter()
    try:
        with connection.execute_wrapper(timed):
            outcome = importer.run_import(path, actor=actor)
    finally:
        bulk._write, importer._write_batch = write, write_batch
    elapsed = time.perf_counter() - start
    assert outcome.applied and outcome.created == rows, outcome.as_dict()
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed),
            "checking_s": round(elapsed - spent["writing"], 2), "writing_s": round(spent["writing"], 2),
            "database_s": round(in_db[0], 2), "yardstick_ms": yardstick,
            "inserts_s_by_table": {table: round(took, 2) for table, took in sorted(by_table.items(),
                                                                                 key=lambda kv: -kv[1])}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--import-runs", type=int, default=1, help="imports one after another (the drift)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep an existing data set")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    setup(args.database)

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from tillit.registry.models import Membership, OrgUnit, Person

    result = {"database": connection.vendor, "members_requested": args.members,
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "machine": f"{os.cpu_count()} cores"}
    if not (args.reuse and Person.objects.exists()):
        if Person.objects.exists():
            sys.exit("The database already holds people; pass --reuse or point --database at an empty one.")
        result["build_seconds"] = build(args.members, args.seed)
    result["people"] = Person.objects.count()

    admin = get_user_model().objects.get(username="admin")
    handler = get_user_model().objects.get(username="handler")
    result["import_runs"] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "import.csv"
        for run in range(args.import_runs):
            before = Person.objects.count()
            write_import_file(path, args.import_rows, seed=args.seed + run + int(time.time()) % 10_000)
            result["import_runs"].append({"people_before": before, **timed_import(path, admin, args.import_rows)})
        result["import"] = result["import_runs"][-1]
        ceiling = copy_ceiling(path)  # the same file, the same run
        result["import"]["copy_ceiling_rows_per_s"] = round(args.import_rows / ceiling)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    rng = random.Random(args.seed)
    max_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    sample_ids = []
    while len(sample_ids) < args.samples:
        pk = rng.randint(1, max_id)
        if Person.objects.filter(pk=pk).exists():
            sample_ids.append(pk)
    people = list(Person.objects.filter(pk__in=sample_ids).values_list("last_name", "first_name", "email"))
    numbers = list(Membership.objects.filter(person_id__in=sample_ids).values_list("member_number", flat=True))

    def typo(word):
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]

    queries = []
    for i, (last, first, email) in enumerate(people):
        kind = i % 6
        queries.append({0: last, 1: f"{first} {last}", 2: typo(last), 3: f"{first} {typo(last)}",
                        4: numbers[i % len(numbers)], 5: email}[kind])
    branch = OrgUnit.objects.filter(kind="branch").first()
    lists = [f"/people/?page={rng.randint(1, 20)}" for _ in range(args.samples // 2)]
    lists += [f"/people/?status=resigning&page={rng.randint(1, 5)}" for _ in range(args.samples // 4)]
    lists += [f"/people/?unit={branch.pk}&page={rng.randint(1, 5)}" for _ in range(args.samples // 4)]
    from urllib.parse import quote_plus

    timings = {}
    for who, user in (("admin", admin), ("handler", handler)):
        client = Client()
        client.force_login(user)
        visible = list(Person.objects.visible_to(user).filter(pk__in=sample_ids).values_list("pk", flat=True)) \
            if who == "handler" else sample_ids
        client.get("/people/")  # warm up
        timings[f"search ({who})"] = timed_requests(client, [f"/people/?q={quote_plus(q)}" for q in queries])
        timings[f"list page ({who})"] = timed_requests(client, lists)
        timings[f"person page ({who})"] = timed_requests(client, [f"/people/{pk}/" for pk in visible or sample_ids[:1]])
    result["latency"] = timings

    out = args.out or ROOT / "benchmarks" / "results" / f"registry-{connection.vendor}-{result['people']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nTillit registry benchmark — {connection.vendor}, {result['people']:,} people, {result['machine']}")
    if "build_seconds" in result:
        print(f"build (demo data): {result['build_seconds']} s")
    for imp in result["import_runs"]:
        print(f"import into {imp['people_before']:,} people: {imp['rows']:,} rows in {imp['seconds']} s = "
              f"{imp['rows_per_s']:,} rows/s (validated, "
              f"audited); checking {imp['checking_s']} s, writing {imp['writing_s']} s, of which in the database "
              f"{imp['database_s']} s; yardstick {imp['yardstick_ms']} ms")
        print("  inserts by table, s:", ", ".join(f"{t} {s}" for t, s in imp["inserts_s_by_table"].items()))
    if "copy_ceiling_rows_per_s" in result["import"]:
        print(f"raw load of the same file (COPY / executemany, no index): "
              f"{result['import']['copy_ceiling_rows_per_s']:,} rows/s")
    print(f"{'measure':<26}{'n':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name, t in timings.items():
        print(f"{name:<26}{t['n']:>6}{t['median_ms']:>12}{t['p95_ms']:>10}{t['max_ms']:>10}")
    print(f"written: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()

"""Reps' portal benchmark: `tillit recount-kpis` (time, peak memory) and the portal's pages, server time.

    python benchmarks/reps.py --database sqlite:///var/bench-dues.sqlite3
    python benchmarks/reps.py --database postgresql://postgres@127.0.0.1:5432/tillit_dues

Runs on a data set built by benchmarks/dues.py (or any demo data). The recount runs in a child process so its
peak RSS is its own. Pages go through the whole Django stack in-process (middleware, session, view,
template) as a rep of the largest company and a regional rep of the largest region; p50/p95 of N requests.
Prints a table; writes JSON to benchmarks/results/.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dues import rss_mb  # noqa: E402
from benchmarks.registry import setup, timed_requests  # noqa: E402

TARGETS = {"dashboard, company": 30, "dashboard, region": 50, "member list, region": 50, "coverage, region": 100}


def recount_child() -> dict:
    from django.utils import timezone

    from tillit.reps.kpis import days_to_keep, recount

    days = days_to_keep(timezone.localdate())
    start, samples = time.perf_counter(), []
    rows = recount(days, progress=lambda done, total: samples.append(rss_mb()))
    return {"recount_s": round(time.perf_counter() - start, 1), "recount_days": len(days), "recount_rows": rows,
            "recount_rss_after_mb": round(max(samples, default=rss_mb()), 1)}


def portal_users(with_nodes=False):
    """A rep of the largest company and a regional rep of the region with most workplaces (made once), with
    today's KPIs counted so the pages read kept figures."""
    from collections import Counter

    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone

    from tillit.core.services import grant_access
    from tillit.registry.models import Employer, Employment, OrgUnit
    from tillit.reps.kpis import KpiCount, recount

    if not KpiCount.objects.filter(day=timezone.localdate()).exists():
        recount([timezone.localdate()])
    User = get_user_model()
    rep, _ = User.objects.get_or_create(username="bench_company_rep")
    regional, _ = User.objects.get_or_create(username="bench_regional_rep")
    if not rep.grants.exists() or with_nodes:
        per_company = Counter(path[:-Employer.steplen] for path in Employment.objects.filter(
            ends_on__isnull=True).values_list("workplace__path", flat=True).iterator(chunk_size=20_000))
        company = Employer.objects.filter(kind="company", path__in=[p for p, _n in per_company.most_common(20)]) \
            .order_by("path").first()
        region = OrgUnit.objects.filter(kind="region").annotate(n=Count("workplaces")).order_by("-n", "pk").first()
        if not rep.grants.exists():
            grant_access(rep, "rep", "employer", company, actor=None, channel="system")
            grant_access(regional, "regional_rep", "org", region, actor=None, channel="system")
        if with_nodes:
            return rep, regional, company, region
    return rep, regional


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--recount", action="store_true", help="(internal) the recounting child process")
    parser.add_argument("--skip-recount", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TILLIT_LOG_LEVEL", "ERROR")
    setup(args.database)
    if args.recount:
        print(json.dumps(recount_child()))
        return
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tillit.registry.models import Membership

    call_command("migrate", verbosity=0)
    result = {"database": connection.vendor, "machine": f"{os.cpu_count()} cores",
              "members": Membership.objects.count(),
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    if args.skip_recount:  # today only, so the pages read kept figures
        from django.utils import timezone

        from tillit.reps.kpis import recount

        recount([timezone.localdate()])
    else:
        connection.close()
        child = subprocess.run([sys.executable, __file__, "--database", args.database, "--recount"],
                               capture_output=True, text=True, check=False)
        if child.returncode:
            print(child.stdout, child.stderr)
            raise SystemExit(child.returncode)
        result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    rep, regional, company, region = portal_users(with_nodes=True)
    rows = {}
    for label, user, url in [("dashboard, company", rep, "/reps/"), ("dashboard, region", regional, "/reps/"),
                             ("member list, company", rep, "/reps/members/"),
                             ("member list, region", regional, "/reps/members/"),
                             ("coverage, region", regional, "/reps/coverage/")]:
        client = Client()
        client.force_login(user)
        client.get(url)  # warm
        rows[label] = timed_requests(client, [url] * args.requests)
    result["pages"] = rows
    result["company"], result["region"] = company.name, region.name
    print(f"\nReps' portal on {result['database']}, {result['members']:,} memberships")
    if "recount_s" in result:
        print(f"recount-kpis: {result['recount_s']} s for {result['recount_days']} days, {result['recount_rows']:,} "
              f"node-days, highest RSS after a day {result['recount_rss_after_mb']} MB")
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}")
    for label, figures in rows.items():
        target = TARGETS.get(label, 50)
        print(f"{label:<24} {figures['median_ms']:>8} {figures['p95_ms']:>8} {'≤ ' + str(target):>8}")
    out = args.out or ROOT / "benchmarks" / "results" / f"reps-{result['database']}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written {out}")


if __name__ == "__main__":
    main()

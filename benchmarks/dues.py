"""Dues benchmark: the monthly run, deduction notices, an OCR Giro file and an employer return, at scale.

    python benchmarks/dues.py --database sqlite:///var/bench-dues.sqlite3 --members 100000
    python benchmarks/dues.py --database postgresql://postgres@127.0.0.1:5432/tillit_dues --members 1000000

Builds the registry's demo data once (members, memberships with their status history, employments, about
60 % on payroll deduction, a salary each) plus one large employer (a municipality, every 50th deducted
employment moved to it, so one payroll office has a return of 10,000+ rows). Then, in a fresh process so
its memory is the run's own: the run of one month (time, RSS at each chunk and peak), the same run again
(idempotent: nothing written), notices for every payroll office, an OCR Giro file of 100,000 payments
written with netsgiro and booked, and a 10,000-row employer return. Prints a table; writes JSON to
benchmarks/results/.
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

from benchmarks.registry import setup  # noqa: E402

TARGETS = {"postgresql": {"run_s": 300, "notices_s": 60, "ocr_s": 30, "return_s": 5},
           "sqlite": {"run_s": 60, "notices_s": 60, "ocr_s": 30, "return_s": 5}}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(members: int, seed: int) -> dict:
    from django.db import connection

    from tillit.registry import demo, services
    from tillit.registry.models import Employer, Employment, OrgUnit, Person

    if Person.objects.exists():
        return {}
    demo.DEMO_EXTENSIONS[:] = []  # the registry only: the run is what is measured here
    start = time.perf_counter()
    demo.load_demo(members=members, seed=seed, progress=lambda s: print(f"  demo: {s}", end="\r", flush=True))
    print()
    region = OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION, country="NO").order_by("pk").first()
    company = services.create_employer("Storby kommune", "company", org_number="964338531", channel="system")
    place = services.create_employer("Storby kommune, sentraladministrasjonen", "workplace", parent=company,
                                     region=region, channel="system")
    from django.db.models import F
    from django.db.models.functions import Mod

    Employment.objects.filter(payroll_deduction=True, workplace__country="NO").annotate(
        every=Mod(F("pk"), 50)).filter(every=0).update(workplace=place)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"build_seconds": round(time.perf_counter() - start, 1),
            "big_employer_deductions": Employment.objects.filter(workplace=place).count(),
            "payroll_units": Employer.objects.exclude(kind="workplace").count()}


def measure(period: datetime.date) -> dict:
    import netsgiro  # noqa: F401 - imported before the baseline, like the rest of the code

    from tillit.dues import giro, notices, returns
    from tillit.dues import run as runs
    from tillit.dues.demo import SCHEDULES, ocr_file
    from tillit.dues.models import DuesPolicy, FeeSchedule, Invoice, LedgerEntry
    from tillit.registry.models import Employer, Membership, MembershipType

    if not FeeSchedule.objects.exists():
        DuesPolicy.objects.create(bank_account="15032012345", nets_customer_id="00012345",
                                  nets_agreement_id="000123456")
        for code, (kind, amount, rate, floor, ceiling) in SCHEDULES.items():
            FeeSchedule.objects.create(membership_type=MembershipType.objects.get(code=code), kind=kind,
                                       valid_from=datetime.date(2000, 1, 1), amount=amount * 100, rate=rate,
                                       minimum=floor * 100, maximum=ceiling * 100 if ceiling is not None else None)
    out = {"memberships": Membership.objects.count()}
    samples = []
    baseline = rss_mb()
    start = time.perf_counter()
    run = runs.run_period(period, progress=lambda r: samples.append((r.processed, round(rss_mb(), 1))))
    out["run_s"] = round(time.perf_counter() - start, 1)
    out["run_members"], out["run_totals"] = run.processed, run.totals
    out["rss_before_mb"] = round(baseline, 1)
    out["rss_first_chunk_mb"] = samples[0][1] if samples else None
    out["rss_last_chunk_mb"] = samples[-1][1] if samples else None
    # sampled, not ru_maxrss: Linux keeps the forking parent's high-water mark across exec
    out["peak_rss_mb"] = max((rss for _n, rss in samples), default=round(rss_mb(), 1))
    start = time.perf_counter()
    runs.DuesRun.objects.filter(pk=run.pk).update(status="running", cursor=0, processed=0)
    again = runs.run_period(period)
    out["rerun_s"] = round(time.perf_counter() - start, 1)
    out["rerun_new_charges"] = LedgerEntry.objects.filter(kind="charge", period=period).count() - run.processed
    assert again.status == "done"
    start = time.perf_counter()
    out["notices"] = notices.make_notices(period)
    out["notices_s"] = round(time.perf_counter() - start, 1)

    payments = list(Invoice.objects.filter(charge__period=period).order_by("pk").values_list("kid", "amount")[:100_000])
    data = ocr_file(payments, number=f"{period:%y%m}001", date=period + datetime.timedelta(days=20)).encode()
    start = time.perf_counter()
    found, _new = giro.read_file(data, filename="bench-ocr.txt")
    out["ocr_s"] = round(time.perf_counter() - start, 1)
    out["ocr_transactions"], out["ocr_booked"] = found.transactions, found.booked

    unit = Employer.objects.get(org_number="964338531")
    lines = notices.full_list(unit, period)[:10_000]
    rows = ["member_number;period;amount"] + [f"{line['member_number']};{period:%Y-%m};{line['amount'] // 100},"
                                              f"{line['amount'] % 100:02d}" for line in lines]
    start = time.perf_counter()
    ret = returns.receive_return(unit, "\n".join(rows).encode(), filename="bench-return.csv")
    out["return_s"] = round(time.perf_counter() - start, 2)
    out["return_rows"], out["return_deviations"] = ret.rows, ret.deviations
    out["rss_after_all_steps_mb"] = round(rss_mb(), 1)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", default="")
    parser.add_argument("--measure", action="store_true", help="(internal) the measuring child process")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TILLIT_LOG_LEVEL", "ERROR")
    setup(args.database)
    from django.core.management import call_command
    from django.db import connection

    from tillit.dues.models import DuesRun, add_months

    if args.measure:
        print(json.dumps(measure(datetime.date.fromisoformat(args.period))))
        return
    call_command("migrate", verbosity=0)
    result = {"database": connection.vendor, "machine": f"{os.cpu_count()} cores",
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              **build(args.members, args.seed)}
    latest = DuesRun.objects.order_by("-period").first()
    period = add_months(latest.period, 1) if latest else datetime.date.today().replace(day=1)
    connection.close()
    child = subprocess.run([sys.executable, __file__, "--database", args.database, "--measure", "--period",
                            period.isoformat()], capture_output=True, text=True, check=False)
    if child.returncode:
        print(child.stdout, child.stderr)
        raise SystemExit(child.returncode)
    result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    targets = TARGETS[result["database"]]
    print(f"\nDues on {result['database']}, {result['memberships']:,} memberships, period {period:%Y-%m}")
    print(f"{'step':<40} {'figure':>14} {'target':>10}")
    rows = [("monthly run (s)", result["run_s"], f"≤ {targets['run_s']}"),
            ("  members charged", result["run_members"], ""),
            ("  RSS before / first / last chunk (MB)",
             f"{result['rss_before_mb']:.0f}/{result['rss_first_chunk_mb']:.0f}/{result['rss_last_chunk_mb']:.0f}", ""),
            ("  highest RSS after a chunk (MB)", result["peak_rss_mb"], "flat"),
            ("the same run again (s)", result["rerun_s"], ""),
            ("  new charges the second time", result["rerun_new_charges"], "0"),
            (f"notices, {result['notices']} payroll offices (s)", result["notices_s"], f"≤ {targets['notices_s']}"),
            (f"OCR Giro, {result['ocr_transactions']:,} payments (s)", result["ocr_s"], f"≤ {targets['ocr_s']}"),
            (f"employer return, {result['return_rows']:,} rows (s)", result["return_s"],
             f"≤ {targets['return_s']}")]
    rows.append(("RSS after every step (MB)", result["rss_after_all_steps_mb"], ""))
    for label, figure, target in rows:
        print(f"{label:<40} {figure!s:>14} {target:>10}")
    out = args.out or ROOT / "benchmarks" / "results" / f"dues-{result['database']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()

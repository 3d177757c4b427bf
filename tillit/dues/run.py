"""The monthly run: one charge per member per period, in chunks that each commit whole.

Idempotent (a membership already charged for the period is skipped, and a finished run is returned as it
is) and resumable (each chunk moves the run's cursor in the same transaction as its charges, so a crash
loses at most the chunk in flight, and the next start goes on from the cursor).
"""

import calendar
import datetime
import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from tillit.core import audit
from tillit.core.bulk import insert_dicts
from tillit.dues import access, kid
from tillit.dues.charges import charge_for_month, schedule_on
from tillit.dues.ledger import refresh_accounts, save_accounts
from tillit.dues.models import DuesAccount, DuesRun, FeeSchedule, Invoice, LedgerEntry, policy
from tillit.registry.models import Employer, Employment, Membership, MembershipPeriod

log = logging.getLogger(__name__)
CHUNK = 2000
TOTAL_KEYS = ("members", "charged", "amount", "exempt", "deduction", "deduction_amount", "invoices",
              "invoice_amount")


def parse_period(raw: str) -> datetime.date:
    """"2027-01" → 2027-01-01; ValueError with a readable message otherwise."""
    text = str(raw or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2 or not 2000 <= int(year) <= 2099:
            raise ValueError
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"period must be a month as YYYY-MM from 2000 to 2099, like 2027-01 (got {text[:20]!r})"
                         ) from None


def month_end(period: datetime.date) -> datetime.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def in_force(period: datetime.date):
    return Membership.objects.member_during(period, month_end(period))


class PayrollUnits:
    """Which payroll office deducts for a workplace: the nearest node above it that handles payroll, else its
    company (else the workplace itself)."""

    def __init__(self):
        self.nodes = {path: (pk, kind, handles) for pk, path, kind, handles in Employer.objects.exclude(
            kind=Employer.Kind.WORKPLACE).values_list("pk", "path", "kind", "handles_payroll")}
        self.steplen = Employer.steplen

    def of(self, workplace_id: int, path: str) -> int:
        company = None
        for end in range(self.steplen, len(path), self.steplen):
            node = self.nodes.get(path[:end])
            if node is None:
                continue
            if node[2]:
                return node[0]
            if node[1] == Employer.Kind.COMPANY:
                company = node[0]
        return company or workplace_id


def _due_on(period: datetime.date, method: str, due_day: int) -> datetime.date:
    if method == LedgerEntry.Method.DEDUCTION:
        return month_end(period)
    return period.replace(day=min(due_day, calendar.monthrange(period.year, period.month)[1]))


def compute_chunk(memberships: list[dict], period: datetime.date, *, schedules, rule, units: PayrollUnits,
                  due_day: int) -> list[dict]:
    """The charges of these memberships for the period, as plain values (no writes)."""
    last = month_end(period)
    ids = [m["pk"] for m in memberships]
    periods = defaultdict(list)
    for mid, status, valid_from, valid_to, reason in MembershipPeriod.objects.overlapping(period, last).filter(
            membership_id__in=ids).order_by("valid_from", "pk").values_list(
            "membership_id", "status", "valid_from", "valid_to", "reason"):
        periods[mid].append((status, valid_from, valid_to, reason))
    jobs = defaultdict(list)
    for person_id, workplace_id, path, deduct, salary in Employment.objects.current_during(period, last).filter(
            person_id__in=[m["person_id"] for m in memberships]).order_by("starts_on", "pk").values_list(
            "person_id", "workplace_id", "workplace__path", "payroll_deduction", "monthly_salary"):
        jobs[person_id].append((workplace_id, path, deduct, salary))
    out = []
    for m in memberships:
        person_jobs = jobs.get(m["person_id"], [])
        salaries = [j[3] for j in person_jobs if j[3] is not None]
        charge = charge_for_month(
            year=period.year, month=period.month, joined_on=m["joined_on"], ends_on=m["ends_on"],
            periods=periods.get(m["pk"], []), schedule=schedule_on(schedules, m["membership_type_id"], period),
            salary=sum(salaries) if salaries else None, rule=rule)
        if charge is None:
            continue
        method, unit = LedgerEntry.Method.NONE, None
        if charge.amount > 0:
            deducting = [j for j in person_jobs if j[2]]
            if deducting:
                method, unit = LedgerEntry.Method.DEDUCTION, units.of(deducting[-1][0], deducting[-1][1])
            else:
                method = LedgerEntry.Method.INVOICE
        out.append({"membership": m, "amount": charge.amount, "reason": charge.reason[:200], "method": method,
                    "payroll_unit": unit, "due_on": _due_on(period, method, due_day) if charge.amount else None})
    return out


def totals_of(charges: list[dict], into: dict | None = None) -> dict:
    totals = into if into is not None else dict.fromkeys(TOTAL_KEYS, 0)
    for c in charges:
        totals["members"] += 1
        if c["amount"] > 0:
            totals["charged"] += 1
            totals["amount"] += c["amount"]
        else:
            totals["exempt"] += 1
        if c["method"] == LedgerEntry.Method.DEDUCTION:
            totals["deduction"] += 1
            totals["deduction_amount"] += c["amount"]
        elif c["method"] == LedgerEntry.Method.INVOICE:
            totals["invoices"] += 1
            totals["invoice_amount"] += c["amount"]
    return totals


def _memberships_after(period, cursor: int, limit: int) -> list[dict]:
    return list(in_force(period).filter(pk__gt=cursor).order_by("pk").values(
        "pk", "person_id", "membership_type_id", "joined_on", "ends_on", "person__country",
        "person__preferred_language")[:limit])


def _context():
    p = policy()
    return {"schedules": list(FeeSchedule.objects.all()), "rule": p.partial_month, "units": PayrollUnits(),
            "due_day": p.due_day}, p


def dry_run(period: datetime.date) -> dict:
    """What a run for the period would charge, computed and not written."""
    context, _p = _context()
    totals, cursor = dict.fromkeys(TOTAL_KEYS, 0), 0
    already = set(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period)
                  .values_list("membership_id", flat=True))
    while batch := _memberships_after(period, cursor, CHUNK):
        cursor = batch[-1]["pk"]
        totals_of(compute_chunk([m for m in batch if m["pk"] not in already], period, **context), totals)
    totals["already_charged"] = len(already)
    return totals


def start_run(period: datetime.date, *, actor) -> DuesRun:
    """The run for the period, made (and audited) if new; a finished one is returned unchanged."""
    access.check(actor, lambda: access.may_run(actor))
    with transaction.atomic():
        run, created = DuesRun.objects.get_or_create(
            period=period, defaults={"started_by": actor if getattr(actor, "pk", None) else None,
                                     "total": in_force(period).count(), "totals": dict.fromkeys(TOTAL_KEYS, 0)})
        if created:
            audit.record("dues.run.started", run, actor=actor, channel="ui", changes={"period": [None, str(run)]})
    return run


def _write_chunk(run: DuesRun, charges: list[dict], p, exact_accounts: bool) -> None:
    now = timezone.now()
    entries = insert_dicts(LedgerEntry, [
        {"person_id": c["membership"]["person_id"], "membership_id": c["membership"]["pk"],
         "kind": LedgerEntry.Kind.CHARGE, "period": run.period, "amount": c["amount"], "due_on": c["due_on"],
         "method": c["method"], "payroll_unit_id": c["payroll_unit"], "reason": c["reason"],
         "source": LedgerEntry.Source.RUN, "run_id": run.pk, "created_at": now} for c in charges])
    invoices = []
    for entry, c in zip(entries, charges, strict=True):
        if c["method"] != LedgerEntry.Method.INVOICE:
            continue
        method = "mod10" if c["membership"]["person__country"] == "SE" else p.kid_method
        invoices.append({"charge_id": entry["id"], "person_id": entry["person_id"], "amount": entry["amount"],
                         "due_on": entry["due_on"], "language": c["membership"]["person__preferred_language"],
                         "kid": kid.make_reference(entry["membership_id"], run.period.year, run.period.month,
                                                   method=method)})
    insert_dicts(Invoice, invoices)
    charged = [e for e in entries if e["amount"] > 0]
    if exact_accounts:
        refresh_accounts([e["person_id"] for e in charged])
        return
    # Charges of the newest period come last in due order: only someone fully covered before can change.
    accounts = {pk: (balance, uncovered) for pk, balance, uncovered in DuesAccount.objects.filter(
        person_id__in=[e["person_id"] for e in charged]).values_list("person_id", "balance", "uncovered_due_on")}
    figures = {}
    for e in charged:
        balance, uncovered = figures.get(e["person_id"]) or accounts.get(e["person_id"], (0, None))
        balance += e["amount"]
        if uncovered is None and balance > 0:
            uncovered = e["due_on"]
        figures[e["person_id"]] = (balance, uncovered)
    save_accounts(figures)


def run_period(period: datetime.date, *, actor=None, progress=None, stop_after_chunks: int | None = None) -> DuesRun:
    """Charge every member in force in the period (see the module's docstring). `progress(run)` after each
    chunk; `stop_after_chunks` stops early (to show resuming)."""
    run = start_run(period, actor=actor)
    if run.status == DuesRun.Status.DONE:
        return run
    context, p = _context()
    exact_accounts = DuesRun.objects.filter(period__gt=period).exists() or LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.CHARGE, period__gt=period).exists()
    chunks = 0
    while True:
        with transaction.atomic():
            run = DuesRun.objects.select_for_update().get(pk=run.pk)
            if run.status == DuesRun.Status.DONE:
                break
            batch = _memberships_after(period, run.cursor, CHUNK)
            if not batch:
                run.status, run.finished_at = DuesRun.Status.DONE, timezone.now()
                run.total = max(run.total, run.processed)
                DuesRun.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at,
                                                          total=run.total)
                audit.record("dues.run.finished", run, actor=actor, channel="system",
                             changes={"totals": [None, run.totals]})
                break
            done = set(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period,
                                                  membership_id__in=[m["pk"] for m in batch])
                       .values_list("membership_id", flat=True))
            charges = compute_chunk([m for m in batch if m["pk"] not in done], period, **context)
            _write_chunk(run, charges, p, exact_accounts)
            run.totals = totals_of(charges, {**dict.fromkeys(TOTAL_KEYS, 0), **run.totals})
            run.cursor, run.processed = batch[-1]["pk"], run.processed + len(batch)
            DuesRun.objects.filter(pk=run.pk).update(cursor=run.cursor, processed=run.processed, totals=run.totals)
        chunks += 1
        if progress:
            progress(run)
        if stop_after_chunks is not None and chunks >= stop_after_chunks:
            break
    log.info("dues run %s: %s of %s memberships", run, run.processed, run.total)
    return run


@task()
def run_in_background(period_iso: str, actor_id: int | None = None) -> str:
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return str(run_period(datetime.date.fromisoformat(period_iso), actor=actor).status)


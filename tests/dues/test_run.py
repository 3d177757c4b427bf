"""The monthly run: one charge per member and period, the same however often it runs, resumable mid-way."""

import datetime

import pytest

from tests.dues.conftest import PERIOD
from tillit.dues import kid
from tillit.dues import run as runs
from tillit.dues.models import DuesAccount, DuesRun, Invoice, LedgerEntry
from tillit.registry import services
from tillit.registry.models import Membership

pytestmark = pytest.mark.django_db


def _charges():
    return sorted(LedgerEntry.objects.filter(kind="charge").values_list(
        "membership_id", "period", "amount", "method", "payroll_unit_id", "due_on", "reason"))


def test_running_twice_gives_identical_charges(dues):
    first = runs.run_period(PERIOD)
    charges, invoices = _charges(), sorted(Invoice.objects.values_list("kid", "amount", "due_on"))
    again = runs.run_period(PERIOD)
    assert again.pk == first.pk and again.status == DuesRun.Status.DONE
    assert _charges() == charges and sorted(Invoice.objects.values_list("kid", "amount", "due_on")) == invoices
    assert len(charges) == Membership.objects.count() == 6


def test_a_run_whose_record_was_lost_charges_no_one_twice(dues):
    runs.run_period(PERIOD)
    charges = _charges()
    LedgerEntry.objects.filter(kind="charge").update(run=None)
    DuesRun.objects.all().delete()
    runs.run_period(PERIOD)
    assert _charges() == charges


def test_a_run_stopped_mid_way_goes_on_from_where_it_stopped(dues, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK", 2)
    stopped = runs.run_period(PERIOD, stop_after_chunks=1)
    assert stopped.status == DuesRun.Status.RUNNING and stopped.processed == 2
    assert LedgerEntry.objects.filter(kind="charge").count() == 2
    seen = []
    done = runs.run_period(PERIOD, progress=lambda r: seen.append(r.percent))
    assert done.status == DuesRun.Status.DONE and done.processed == 6 and seen[-1] == 100
    assert LedgerEntry.objects.filter(kind="charge").count() == 6
    assert done.totals["members"] == 6 and done.totals["amount"] == 6 * 40_000


def test_deduction_lines_go_to_the_company_and_the_others_get_a_checked_kid(dues):
    runs.run_period(PERIOD)
    a = dues.a
    deducted = LedgerEntry.objects.filter(kind="charge", person__in=[p for p, _m in a.members[:2]])
    assert {(e.method, e.payroll_unit_id, e.due_on) for e in deducted} == {
        ("deduction", a.company.pk, datetime.date(2027, 1, 31))}
    invoice = Invoice.objects.get(person=a.members[2][0])
    assert invoice.amount == 40_000 and invoice.due_on == datetime.date(2027, 1, 20)
    assert kid.is_valid(invoice.kid, "mod10") and kid.membership_of(invoice.kid) == a.members[2][1].pk
    assert DuesAccount.objects.get(person=a.members[2][0]).uncovered_due_on == invoice.due_on


def test_an_exempt_member_gets_a_zero_charge_with_the_reason_and_nothing_to_deduct(dues):
    person, membership = dues.a.members[0]
    services.change_membership_status(membership, "exempt", on=datetime.date(2026, 12, 1), actor=None,
                                      reason="parental leave")
    runs.run_period(PERIOD)
    entry = LedgerEntry.objects.get(kind="charge", membership=membership)
    assert (entry.amount, entry.method, entry.payroll_unit_id) == (0, "none", None)
    assert "parental leave" in entry.reason


def test_a_status_change_mid_month_is_charged_pro_rata(dues):
    _person, membership = dues.a.members[2]
    services.change_membership_status(membership, "exempt", on=datetime.date(2027, 1, 21), actor=None,
                                      reason="unemployed")
    runs.run_period(PERIOD)
    entry = LedgerEntry.objects.get(kind="charge", membership=membership)
    assert entry.amount == 25_800  # 20 of 31 days of 400 kr = 258.06 → 258 kr
    assert Invoice.objects.get(charge=entry).amount == 25_800


def test_the_dry_run_writes_nothing_and_shows_the_same_totals(dues):
    totals = runs.dry_run(PERIOD)
    assert not LedgerEntry.objects.exists() and not DuesRun.objects.exists()
    run = runs.run_period(PERIOD)
    assert {k: v for k, v in totals.items() if k != "already_charged"} == run.totals
    assert run.totals == {"members": 6, "charged": 6, "amount": 240_000, "exempt": 0, "deduction": 4,
                          "deduction_amount": 160_000, "invoices": 2, "invoice_amount": 80_000}


def test_the_cli_runs_and_refuses_a_malformed_period(dues):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("dues", "run", period="2027-01", stdout=out)
    assert "100.0 %" in out.getvalue() and LedgerEntry.objects.filter(kind="charge").count() == 6
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("dues", "run", period="2027-1")

"""Demo dues: fee schedules, the last two months' runs and notices, an employer return with deviations, a bank
file paying most invoices, and an employer login for the payroll office with the most deductions."""

import datetime
import decimal
import random

import netsgiro
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from tillit.dues import giro, notices, returns
from tillit.dues import run as runs
from tillit.dues.models import DuesPolicy, FeeSchedule, Invoice, LedgerEntry, add_months
from tillit.registry.demo import DEMO_LOGINS, DEMO_PASSWORD
from tillit.registry.models import Employer, MembershipType

SCHEDULES = {  # membership type: (kind, amount kr, rate 1/100 %, floor kr, ceiling kr)
    "ordinary": ("percent", 0, 140, 250, 750), "student": ("fixed", 50, 0, 0, None),
    "retired": ("fixed", 120, 0, 0, None), "associate": ("fixed", 200, 0, 0, None)}
LOGIN = ("payroll", "an employer's payroll office: its own deduction notices and returns")
if LOGIN not in DEMO_LOGINS:
    DEMO_LOGINS.append(LOGIN)


def ocr_file(payments: list[tuple[str, int]], *, number: str, date: datetime.date) -> str:
    """An OCR Giro file from Nets paying (KID, øre) each, as netsgiro writes it."""
    transmission = netsgiro.Transmission(number=number, data_transmitter="00008080", data_recipient="00012345",
                                         date=date)
    assignment = transmission.add_assignment(service_code=netsgiro.ServiceCode.OCR_GIRO,
                                             assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
                                             agreement_id="000123456", number=number, account="15032012345",
                                             date=date)
    for i, (kid, amount) in enumerate(payments, 1):
        assignment.transactions.append(netsgiro.Transaction(
            service_code=netsgiro.ServiceCode.OCR_GIRO, type=netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT,
            number=i, date=date, amount=decimal.Decimal(amount) / 100, kid=kid, reference=f"{i:09d}", text=None,
            centre_id="01", day_code=date.day, partial_settlement_number=1, partial_settlement_serial_number="00001",
            sign="0", form_number="0000000000", bank_date=date, debit_account="12345678903", filler="0000000"))
    return transmission.to_ocr() + "\n"


OCR_PAYMENTS = 20_000  # about 3 MB of OCR Giro: well within what giro.read_file takes (50 MB)


def load_dues_demo(*, members: int, seed: int = 1) -> None:
    rng = random.Random(seed + 11)
    DuesPolicy.objects.all().delete()
    DuesPolicy.objects.create(bank_account="15032012345", nets_customer_id="00012345", nets_agreement_id="000123456")
    since = datetime.date(2000, 1, 1)
    for code, (kind, amount, rate, floor, ceiling) in SCHEDULES.items():
        mtype = MembershipType.objects.filter(code=code).first()
        if mtype and not FeeSchedule.objects.filter(membership_type=mtype).exists():
            FeeSchedule.objects.create(membership_type=mtype, kind=kind, valid_from=since, amount=amount * 100,
                                       rate=rate, minimum=floor * 100,
                                       maximum=ceiling * 100 if ceiling is not None else None)
    for company in Employer.objects.filter(kind=Employer.Kind.COMPANY, payroll_email=""):
        company.payroll_email = f"lonn{company.pk}@example.no"
        company.save(update_fields=["payroll_email"])
    this_month = timezone.localdate().replace(day=1)
    periods = [add_months(this_month, -2), add_months(this_month, -1)]
    for period in periods:
        runs.run_period(period)
        notices.make_notices(period)
    busiest = (LedgerEntry.objects.filter(period=periods[-1], method=LedgerEntry.Method.DEDUCTION)
               .values("payroll_unit").annotate(n=Count("pk")).order_by("-n", "payroll_unit").first())
    if busiest is None:
        return
    unit = Employer.objects.get(pk=busiest["payroll_unit"])
    User = get_user_model()
    payroll = User.objects.filter(username="payroll").first() or User.objects.create_user(
        username="payroll", password=DEMO_PASSWORD)
    from tillit.core.services import grant_access

    grant_access(payroll, "payroll", "employer", unit, actor=None, channel="system")
    # The payroll office's return for last month: one amount wrong, one member left out.
    lines = notices.full_list(unit, periods[-1])
    rows = ["member_number;period;amount"]
    for i, line in enumerate(lines):
        if i == 1:
            continue
        amount = line["amount"] - (5000 if i == 0 else 0)
        rows.append(f"{line['member_number']};{periods[-1]:%Y-%m};{amount // 100},{amount % 100:02d}")
    if len(rows) > 1:
        returns.receive_return(unit, "\n".join(rows).encode(), filename=f"trekk-{periods[-1]:%Y-%m}.csv")
    # The bank: most invoices of both months paid, one with a KID that is not ours. One file, as a bank sends a
    # day's payments: at most OCR_PAYMENTS (a demo of a million members has more invoices than a file may hold).
    invoices = Invoice.objects.filter(charge__period__in=periods).order_by("pk").values_list("kid", "amount")
    paid = [pair for pair in invoices[:OCR_PAYMENTS * 2] if rng.random() < 0.75][:OCR_PAYMENTS]
    paid.append(("99999999999999", 45000))
    giro.read_file(ocr_file(paid, number="0000001", date=periods[-1] + datetime.timedelta(days=24)).encode(),
                   filename="ocr-demo.txt")

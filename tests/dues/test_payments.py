"""Money in: OCR Giro files from the bank (netsgiro-made), AvtaleGiro, and employers' returns."""

import datetime
import decimal

import netsgiro
import pytest

from tests.dues.conftest import PERIOD
from tillit.core.errors import ConflictError, InvalidInput
from tillit.dues import giro, kid, returns
from tillit.dues import run as runs
from tillit.dues.demo import ocr_file
from tillit.dues.ledger import statement
from tillit.dues.models import Deviation, DuesAccount, GiroAgreement, GiroFile, Invoice, LedgerEntry

pytestmark = pytest.mark.django_db
PAID_ON = datetime.date(2027, 1, 18)


def _snapshot():
    return (list(LedgerEntry.objects.order_by("pk").values()), list(Invoice.objects.order_by("pk").values()),
            list(Deviation.objects.order_by("pk").values()), list(GiroFile.objects.values()),
            list(DuesAccount.objects.order_by("pk").values()))


def test_an_ocr_file_pays_the_invoices_of_its_kids_and_books_once(dues):
    runs.run_period(PERIOD)
    a, b = Invoice.objects.get(person=dues.a.members[2][0]), Invoice.objects.get(person=dues.b.members[2][0])
    data = ocr_file([(a.kid, a.amount), (b.kid, 30_000), ("12345678903", 100)], number="0170031", date=PAID_ON)
    assert netsgiro.parse(data).get_num_transactions() == 3  # the library reads back what it wrote
    found, new = giro.read_file(data.encode(), filename="ocr.txt")
    assert new and (found.transactions, found.booked, found.deviations) == (3, 2, 2)
    a.refresh_from_db(), b.refresh_from_db()
    assert a.is_paid and a.paid_at is not None and not b.is_paid and b.paid == 30_000
    assert statement(a.person, datetime.date(2027, 2, 1))["outstanding"] == 0
    assert statement(b.person, datetime.date(2027, 2, 1))["outstanding"] == 10_000
    assert set(Deviation.objects.values_list("kind", flat=True)) == {"underpaid", "unknown_kid"}
    before = _snapshot()
    again, new = giro.read_file(data.encode(), filename="ocr.txt")
    assert not new and again.pk == found.pk and _snapshot() == before


def test_an_ocr_file_with_one_corrupt_record_is_refused_whole_naming_the_line(dues):
    runs.run_period(PERIOD)
    invoice = Invoice.objects.first()
    lines = ocr_file([(invoice.kid, invoice.amount), (invoice.kid, 100)], number="0170032", date=PAID_ON).splitlines()
    lines[5] = lines[5][:40] + "X" * 10 + lines[5][50:]  # the second payment's first amount record
    before = _snapshot()
    with pytest.raises(InvalidInput) as refused:
        giro.read_file("\n".join(lines).encode(), filename="broken.txt")
    assert "line 6" in refused.value.message and "Nothing was booked" in refused.value.message
    assert _snapshot() == before
    with pytest.raises(InvalidInput, match="line 2 is 79 characters"):
        giro.read_file("\n".join([lines[0], lines[1][:-1], *lines[2:]]).encode())


def test_avtalegiro_agreements_are_read_and_payment_requests_written(dues):
    run = runs.run_period(PERIOD)
    invoice = Invoice.objects.get(person=dues.a.members[2][0])
    transmission = netsgiro.Transmission(number="0000077", data_transmitter="00008080", data_recipient="00012345",
                                         date=PAID_ON)
    assignment = transmission.add_assignment(service_code=netsgiro.ServiceCode.AVTALEGIRO,
                                             assignment_type=netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS,
                                             number="0000077", account="15032012345")
    assignment.transactions.append(netsgiro.Agreement(
        service_code=netsgiro.ServiceCode.AVTALEGIRO, number=1,
        registration_type=netsgiro.AvtaleGiroRegistrationType.NEW_OR_UPDATED_AGREEMENT, kid=invoice.kid,
        notify=True))
    found, _new = giro.read_file(transmission.to_ocr().encode(), filename="agreements.txt")
    assert found.kind == GiroFile.Kind.AGREEMENTS and found.booked == 1
    assert GiroAgreement.objects.get().membership_id == kid.membership_of(invoice.kid)
    requests = giro.payment_requests(run)
    parsed = netsgiro.parse(requests.content)
    (request,) = parsed.assignments[0].transactions
    assert request.kid == invoice.kid and request.amount == decimal.Decimal("400.00")


def _return(rows, header="national_id;member_number;period;amount"):
    return ("\n".join([header, *rows]) + "\n").encode()


def test_an_employer_return_with_a_wrong_amount_lands_in_the_deviation_queue(dues):
    runs.run_period(PERIOD)
    (p0, m0), (p1, m1), _ = dues.a.members
    ret = returns.receive_return(dues.a.company, _return([f";{m0.member_number};2027-01;400,00",
                                                          f"{p1.national_id};;2027-01;350"]), filename="jan.csv")
    assert (ret.rows, ret.matched, ret.deviations, ret.amount) == (2, 1, 1, 75_000)
    deviation = Deviation.objects.get()
    assert (deviation.kind, deviation.person_id, deviation.expected, deviation.actual) == (
        "amount_differs", p1.pk, 40_000, 35_000)
    assert statement(p0, datetime.date(2027, 2, 1))["outstanding"] == 0
    assert statement(p1, datetime.date(2027, 2, 1))["outstanding"] == 5_000
    from tillit.dues.deviations import resolve

    resolve(deviation, "correct", actor=dues.admin, note="salary was lowered")
    assert statement(p1, datetime.date(2027, 2, 1))["outstanding"] == 0
    with pytest.raises(ConflictError):
        returns.receive_return(dues.a.company, _return([f";{m0.member_number};2027-01;400,00",
                                                        f"{p1.national_id};;2027-01;350"]), filename="again.csv")


def test_the_same_return_as_xlsx_after_csv_books_nothing_and_a_deduction_booked_twice_is_a_deviation(dues):
    """A return sent again as XLSX after the same rows as CSV was booked a second time with no deviation: a return
    is recognised by its office, period and rows, and a second booking of a deduction is a deviation."""
    import io

    import openpyxl

    runs.run_period(PERIOD)
    (p0, m0), (p1, m1), _ = dues.a.members
    rows = [("", m0.member_number, "2027-01", "400"), (p1.national_id, "", "2027-01", "400")]
    returns.receive_return(dues.a.company, _return([";".join(r) for r in rows]), filename="jan.csv")
    book = openpyxl.Workbook()
    book.active.append(["national_id", "member_number", "period", "amount"])
    for row in reversed(rows):
        book.active.append(list(row))
    xlsx = io.BytesIO()
    book.save(xlsx)
    before = _snapshot()
    with pytest.raises(ConflictError, match="received already"):
        returns.receive_return(dues.a.company, xlsx.getvalue(), filename="jan.xlsx")
    assert _snapshot() == before
    # a second return for the period with one of the same deductions again: not credited, a deviation
    again = returns.receive_return(dues.a.company, _return([f";{m0.member_number};2027-01;400"]), filename="fix.csv")
    assert again.amount == 0 and statement(p0, datetime.date(2027, 2, 1))["outstanding"] == 0
    assert Deviation.objects.get(employer_return=again).kind == "deducted_again"


def test_a_member_left_out_and_an_unknown_person_are_deviations_too(dues):
    runs.run_period(PERIOD)
    _p0, m0 = dues.a.members[0]
    returns.receive_return(dues.a.company, _return([f";{m0.member_number};2027-01;400", ";999999;2027-01;400"]))
    assert sorted(Deviation.objects.values_list("kind", flat=True)) == ["not_deducted", "unknown_person"]


def test_a_return_with_malformed_rows_is_refused_whole_with_every_bad_row_named(dues):
    runs.run_period(PERIOD)
    _p0, m0 = dues.a.members[0]
    before = _snapshot()
    with pytest.raises(InvalidInput) as refused:
        returns.receive_return(dues.a.company, _return([f";{m0.member_number};2027-01;400",
                                                        ";;2027-01;400", f";{m0.member_number};2027-13;400",
                                                        f";{m0.member_number};2027-01;4x0"]))
    named = " ".join(refused.value.field_errors["file"])
    assert "row 3" in named and "row 4" in named and "row 5" in named and "row 2" not in named
    assert _snapshot() == before
    with pytest.raises(InvalidInput, match="missing: amount"):
        returns.receive_return(dues.a.company, _return([";1;2027-01"], header="member_number;x;period"))


@pytest.mark.parametrize("day", [datetime.date(2027, 1, 15), datetime.date(2027, 3, 1), datetime.date(2026, 12, 1)])
def test_what_is_outstanding_is_the_same_summed_in_hand_as_asked_of_the_database(world, day):
    """The person page sums the entries it shows when it has them all; the ledger's own query must agree."""
    from tillit.dues.ledger import outstanding_amount

    person = world.a.members[0][0]
    for kind, amount, due in [("charge", 40_000, datetime.date(2027, 1, 20)), ("charge", 40_000,
                              datetime.date(2027, 2, 20)), ("charge", 12_500, None), ("payment", -30_000, None),
                              ("correction", -5_000, datetime.date(2027, 1, 1)), ("correction", 2_000, None),
                              ("write_off", -1_000, datetime.date(2027, 2, 1))]:
        LedgerEntry.objects.create(person=person, kind=kind, amount=amount, due_on=due, source="staff")
    in_hand = list(LedgerEntry.objects.filter(person=person))
    assert outstanding_amount(person, day, in_hand) == outstanding_amount(person, day)
    assert statement(person, day, in_hand) == statement(person, day)

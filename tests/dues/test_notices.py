"""Deduction notices: exactly the starts, stops and changes since the previous notice, kept as made."""

import csv
import datetime
import io

import openpyxl
import pytest
from pypdf import PdfReader

from tests.dues.conftest import PERIOD
from tillit.dues import notices
from tillit.dues import run as runs
from tillit.dues.models import DeductionNotice, FeeSchedule, add_months
from tillit.registry import services
from tillit.registry.models import Employment, Membership

pytestmark = pytest.mark.django_db
FEB, MAR = add_months(PERIOD, 1), add_months(PERIOD, 2)


def _month(period):
    runs.run_period(period)
    notices.make_notices(period)


def _lines(unit, period):
    return {(line["member_number"], line["kind"], line["amount"])
            for line in DeductionNotice.objects.get(payroll_unit=unit, period=period).lines}


def test_notices_list_exactly_what_changed_since_the_previous_one(dues):
    a = dues.a
    (p0, m0), (p1, m1), (p2, m2) = a.members
    _month(PERIOD)
    assert _lines(a.company, PERIOD) == {(m0.member_number, "start", 40_000), (m1.member_number, "start", 40_000)}
    # February: member 1 leaves the job, member 2 starts deduction, nothing else changes
    Employment.objects.filter(person=p1).update(ends_on=datetime.date(2027, 1, 31))
    Employment.objects.filter(person=p2).update(payroll_deduction=True)
    _month(FEB)
    assert _lines(a.company, FEB) == {(m1.member_number, "stop", 0), (m2.member_number, "start", 40_000)}
    stop = next(line for line in DeductionNotice.objects.get(payroll_unit=a.company, period=FEB).lines
                if line["kind"] == "stop")
    assert stop["reason"] == "employment ended or payroll deduction stopped" and stop["previous_amount"] == 40_000
    # March: a new fee (a change for everyone still deducted), member 0 becomes exempt (a stop)
    FeeSchedule.objects.create(membership_type=m0.membership_type, valid_from=MAR, amount=42_000)
    services.change_membership_status(Membership.objects.get(pk=m0.pk), "exempt", on=MAR, actor=None,
                                      reason="parental leave")
    _month(MAR)
    assert _lines(a.company, MAR) == {(m0.member_number, "stop", 0), (m2.member_number, "change", 42_000)}
    assert next(line["reason"] for line in DeductionNotice.objects.get(payroll_unit=a.company, period=MAR).lines
                if line["kind"] == "stop") == "dues-exempt"
    # B's company got only its own people, and each notice chains to the one before it
    assert all(line["member_number"] in {m.member_number for _p, m in dues.b.members}
               for n in DeductionNotice.objects.filter(payroll_unit=dues.b.company) for line in n.lines)
    march = DeductionNotice.objects.get(payroll_unit=a.company, period=MAR)
    assert march.previous.period == FEB and march.previous.previous.period == PERIOD


def test_a_notice_is_made_once_and_never_changed(dues):
    _month(PERIOD)
    notice = DeductionNotice.objects.get(payroll_unit=dues.a.company)
    again = notices.make_notice(dues.a.company, PERIOD)
    assert again.pk == notice.pk and again.sha256 == notice.sha256 and len(notice.sha256) == 64
    notice.lines = []
    with pytest.raises(ValueError):
        notice.save()


def test_a_payroll_office_above_the_company_gets_the_notice(dues):
    from tillit.registry.services import create_employer

    group = create_employer("Konsern ASA", "group", channel="system")
    type(group).objects.move(dues.a.company, group, "last-child")
    group.refresh_from_db()
    type(group).objects.filter(pk=group.pk).update(handles_payroll=True)
    _month(PERIOD)
    assert DeductionNotice.objects.filter(payroll_unit=group).exists()
    assert not DeductionNotice.objects.filter(payroll_unit__name=dues.a.company.name).exists()


def test_notices_and_full_lists_as_csv_xlsx_and_pdf(dues):
    _month(PERIOD)
    notice = DeductionNotice.objects.get(payroll_unit=dues.a.company)
    numbers = {m.member_number for _p, m in dues.a.members[:2]}
    content, kind, name = notices.render(notice.lines, "csv", unit=notice.payroll_unit, period=PERIOD, notice=notice)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert {r["member_number"] for r in rows} == numbers and {r["amount"] for r in rows} == {"400.00"}
    assert name.endswith(".csv") and kind.startswith("text/csv")
    content, _kind, _name = notices.render(notice.lines, "xlsx", unit=notice.payroll_unit, period=PERIOD,
                                           notice=notice)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert {str(r[1]) for r in sheet.iter_rows(min_row=3, values_only=True)} == numbers
    content, kind, _name = notices.render(notice.lines, "pdf", unit=notice.payroll_unit, period=PERIOD,
                                          notice=notice)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert kind == "application/pdf" and all(n in text for n in numbers) and notice.sha256 in text
    full = notices.full_list(dues.a.company, PERIOD)
    assert {line["member_number"] for line in full} == numbers

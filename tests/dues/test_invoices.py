"""Invoices by email over a real SMTP exchange, in the member's language, with the PDF; the reminder round."""

import datetime
import email
import email.policy
import io

import pytest
from pypdf import PdfReader

from tests.dues.conftest import PERIOD
from tests.messaging.test_mail import _deliver_queued
from tillit.dues import invoices
from tillit.dues import run as runs
from tillit.dues.models import Invoice
from tillit.registry.models import Person

pytestmark = pytest.mark.django_db


def _sent(inbox):
    return [email.message_from_bytes(e.content, policy=email.policy.default) for e in inbox.envelopes]


def test_invoices_go_out_once_in_the_members_language_with_the_pdf(dues, smtp,
                                                                    django_capture_on_commit_callbacks):
    a_person, b_person = dues.a.members[2][0], dues.b.members[2][0]
    Person.objects.filter(pk=a_person.pk).update(preferred_language="nb")
    Person.objects.filter(pk=b_person.pk).update(preferred_language="sv", country="SE")
    run = runs.run_period(PERIOD)
    with django_capture_on_commit_callbacks(execute=False):
        assert invoices.email_invoices(run) == 2
        assert invoices.email_invoices(run) == 0  # each invoice once
    _deliver_queued()
    mails = {m["To"]: m for m in _sent(smtp)}
    nb, sv = mails[a_person.email], mails[b_person.email]
    assert nb["Subject"] == "Medlemskontingent 2027-01" and sv["Subject"] == "Medlemsavgift 2027-01"
    kid = Invoice.objects.get(person=a_person).kid
    assert kid in nb.get_body(("plain",)).get_content()
    (attachment,) = list(nb.iter_attachments())
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Faktura for medlemskontingent 2027-01" in text and kid in text and "400,00" in text


def test_reminders_come_after_the_days_set_and_only_once(dues, smtp,
                                                         django_capture_on_commit_callbacks):
    runs.run_period(PERIOD)
    invoice = Invoice.objects.get(person=dues.a.members[2][0])
    due = invoice.due_on
    with django_capture_on_commit_callbacks(execute=False):
        assert invoices.remind_round(due + datetime.timedelta(days=13)) == {"first": 0, "second": 0}
        assert invoices.remind_round(due + datetime.timedelta(days=14)) == {"first": 2, "second": 0}
        assert invoices.remind_round(due + datetime.timedelta(days=20)) == {"first": 0, "second": 0}
        Invoice.objects.filter(pk=invoice.pk).update(paid=invoice.amount, paid_at=datetime.datetime.now(datetime.UTC))
        assert invoices.remind_round(due + datetime.timedelta(days=28)) == {"first": 0, "second": 1}
    _deliver_queued()
    subjects = sorted(m["Subject"] for m in _sent(smtp))
    assert subjects == ["Andre purring: medlemskontingent 2027-01",  # the members read bokmål
                        "Purring: medlemskontingent 2027-01", "Purring: medlemskontingent 2027-01"]

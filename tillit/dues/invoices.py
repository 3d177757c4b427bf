"""Invoices: PDF (one, or a run's batch), email in the member's language, and the reminder round."""

import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.dues.models import DuesRun, Invoice, policy
from tillit.dues.pdf import invoices_pdf


def kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    whole, cents = divmod(abs(ore), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{cents:02d}"


def payment_instructions(person, today) -> dict:
    """How the member pays what is open: each unpaid invoice (what is left, KID, due date) with the account to pay
    to, and the workplaces that deduct the dues from their pay."""
    from django.db.models import F

    from tillit.registry.models import Employment

    invoices = [{"kid": i.kid, "left": kroner(i.amount - i.paid), "due_on": i.due_on, "overdue": i.due_on < today}
                for i in Invoice.objects.filter(person=person, paid__lt=F("amount")).order_by("due_on", "pk")[:12]]
    deducting = list(Employment.objects.current_on(today).filter(person=person, payroll_deduction=True)
                     .values_list("workplace__name", flat=True))
    return {"invoices": invoices, "account": format_account(policy().bank_account), "deducting": deducting}


def format_account(number: str) -> str:
    """A Norwegian account number as printed on a giro (1503.20.12345); any other as it is."""
    return f"{number[:4]}.{number[4:6]}.{number[6:]}" if len(number) == 11 and number.isdigit() else number


def _page(invoice: Invoice, account: str) -> dict:
    person, charge = invoice.person, invoice.charge
    reference_label = _("OCR reference") if person.country == "SE" else _("KID")
    lines = [(_("Member"), person.full_name), (_("Address"), ", ".join(
        x for x in [person.address_line, f"{person.postal_code} {person.city}".strip()] if x) or "-"),
        (_("Period"), f"{charge.period:%Y-%m}"), (_("Membership dues"), kroner(charge.amount))]
    if charge.reason:
        lines.append((_("Note"), charge.reason))
    if account:
        lines.append((_("Pay to account"), account))
    return {"title": _("Invoice for membership dues %(p)s") % {"p": f"{charge.period:%Y-%m}"}, "lines": lines,
            "reference_label": reference_label, "reference": invoice.kid, "amount_label": _("Amount"),
            "amount": kroner(invoice.amount), "due_label": _("Due date"), "due": invoice.due_on.isoformat()}


def invoice_pdf(invoice: Invoice) -> bytes:
    with translation.override(invoice.language):
        return invoices_pdf([_page(invoice, policy().bank_account)])


def run_invoices(run: DuesRun):
    return Invoice.objects.filter(charge__run=run).select_related("person", "charge").order_by("pk")


def batch_pdf(invoices) -> bytes:
    account, pages = policy().bank_account, []
    for invoice in invoices:
        with translation.override(invoice.language):
            pages.append(_page(invoice, account))
    return invoices_pdf(pages)


def _send(invoice: Invoice, subject_text: str, body_text: str) -> bool:
    from tillit.messaging.outbox import queue_email

    person = invoice.person
    if not person.email:
        return False
    with translation.override(invoice.language):
        subject = subject_text % {"p": f"{invoice.charge.period:%Y-%m}"}
        body = body_text % {"name": person.first_name, "amount": kroner(invoice.amount), "kid": invoice.kid,
                            "due": invoice.due_on.isoformat()}
        queue_email(address=person.email, subject=subject, body=body, person=person,
                    attachments=[(f"invoice-{invoice.kid}.pdf", "application/pdf", invoice_pdf(invoice))])
    return True


def email_invoices(run: DuesRun) -> int:
    """Email every invoice of the run not emailed yet (each marked in the same transaction as its message)."""
    sent = 0
    for invoice in run_invoices(run).filter(emailed_at__isnull=True, person__email__gt=""):
        with transaction.atomic():
            if Invoice.objects.filter(pk=invoice.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
                with translation.override(invoice.language):
                    sent += _send(invoice, _("Membership dues %(p)s"),
                                  _("Hello %(name)s,\n\nyour membership dues invoice is attached: %(amount)s, "
                                    "KID %(kid)s, due %(due)s.\n"))
    return sent


@task()
def email_invoices_task(run_id: int) -> int:
    run = DuesRun.objects.filter(pk=run_id).first()
    return email_invoices(run) if run else 0


def remind_round(today: datetime.date | None = None) -> dict:
    """Reminders for unpaid invoices: the first `reminder_days` after the due date, the second after
    `second_reminder_days`; each at most once."""
    today = today or timezone.localdate()
    p = policy()
    counts = {"first": 0, "second": 0}
    unpaid = Invoice.objects.select_related("person", "charge").filter(paid_at__isnull=True)
    for field, days, key in (("reminded_at", p.reminder_days, "first"),
                             ("second_reminded_at", p.second_reminder_days, "second")):
        extra = {"reminded_at__isnull": False} if key == "second" else {}
        for invoice in unpaid.filter(**{f"{field}__isnull": True, "due_on__lte": today - datetime.timedelta(days=days)},
                                     **extra):
            if invoice.is_paid:
                continue
            with transaction.atomic():
                if not Invoice.objects.filter(pk=invoice.pk, **{f"{field}__isnull": True}).update(
                        **{field: timezone.now()}):
                    continue
                with translation.override(invoice.language):
                    subject = (_("Reminder: membership dues %(p)s") if key == "first"
                               else _("Second reminder: membership dues %(p)s"))
                    _send(invoice, subject, _("Hello %(name)s,\n\nwe have not received your membership dues of "
                                              "%(amount)s (KID %(kid)s), due %(due)s. The invoice is attached.\n"))
            counts[key] += 1
    return counts


@task()
def remind_task() -> dict:
    return remind_round()

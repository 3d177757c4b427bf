"""The deviation queue: what returns and bank files did not match, each resolved by one action.

accept   the booking stands as it is (or nothing is booked, for an unknown person or KID)
correct  book a correction: the difference for a wrong amount, or the payment on the member it belongs to
write    email the payroll office about it (its address on the employer), and keep it open no longer
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError, InvalidInput
from tillit.core.scopes import DUES, scope_for
from tillit.dues import access
from tillit.dues.invoices import kroner
from tillit.dues.ledger import parse_amount, refresh_accounts
from tillit.dues.models import Deviation, LedgerEntry, payroll_scope_q
from tillit.registry.models import Membership, Person

ACTIONS = ("accept", "correct", "write")


def visible_deviations(user):
    """Deviations about people the user sees, about payroll offices they reach, and (people unknown, from the
    bank) to anyone who handles dues."""
    scope = scope_for(user, DUES)
    if scope.empty:
        return Deviation.objects.none()
    if scope.everything:
        return Deviation.objects.all()
    unit_q = payroll_scope_q(user, DUES, "payroll_unit__")
    return Deviation.objects.filter(
        Q(person__in=Person.objects.visible_to(user).values("pk"))
        | (Q(person__isnull=True) & Q(payroll_unit__isnull=False) & unit_q)
        | (Q(person__isnull=True) & Q(payroll_unit__isnull=True)))


@transaction.atomic
def resolve(deviation: Deviation, action: str, *, actor, note: str = "", amount=None, member_number: str = "",
            expected_version: int | None = None, channel: str = "ui") -> Deviation:
    access.check(actor, lambda: access.may_resolve(actor, deviation))
    errors: dict[str, list[str]] = {}
    if action not in ACTIONS:
        errors["action"] = [_("Choose accept, correct or write to the employer.")]
    note = (note or "").strip()
    if len(note) > 300 or any(ord(c) < 32 for c in note):
        errors["note"] = [_("One line of at most 300 characters.")]
    if deviation.status != Deviation.Status.OPEN:
        raise ConflictError(_("This deviation was resolved already."))
    entry_person, ore = deviation.person_id, None
    if action == "correct":
        if deviation.kind in (Deviation.Kind.UNKNOWN_PERSON, Deviation.Kind.UNKNOWN_KID):
            membership = Membership.objects.filter(member_number=(member_number or "").strip()).first()
            if membership is None or not Person.objects.visible_to(actor).filter(pk=membership.person_id).exists():
                errors["member_number"] = [_("Give the member number of the member this payment belongs to.")]
            else:
                entry_person = membership.person_id
                ore = -(deviation.actual or 0)
        else:
            ore = parse_amount(amount, "amount", errors) if amount not in (None, "") else None
            if ore is None and not errors.get("amount"):
                # the default correction: what was asked, less what came in, is written off or charged
                ore = (deviation.actual or 0) - (deviation.expected or 0)
        if ore == 0 and not errors:
            errors["amount"] = [_("Nothing to correct: the difference is zero.")]
    if action == "write":
        unit = deviation.payroll_unit
        if unit is None or not unit.payroll_email:
            errors["action"] = [_("The employer has no payroll office email; add it on the employer first.")]
    if errors:
        raise InvalidInput(_("The deviation was not resolved."), field_errors=errors)
    status = {"accept": Deviation.Status.ACCEPTED, "correct": Deviation.Status.CORRECTED,
              "write": Deviation.Status.WRITTEN}[action]
    updated = Deviation.objects.filter(pk=deviation.pk, status=Deviation.Status.OPEN,
                                       version=deviation.version if expected_version is None else expected_version)
    if not updated.update(status=status, resolved_by=actor, resolved_at=timezone.now(), resolution=note,
                          version=deviation.version + 1):
        raise ConflictError(_("Someone else resolved or changed this deviation meanwhile. Reload it."))
    if action == "correct":
        LedgerEntry.objects.create(
            person_id=entry_person, membership_id=deviation.membership_id, kind=LedgerEntry.Kind.CORRECTION,
            period=deviation.period, amount=ore, due_on=timezone.localdate() if ore > 0 else None,
            reason=(note or _("correction of a deviation: %(d)s") % {"d": deviation.get_kind_display()})[:200],
            source=LedgerEntry.Source.STAFF, created_by=actor)
        refresh_accounts([entry_person])
    if action == "write":
        from tillit.messaging.outbox import queue_email

        unit = deviation.payroll_unit
        queue_email(address=unit.payroll_email, subject=_("Payroll deduction %(p)s: a question") % {
            "p": f"{deviation.period:%Y-%m}" if deviation.period else ""},
            body=_("Hello,\n\nin your return for %(p)s we found: %(k)s (%(r)s). Asked: %(e)s, deducted: %(a)s.\n"
                   "%(n)s\n") % {"p": f"{deviation.period:%Y-%m}" if deviation.period else "",
                                 "k": deviation.get_kind_display(), "r": deviation.reference,
                                 "e": kroner(deviation.expected or 0), "a": kroner(deviation.actual or 0), "n": note})
    deviation.refresh_from_db()
    audit.record("dues.deviation.resolved", deviation, actor=actor, channel=channel, person_id=entry_person,
                 changes={"status": [Deviation.Status.OPEN, status], "resolution": [None, note],
                          **({"amount": [None, ore]} if ore is not None else {})})
    return deviation

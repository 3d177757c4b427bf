"""The ledger's figures: balances, what is outstanding, who is in arrears; and staff entries (corrections)."""

import datetime

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import InvalidInput
from tillit.dues import access
from tillit.dues.models import DuesAccount, LedgerEntry, add_months, policy
from tillit.registry.models import Person

CHUNK = 1000


def _figures(entries) -> tuple[int, datetime.date | None]:
    """(balance, due date of the oldest charge not covered) from (amount, due_on) in due order: credits
    (negative entries) cover the charges oldest first."""
    credits = -sum(a for a, _d in entries if a < 0)
    balance, covered, uncovered = sum(a for a, _d in entries), 0, None
    for amount, due_on in entries:
        if amount <= 0:
            continue
        covered += amount
        if covered > credits:
            uncovered = due_on
            break
    return balance, uncovered


def refresh_accounts(person_ids) -> None:
    """Recompute the accounts of these people from their whole ledger (exact; used after payments and
    corrections)."""
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        per_person = {pk: [] for pk in chunk}
        for person_id, amount, due_on in (LedgerEntry.objects.filter(person_id__in=chunk)
                                          .order_by("person_id", "due_on", "pk")
                                          .values_list("person_id", "amount", "due_on")):
            per_person[person_id].append((amount, due_on or datetime.date.min))
        save_accounts({pk: _figures(entries) for pk, entries in per_person.items()})


def save_accounts(figures: dict[int, tuple[int, datetime.date | None]]) -> None:
    """Write these people's (balance, uncovered due date): one upsert statement for all of them."""
    if not figures:
        return
    sqlite = connection.vendor == "sqlite"
    rows = [(pk, balance, uncovered.isoformat() if sqlite and uncovered else uncovered)
            for pk, (balance, uncovered) in figures.items()]
    table = DuesAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" (person_id, balance, uncovered_due_on) VALUES (%s, %s, %s) '
            "ON CONFLICT (person_id) DO UPDATE SET balance = excluded.balance, "
            "uncovered_due_on = excluded.uncovered_due_on", rows)


def outstanding_q(day: datetime.date, prefix: str = "") -> Q:
    """People with outstanding dues on `day`: a charge fell due before it and payments do not cover it."""
    return Q(**{f"{prefix}dues_account__uncovered_due_on__lt": day})


def in_arrears_q(day: datetime.date, prefix: str = "") -> Q:
    """People whose oldest uncovered charge fell due more than the policy's months before `day`."""
    months = policy().arrears_months
    return Q(**{f"{prefix}dues_account__uncovered_due_on__lt": add_months(day.replace(day=1), -months)})


def _own_entries(day: datetime.date):
    """The entries that make up a member's own arrears on `day`: what they pay themselves (not collected by payroll
    deduction) and fell due before the day, and every credit except an employer's return. A deduction the employer
    has not reported yet is the employer's to settle, so it is not the member's arrears."""
    return (LedgerEntry.objects.exclude(method=LedgerEntry.Method.DEDUCTION)
            .exclude(source=LedgerEntry.Source.RETURN).filter(Q(amount__lt=0) | Q(amount__gt=0, due_on__lt=day)))


def own_arrears_sum(day: datetime.date, ref: str = "person_id") -> Subquery:
    """The member's own arrears (øre, may be ≤ 0: nothing owed) for the person `ref` names, as a subquery."""
    return Subquery(_own_entries(day).filter(person_id=OuterRef(ref)).order_by().values("person_id")
                    .annotate(total=Sum("amount")).values("total")[:1])


def own_arrears(person_ids, day: datetime.date) -> dict[int, int]:
    """{person id: øre} for those of `person_ids` who owe something of their own on `day`."""
    sums = (_own_entries(day).filter(person_id__in=list(person_ids)).order_by().values("person_id")
            .annotate(total=Sum("amount")).values_list("person_id", "total"))
    return {pk: total for pk, total in sums if total and total > 0}


def outstanding_amount(person: Person, day: datetime.date, entries=None) -> int:
    """Charges due before `day` that payments and credits do not cover (never below zero). `entries`: every one
    of the person's ledger entries, when the caller has them all (the sum is then made here, not asked again)."""
    if entries is not None:
        due = sum(e.amount for e in entries if e.amount > 0 and e.due_on is not None and e.due_on < day)
        credits = sum(e.amount for e in entries if e.amount < 0)
        return max(0, due + credits)
    sums = LedgerEntry.objects.filter(person=person).aggregate(
        due=Sum("amount", filter=Q(amount__gt=0, due_on__lt=day)), credits=Sum("amount", filter=Q(amount__lt=0)))
    return max(0, (sums["due"] or 0) + (sums["credits"] or 0))


def statement(person: Person, day: datetime.date | None = None, entries=None) -> dict:
    """The person's balance, what is outstanding and whether they are in arrears (`entries`: as for
    outstanding_amount)."""
    day = day or timezone.localdate()
    account = DuesAccount.objects.filter(person=person).first()
    uncovered = account.uncovered_due_on if account else None
    months = policy().arrears_months
    return {"balance": account.balance if account else 0, "outstanding": outstanding_amount(person, day, entries),
            "uncovered_due_on": uncovered if uncovered and uncovered < day else None,
            "in_arrears": bool(uncovered and uncovered < add_months(day.replace(day=1), -months)),
            "arrears_months": months}


ENTRY_KINDS = {LedgerEntry.Kind.CORRECTION, LedgerEntry.Kind.WRITE_OFF, LedgerEntry.Kind.PAYMENT}


def parse_amount(raw, field: str, errors: dict) -> int | None:
    """Kroner as typed ("1 234,50", "-200", "99.5") → øre; None with a message in `errors`."""
    text = str(raw or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    whole, _dot, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)) or len(whole) > 11:
        errors.setdefault(field, []).append(_("Give an amount in kroner, like 450 or 450,50."))
        return None
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


@transaction.atomic
def add_entry(person: Person, *, kind: str, amount, reason: str, actor, channel: str = "ui",
              period: datetime.date | None = None) -> LedgerEntry:
    """A staff entry on a member's account: a correction (either sign), a write-off or a payment received
    outside the bank files. `amount` in kroner as typed; payments and write-offs reduce what is owed."""
    access.check(actor, lambda: access.may_keep_account(actor, person))
    errors: dict[str, list[str]] = {}
    if kind not in ENTRY_KINDS:
        errors["kind"] = [_("Choose correction, write-off or payment.")]
    ore = parse_amount(amount, "amount", errors)
    if ore == 0:
        errors.setdefault("amount", []).append(_("The amount cannot be zero."))
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why, for the member's statement and the audit trail.")]
    elif len(reason) > 200 or any(ord(c) < 32 for c in reason):
        errors["reason"] = [_("One line of at most 200 characters.")]
    if errors:
        raise InvalidInput(_("The entry was not booked."), field_errors=errors)
    if kind in (LedgerEntry.Kind.WRITE_OFF, LedgerEntry.Kind.PAYMENT):
        ore = -abs(ore)
    today = timezone.localdate()
    entry = LedgerEntry.objects.create(
        person=person, membership=person.memberships.order_by("-joined_on").first(), kind=kind, amount=ore,
        period=period, due_on=today if ore > 0 else None, reason=reason, source=LedgerEntry.Source.STAFF,
        created_by=actor if getattr(actor, "pk", None) else None)
    audit.record("dues.entry.created", entry, actor=actor, channel=channel, person_id=person.pk,
                 changes=audit.snapshot(entry, ["kind", "amount", "reason"]))
    refresh_accounts([person.pk])
    return entry

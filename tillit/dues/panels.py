"""The dues section of the person page: balance, arrears, the ledger, invoices, and member service's entries."""

from django.utils import timezone

from tillit.core.scopes import DUES
from tillit.dues.invoices import kroner
from tillit.dues.ledger import statement
from tillit.dues.models import LedgerEntry
from tillit.registry.models import may

SHOWN = 60


def person_dues(request, person):
    # Only the shown columns (and the invoice's): the whole of both tables was most of the section's time.
    entries = list(LedgerEntry.objects.filter(person=person).select_related("invoice").only(
        "person_id", "kind", "period", "amount", "due_on", "method", "source", "reason", "created_at",
        "invoice__kid", "invoice__amount", "invoice__paid", "invoice__charge_id").order_by("-created_at", "-pk")
        [:SHOWN + 1])
    every = entries if len(entries) <= SHOWN else None  # all of them in hand: what is outstanding needs no query
    entries = entries[:SHOWN]
    if not entries:
        if not may(request.user, DUES, person):
            return None
        account = {"balance": 0, "outstanding": 0, "uncovered_due_on": None, "in_arrears": False}
    else:
        account = statement(person, timezone.localdate(), every)
    rows = [{"e": e, "amount": kroner(e.amount), "invoice": getattr(e, "invoice", None)} for e in entries]
    return "dues/_panel.html", {"rows": rows, "balance": kroner(account["balance"]),
                                "outstanding": kroner(account["outstanding"]), "account": account,
                                "can_book": may(request.user, DUES, person), "person": person,
                                "kinds": [k for k in LedgerEntry.Kind.choices if k[0] != LedgerEntry.Kind.CHARGE]}

"""The dues section of the person page: balance, arrears, the ledger, invoices, and member service's entries."""

from django.utils import timezone

from tillit.core.scopes import DUES
from tillit.dues.invoices import kroner
from tillit.dues.ledger import statement
from tillit.dues.models import LedgerEntry
from tillit.registry.models import may


def person_dues(request, person):
    entries = list(LedgerEntry.objects.filter(person=person).select_related("invoice")
                   .order_by("-created_at", "-pk")[:60])
    if not entries:
        if not may(request.user, DUES, person):
            return None
        account = {"balance": 0, "outstanding": 0, "uncovered_due_on": None, "in_arrears": False}
    else:
        account = statement(person, timezone.localdate())
    rows = [{"e": e, "amount": kroner(e.amount), "invoice": getattr(e, "invoice", None)} for e in entries]
    return "dues/_panel.html", {"rows": rows, "balance": kroner(account["balance"]),
                                "outstanding": kroner(account["outstanding"]), "account": account,
                                "can_book": may(request.user, DUES, person), "person": person,
                                "kinds": [k for k in LedgerEntry.Kind.choices if k[0] != LedgerEntry.Kind.CHARGE]}

"""Erasure of a person (GDPR Art. 17): what `anonymise_person` removes besides the person's own fields.

The person's values, as they are now and as the history shows they were (old names, addresses, emails), are
removed from the audit trail (who, when and which fields stay), from the person's login, and, through the
erasers other apps register, from the texts that name them: their cases' titles and timelines, their documents'
titles and extracted text, the mail to and from them, their requests and corrections, and every search index
built from those. What is kept, and why, is in docs/operations.md ("Erasure").
"""

import re

from django.contrib.auth import get_user_model

from tillit.core.models import AuditEntry
from tillit.registry.fields import IDENTIFYING

# Values this short name too much else (a postal code, an initial) to be replaced in free text.
SHORTEST = 4
REPLACEMENT = "[…]"

# Functions (person, scrub) that erase the person from an app's own records; apps register them when ready.
ERASERS = []


class Scrub:
    """The values to erase, and how to remove them from a text or from JSON data (case-insensitive)."""

    def __init__(self, values):
        kept = sorted({str(v).strip() for v in values if v and len(str(v).strip()) >= SHORTEST}, key=len,
                      reverse=True)
        self.values = kept
        self.pattern = re.compile("|".join(re.escape(v) for v in kept), re.IGNORECASE) if kept else None

    def found_in(self, text) -> bool:
        return bool(self.pattern and isinstance(text, str) and self.pattern.search(text))

    def text(self, text):
        if not self.pattern or not isinstance(text, str):
            return text
        return self.pattern.sub(REPLACEMENT, text)

    def data(self, value):
        """JSON data with every string scrubbed (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.data(v) for k, v in value.items()}
        return value


def values_of(person) -> list[str]:
    """The person's identifying values now and in their history (from → to of every change to the person)."""
    from tillit.registry.identity import format_national_id

    values = []
    for field in IDENTIFYING:
        value = getattr(person, field)
        if value:
            values.append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    values.append(f"{person.first_name} {person.last_name}")
    for changes in AuditEntry.objects.filter(person_id=person.pk, object_type="registry.person").values_list(
            "changes", flat=True):
        for field in IDENTIFYING:
            pair = changes.get(field)
            if isinstance(pair, list):
                values += [str(v) for v in pair if v]
            elif pair:
                values.append(str(pair))
    ids = [v for v in values if v.isdigit() and len(v) in (11, 12)]
    values += [format_national_id(v) for v in ids]
    if person.phone:
        values.append(person.phone.replace("+47", "").replace("+46", "").strip())
    return values


def erase_history(person, scrub: Scrub) -> None:
    """The person's audit entries keep who, when and which fields changed; their values go (person fields
    emptied, anything else scrubbed of the person's values)."""
    for entry in AuditEntry.objects.filter(person_id=person.pk).only("pk", "changes"):
        changes = {}
        for key, value in entry.changes.items():
            if key in IDENTIFYING or key in ("search_name",):
                changes[key] = [None, None] if isinstance(value, list) else None
            else:
                changes[key] = scrub.data(value)
        if changes != entry.changes:
            AuditEntry.objects.filter(pk=entry.pk).update(changes=changes)


def erase_login(person) -> None:
    """The person's login goes with them: closed, its names and address emptied, its username no longer theirs."""
    if not person.user_id:
        return
    user = get_user_model().objects.get(pk=person.user_id)
    user.username, user.first_name, user.last_name, user.email = f"erased-{user.pk}", "", "", ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["username", "first_name", "last_name", "email", "is_active", "password"])


def scrub_rows(queryset, fields, scrub: Scrub) -> list[int]:
    """Rewrite the text and JSON `fields` of the rows without the erased values; the ids of the rows changed."""
    changed = []
    for row in queryset.only("pk", *fields):
        values = {f: scrub.data(getattr(row, f)) for f in fields}
        if any(values[f] != getattr(row, f) for f in fields):
            queryset.model.objects.filter(pk=row.pk).update(**values)
            changed.append(row.pk)
    return changed


def scrub_audit(model, ids, scrub: Scrub) -> None:
    """The audit entries of these objects (a title changed from → to, say) without the erased values."""
    scrub_rows(AuditEntry.objects.filter(object_type=model._meta.label_lower, object_id__in=list(ids)), ["changes"],
               scrub)

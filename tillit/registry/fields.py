"""What each of a person's fields is, declared once.

The audit trail, merging, erasure, the person's own export, the staff export, self-service and the API read
their lists from here, so a field added to `Person` is handled everywhere by one line below (and a test fails
until every model field is either declared here or named as bookkeeping).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonField:
    name: str
    # Given in the person form, the import and the API.
    entered: bool = True
    # Names the person: replaced on erasure (by `erased_to`) and scrubbed from every text that mentions it.
    identifying: bool = False
    erased_to: object = ""
    # On a merge, the survivor's empty value is filled from the duplicate.
    merged: bool = False
    # The person may change it themselves (self-service) and a rep may suggest a correction.
    contact: bool = False
    # In the person's own export (what is held about them) and in the API's reading of a person (a test holds
    # `PersonOut` to this).
    shown: bool = True


PERSON = (
    PersonField("first_name", identifying=True, erased_to="—"),
    PersonField("last_name", identifying=True, erased_to=None),  # None: "#<id>", so the anonymous stay apart
    PersonField("birth_date", identifying=True, erased_to=None, merged=True),
    PersonField("national_id", identifying=True, erased_to=None, merged=True),
    PersonField("email", identifying=True, merged=True, contact=True),
    PersonField("phone", identifying=True, merged=True, contact=True),
    PersonField("address_line", identifying=True, merged=True, contact=True),
    PersonField("postal_code", identifying=True, merged=True, contact=True),
    PersonField("city", identifying=True, merged=True, contact=True),
    PersonField("country"),
    PersonField("preferred_language", contact=True),
    PersonField("unit", merged=True, shown=False),
    PersonField("registered_at", shown=False),
    PersonField("provisional", entered=False, shown=False),
)

# The model's own bookkeeping: not a fact about the person, so none of the lists above names it. `user` is the
# login (erased and moved by its own rules), `search_name` is derived from the names and cleared with them.
BOOKKEEPING = ("id", "user", "search_name", "merged_into", "anonymised_at", "version", "created_at", "updated_at")


def _names(test) -> tuple[str, ...]:
    return tuple(f.name for f in PERSON if test(f))


def _columns(names) -> tuple[str, ...]:
    """Foreign keys by their column (`unit_id`), as the audit trail and `update()` name them."""
    return tuple(f"{n}_id" if n in FOREIGN_KEYS else n for n in names)


FOREIGN_KEYS = ("unit", "registered_at")
ENTERED = _names(lambda f: f.entered)
IDENTIFYING = _names(lambda f: f.identifying)
MERGED = _columns(_names(lambda f: f.merged))
CONTACT = _names(lambda f: f.contact)
SHOWN = _names(lambda f: f.shown)
AUDITED = _columns(_names(lambda f: True))


def erased_values(person) -> dict:
    """Each identifying field's value after erasure."""
    values = {f.name: f.erased_to for f in PERSON if f.identifying}
    values["last_name"] = f"#{person.pk}"
    return values

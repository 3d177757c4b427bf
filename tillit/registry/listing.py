"""Filters for lists of people, shared by the staff UI, the API and exports."""

from django.db.models import Exists, Q
from django.utils import timezone

from tillit.core.audit import log_access_many
from tillit.core.text import as_id
from tillit.registry.models import (
    Employer,
    Employment,
    Membership,
    MembershipStatus,
    OrgUnit,
    _is_large_scope,
    _person_ref,
)
from tillit.registry.search import search_people

FILTERS = ("q", "unit", "workplace", "status", "membership_type")


def clean_filters(params, user=None) -> dict:
    """The known filters from a query dict, as strings, unknown values dropped. With `user`, a workplace typed
    by name in the picker is looked up among the employers the user covers."""
    out = {}
    if user is not None and not (params.get("workplace") or "").strip() and params.get("workplace_name"):
        from tillit.registry.search import picked_employer

        params = params.copy()
        params["workplace"] = str(picked_employer(user, params) or "")
    for key in FILTERS:
        value = (params.get(key) or "").strip()
        if not value:
            continue
        if key in ("unit", "workplace") and not as_id(value) and value != "-1":
            continue
        if key == "status" and value not in MembershipStatus.values:
            continue
        out[key] = value
    return out


def filter_people(people, filters: dict):
    """Narrow an already-scoped queryset of people by unit, workplace, status and membership type."""
    # Correlated EXISTS, so a page in name order stops after its 50 rows instead of sorting the
    # whole filtered set; subtrees are resolved to ids first.
    membership_q = Q()
    if "unit" in filters:
        unit = OrgUnit.objects.filter(pk=filters["unit"]).first()
        units = list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)) if unit else []
        membership_q &= Q(branch_id__in=units)
    if "status" in filters:
        membership_q &= Q(status=filters["status"])
    if "membership_type" in filters:
        membership_q &= Q(membership_type__code=filters["membership_type"])
    if membership_q:
        small_unit = "unit" in filters and not _is_large_scope(units)
        # Every status but "active" is a few per cent of the members: a name-ordered walk that tests each person
        # would pass thousands before the page's 50 (a region's 4th page of those resigning: 275 ms).
        rare_status = filters.get("status") not in (None, MembershipStatus.ACTIVE)
        if small_unit or rare_status:  # a small set: collect its members, then sort those few
            people = people.filter(pk__in=Membership.objects.filter(membership_q).values("person_id"))
        else:
            people = people.filter(Exists(Membership.objects.filter(membership_q).filter(_person_ref())))
    if "workplace" in filters:
        node = Employer.objects.filter(pk=filters["workplace"]).first()
        places = list(Employer.objects.filter(path__startswith=node.path, kind=Employer.Kind.WORKPLACE)
                      .values_list("pk", flat=True)) if node else []
        today = timezone.localdate()
        # A workplace's staff is a small set: collect it (IN) rather than probe every person.
        people = people.filter(pk__in=Employment.objects.current_on(today).filter(workplace_id__in=places)
                               .values("person_id"))
    return people


def people_page(people, filters: dict, *, page: int, size: int = 50):
    """One page of people and whether there is a next; a search orders by relevance, else by name.

    No total count: counting a million rows costs more than the page itself.
    """
    people = filter_people(people, filters)
    offset = (page - 1) * size
    if filters.get("q"):
        found = search_people(people, filters["q"], limit=offset + size + 1)
        rows = found[offset:offset + size + 1]
    else:
        rows = list(people.order_by("last_name", "first_name", "id")[offset:offset + size + 1])
    return rows[:size], len(rows) > size


def people_total(people, filters: dict, *, page: int, size: int, found: int, has_next: bool) -> tuple:
    """What a list of people says of its size: (number, more than that?), None for a search (best matches).

    A list by unit is counted (up to COUNT_CAP, through the memberships' index); a list by status, type or
    workplace tests each person in scope, so it says what the pages so far hold ("more than 100") instead of
    counting them all (300 ms for a region's handler)."""
    from tillit.core.present import capped_count

    if filters.get("q"):
        return None, False
    if set(filters) <= {"unit"}:
        return capped_count(filter_people(people, filters))
    return (page - 1) * size + found, has_next


def log_people_shown(user, rows, *, channel: str, filters: dict) -> None:
    """Every person on a list or search page is in the access log, in one statement for the page."""
    action = "person.search" if filters.get("q") else "person.list"
    log_access_many(user, action, [p.pk for p in rows], channel=channel,
                    detail={k: v for k, v in filters.items() if k != "q"})

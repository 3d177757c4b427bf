"""A rep's member list as a selection: the dashboard figure it starts from, the filters on top, the sort order.

The page, the exports, the API and a message to the selection all read the same `select(user, node, filters)`,
so what a rep sends to is exactly what the list showed them.
"""

import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tillit.registry.models import Employment, MembershipStatus, MembershipType, Person
from tillit.registry.validation import Errors, clean_line, parse_decimal
from tillit.reps import kpis

AGE_BANDS = {"-29": (None, 29), "30-39": (30, 39), "40-49": (40, 49), "50-59": (50, 59), "60-": (60, None)}
SORTS = {"name": ("person__last_name", "person__first_name", "pk"),
         "-name": ("-person__last_name", "-person__first_name", "-pk"),
         "number": ("member_number", "pk"), "-number": ("-member_number", "-pk"),
         "joined": ("joined_on", "pk"), "-joined": ("-joined_on", "-pk")}
SORT_LABELS = {"name": gettext_lazy("Name, A–Z"), "-name": gettext_lazy("Name, Z–A"),
               "number": gettext_lazy("Member number"), "-number": gettext_lazy("Member number, descending"),
               "joined": gettext_lazy("Joined, oldest first"), "-joined": gettext_lazy("Joined, newest first")}
FILTER_KEYS = ("kpi", "workplace", "status", "membership_type", "pct_min", "pct_max", "age", "sort")


def clean(params) -> dict:
    """The list's filters from a query dict; a value that is not one of the choices is refused by field name."""
    errors = Errors()
    out = {"kpi": "members", "sort": "name"}
    kpi = (params.get("kpi") or "").strip()
    if kpi:
        if kpi not in kpis.KPI_NAMES:
            errors.add("kpi", _("Not one of the figures."))
        out["kpi"] = kpi
    workplace = clean_line(params.get("workplace"), "workplace", errors, max_length=100)
    if workplace:
        out["workplace"] = workplace
    status = (params.get("status") or "").strip()
    if status:
        if status not in MembershipStatus.values:
            errors.add("status", _("Not a membership status."))
        out["status"] = status
    mtype = (params.get("membership_type") or "").strip()
    if mtype:
        if not MembershipType.objects.filter(code=mtype[:40]).exists():
            errors.add("membership_type", _("Not a membership type."))
        out["membership_type"] = mtype
    for key in ("pct_min", "pct_max"):
        value = parse_decimal(params.get(key), key, errors) if (params.get(key) or "").strip() else None
        if value is not None:
            out[key] = value
    if "pct_min" in out and "pct_max" in out and out["pct_min"] > out["pct_max"]:
        errors.add("pct_max", _("The highest percentage is below the lowest."))
    age = (params.get("age") or "").strip()
    if age:
        if age not in AGE_BANDS:
            errors.add("age", _("Not an age band."))
        out["age"] = age
    sort = (params.get("sort") or "").strip()
    if sort:
        if sort not in SORTS:
            errors.add("sort", _("Not a sort order."))
        out["sort"] = sort
    errors.raise_if_any()
    return out


def as_query(filters: dict, node_key: str) -> dict:
    """The filters as query parameters (without defaults), for links, saved filters and exports."""
    out = {"node": node_key}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "") or (key, value) in (("kpi", "members"), ("sort", "name")):
            continue
        out[key] = str(value)
    return out


def _birth_range(band: str, today: datetime.date) -> Q:
    low, high = AGE_BANDS[band]
    q = Q()
    if low is not None:  # at least `low` years old: born on or before today, `low` years ago
        q &= Q(person__birth_date__lte=_years_before(today, low))
    if high is not None:  # at most `high`: born after today, high + 1 years ago
        q &= Q(person__birth_date__gt=_years_before(today, high + 1))
    return q & Q(person__birth_date__isnull=False)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def select(user, node, filters: dict, today: datetime.date | None = None):
    """The memberships the list shows: the figure's rule for the node, the filters, people the user may see."""
    today = today or timezone.localdate()
    # Whether each listed member's person is one the user may see: asked per row (a region's visible set is
    # larger than its list), through the same visible_to.
    found = kpis.members(node.tree, node.obj, today, filters.get("kpi", "members")).filter(
        Exists(Person.objects.visible_to(user).filter(pk=OuterRef("person_id"))))
    if "status" in filters:
        found = found.filter(status=filters["status"])
    if "membership_type" in filters:
        found = found.filter(membership_type__code=filters["membership_type"])
    jobs = Q()
    if "workplace" in filters:
        jobs &= Q(workplace__name__icontains=filters["workplace"])
    if "pct_min" in filters:
        jobs &= Q(percentage__gte=filters["pct_min"])
    if "pct_max" in filters:
        jobs &= Q(percentage__lte=filters["pct_max"])
    if jobs:
        if node.tree == "employer":
            jobs &= Q(workplace__path__startswith=node.path)
        found = found.filter(Exists(Employment.objects.current_on(today).filter(jobs, person_id=OuterRef("person_id"))))
    if "age" in filters:
        found = found.filter(_birth_range(filters["age"], today))
    return found.select_related("person").order_by(*SORTS[filters.get("sort", "name")])

"""How the work flows, for a unit's subtree and a period: the figures behind the measurement page."""

import dataclasses
import datetime
import statistics
from collections import defaultdict

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Sum
from django.utils import timezone

from tillit.cases.models import Case, UnitDay, UnitDayState
from tillit.registry.models import OrgUnit

DAY = 86400.0


class Percentiles(Aggregate):
    """PostgreSQL's percentile_cont(ARRAY[...]) WITHIN GROUP (ORDER BY expression): one sort for all."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fractions, **extra):
        super().__init__(expression, fractions=", ".join(str(float(f)) for f in fractions),
                         output_field=ArrayField(DurationField()), **extra)


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclasses.dataclass
class Flow:
    weeks: list[datetime.date]
    opened: list[int]
    closed: list[int]
    backlog: list[int]
    open_now: int
    overdue_now: int
    lead_time_median_days: float | None
    lead_time_p90_days: float | None
    first_response_median_hours: float | None
    first_response_p90_hours: float | None
    days_per_state: dict[str, float]


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def measure(unit: OrgUnit, start: datetime.date, end: datetime.date, *, today: datetime.date | None = None) -> Flow:
    """Figures for the cases of `unit` and everything below it, for the period [start, end].

    Counts per week and time per state come from the per-day counts (cases.daycounts); lead time
    and first response are exact percentiles over the cases closed (opened) in the period.
    """
    today = today or timezone.localdate()
    units = list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
    cases = Case.objects.filter(responsible_unit_id__in=units)
    tz = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    weeks = []
    week = _monday(start)
    while week <= end:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    opened, closed, net = defaultdict(int), defaultdict(int), defaultdict(int)
    # Open cases now: everything ever opened, reopened or moved in, less what closed or moved out.
    change = F("opened") + F("reopened") + F("moved_in") - F("closed") - F("moved_out")
    open_now = UnitDay.objects.filter(unit_id__in=units).aggregate(n=Sum(change))["n"] or 0
    running = open_now
    for day, o, c, r, i, m in UnitDay.objects.filter(unit_id__in=units, day__gte=start).values_list(
            "day", "opened", "closed", "reopened", "moved_in", "moved_out"):
        running -= o + r + i - c - m  # back to the open cases when the period began
        if day <= end:
            w = _monday(day)
            opened[w] += o
            closed[w] += c
            net[w] += o + r + i - c - m
    backlog = []
    for w in weeks:
        running += net[w]
        backlog.append(running)
    lead = _percentiles(cases.filter(closed_at__gte=lo, closed_at__lt=hi), "opened_at", "closed_at", DAY)
    response = _percentiles(cases.filter(opened_at__gte=lo, opened_at__lt=hi, first_response_at__isnull=False),
                            "opened_at", "first_response_at", 3600)
    spent = defaultdict(lambda: [0.0, 0])
    for state, seconds, n in UnitDayState.objects.filter(unit_id__in=units, day__gte=start, day__lte=end).values_list(
            "state", "seconds", "count"):
        spent[state][0] += seconds
        spent[state][1] += n
    return Flow(
        weeks=weeks, opened=[opened[w] for w in weeks], closed=[closed[w] for w in weeks],
        backlog=backlog, open_now=open_now, overdue_now=cases.overdue(today).count(),
        lead_time_median_days=lead[0], lead_time_p90_days=lead[1],
        first_response_median_hours=response[0], first_response_p90_hours=response[1],
        days_per_state={state: round(total / n / DAY, 1) for state, (total, n) in sorted(spent.items()) if n},
    )


def _percentiles(cases, since: str, until: str, unit_seconds: float) -> tuple[float | None, float | None]:
    """Median and 90th percentile of (until - since), in days or hours; computed in the database on
    PostgreSQL (an index-only scan), in Python on SQLite."""
    if connection.vendor == "postgresql":
        # COUNT(*) and the two columns only: an index-only scan of the covering index.
        row = cases.aggregate(n=Count("*"), p=Percentiles(ExpressionWrapper(
            F(until) - F(since), output_field=DurationField()), [0.5, 0.9]))
        if not row["n"]:
            return None, None
        return tuple(round(value.total_seconds() / unit_seconds, 1) for value in row["p"])
    values = [(b - a).total_seconds() / unit_seconds for a, b in cases.values_list(since, until)]
    if not values:
        return None, None
    return round(statistics.median(values), 1), round(_percentile(values, 90), 1)

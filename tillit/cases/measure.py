"""How the work flows, for a unit's subtree and a period: the figures behind the measurement page."""

import dataclasses
import datetime
import statistics
from collections import defaultdict

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from tillit.cases.models import Case, CaseEvent
from tillit.registry.models import OrgUnit

DAY = 86400.0


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
    """Figures for cases held by `unit` and everything below it, opened or closed in [start, end]."""
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
    opened = {r["w"].date() if hasattr(r["w"], "date") else r["w"]: r["n"] for r in
              cases.filter(opened_at__gte=lo, opened_at__lt=hi).annotate(w=TruncWeek("opened_at")).values("w")
              .annotate(n=Count("id"))}
    closed = {r["w"].date() if hasattr(r["w"], "date") else r["w"]: r["n"] for r in
              cases.filter(closed_at__gte=lo, closed_at__lt=hi).annotate(w=TruncWeek("closed_at")).values("w")
              .annotate(n=Count("id"))}
    # The backlog when the period starts, from counts bounded by the period: open now, plus what
    # closed since the start, minus what opened since the start.
    open_now = cases.open().count()
    before = open_now + cases.filter(closed_at__gte=lo).count() - cases.filter(opened_at__gte=lo).count()
    backlog, running = [], before
    for w in weeks:
        running += opened.get(w, 0) - closed.get(w, 0)
        backlog.append(running)
    lead = [(c - o).total_seconds() / DAY for o, c in
            cases.filter(closed_at__gte=lo, closed_at__lt=hi).values_list("opened_at", "closed_at")]
    in_period = cases.filter(opened_at__gte=lo, opened_at__lt=hi)
    response = [(f - o).total_seconds() / 3600 for o, f in
                in_period.filter(first_response_at__isnull=False).values_list("opened_at", "first_response_at")]
    return Flow(
        weeks=weeks, opened=[opened.get(w, 0) for w in weeks], closed=[closed.get(w, 0) for w in weeks],
        backlog=backlog, open_now=open_now, overdue_now=cases.overdue(today).count(),
        lead_time_median_days=round(statistics.median(lead), 1) if lead else None,
        lead_time_p90_days=round(_percentile(lead, 90), 1) if lead else None,
        first_response_median_hours=round(statistics.median(response), 1) if response else None,
        first_response_p90_hours=round(_percentile(response, 90), 1) if response else None,
        days_per_state=_days_per_state(in_period),
    )


def _days_per_state(cases) -> dict[str, float]:
    """Mean days a case spent in each state it has left, from the state changes on the timelines."""
    spent = defaultdict(list)
    events = (CaseEvent.objects.filter(case__in=cases, kind__in=[CaseEvent.Kind.OPENED, CaseEvent.Kind.STATE])
              .order_by("case_id", "at", "pk").values_list("case_id", "at", "kind", "data"))
    current = {}
    for case_id, at, kind, data in events:
        state = data.get("state") if kind == CaseEvent.Kind.OPENED else data.get("to")
        if kind == CaseEvent.Kind.STATE and case_id in current:
            prev_state, since = current[case_id]
            spent[data.get("from_name") or prev_state].append((at - since).total_seconds() / DAY)
        current[case_id] = (data.get("to_name") or state, at)
    return {state: round(statistics.mean(days), 1) for state, days in sorted(spent.items())}

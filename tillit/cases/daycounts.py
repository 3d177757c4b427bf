"""Per unit and day: cases opened, closed, reopened and moved, and time spent per state, kept as the
case services change cases. `rebuild` recounts everything from the cases and their timelines."""

import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from tillit.cases.models import Case as _Case
from tillit.cases.models import CaseEvent as _CaseEvent
from tillit.cases.models import UnitDay as _UnitDay
from tillit.cases.models import UnitDayState as _UnitDayState


def _day(at: datetime.datetime) -> datetime.date:
    return timezone.localtime(at).date()


def _bump(model, key: dict, **deltas) -> None:
    """Add `deltas` to the row for `key`, creating it if it does not exist yet (safe under concurrency)."""
    updates = {name: F(name) + value for name, value in deltas.items()}
    if model.objects.filter(**key).update(**updates):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **deltas)
    except IntegrityError:  # created by a concurrent transaction meanwhile
        model.objects.filter(**key).update(**updates)


def count(unit_id: int, at: datetime.datetime, **deltas) -> None:
    _bump(_UnitDay, {"unit_id": unit_id, "day": _day(at)}, **deltas)


def count_state(unit_id: int, at: datetime.datetime, state: str, seconds: float) -> None:
    _bump(_UnitDayState, {"unit_id": unit_id, "day": _day(at), "state": state[:100]}, seconds=max(0.0, seconds),
          count=1)


@transaction.atomic
def rebuild(progress=None, *, models=None) -> None:
    """Recount from the cases (opened, closed: at their current unit) and the timelines (time per state).

    Transfers and reopenings before the rebuild are not recoverable from the cases alone; the counts
    of open cases are right whatever the history (see measure: the backlog starts from today's count).
    """
    # `models`: (Case, CaseEvent, UnitDay, UnitDayState) as a migration sees them
    Case, CaseEvent, UnitDay, UnitDayState = models or (_Case, _CaseEvent, _UnitDay, _UnitDayState)
    UnitDayState.objects.all().delete()
    UnitDay.objects.all().delete()
    tz = timezone.get_current_timezone()
    rows = defaultdict(lambda: {"opened": 0, "closed": 0})
    for unit_id, day, n in (Case.objects.annotate(d=TruncDate("opened_at", tzinfo=tz))
                            .values("responsible_unit_id", "d").annotate(n=Count("id"))
                            .values_list("responsible_unit_id", "d", "n")):
        rows[(unit_id, day)]["opened"] = n
    for unit_id, day, n in (Case.objects.filter(closed_at__isnull=False).annotate(d=TruncDate("closed_at", tzinfo=tz))
                            .values("responsible_unit_id", "d").annotate(n=Count("id"))
                            .values_list("responsible_unit_id", "d", "n")):
        rows[(unit_id, day)]["closed"] = n
    UnitDay.objects.bulk_create([UnitDay(unit_id=u, day=d, **v) for (u, d), v in rows.items()], batch_size=5000)
    if progress:
        progress("opened and closed")
    spent = defaultdict(lambda: [0.0, 0])
    events = (CaseEvent.objects.filter(kind__in=["opened", "state"])
              .order_by("case_id", "at", "pk")
              .values_list("case_id", "case__responsible_unit_id", "at", "kind", "data"))
    case, state = None, None  # events come case by case, in order: (state name, since) of the current case
    for case_id, unit_id, at, kind, data in events.iterator(chunk_size=20_000):
        if case_id != case:
            case, state = case_id, None
        if kind == "state" and state is not None:
            key = (unit_id, _day(at), (data.get("from_name") or state[0])[:100])
            spent[key][0] += max(0.0, (at - state[1]).total_seconds())
            spent[key][1] += 1
        state = (data.get("to_name") or data.get("state", ""), at)
    UnitDayState.objects.bulk_create([UnitDayState(unit_id=u, day=d, state=s, seconds=v[0], count=v[1])
                                      for (u, d, s), v in spent.items()], batch_size=5000)
    if progress:
        progress("time per state")

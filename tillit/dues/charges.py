"""What a member owes for a month: the fee schedule, exemptions from the status history, pro rata by days.

Pure functions over plain values, so the monthly run computes a chunk of members without a query each.
"""

import calendar
import dataclasses
import datetime

from django.utils.translation import gettext as _

from tillit.dues.models import DuesPolicy, FeeSchedule
from tillit.registry.models import MembershipStatus


def round_kroner_fraction(numerator: int, denominator: int) -> int:
    """numerator/denominator øre rounded to whole kroner, halves up, in integers only."""
    return (2 * numerator + 100 * denominator) // (200 * denominator) * 100


@dataclasses.dataclass
class Charge:
    amount: int
    reason: str
    monthly: int  # the full month's amount before exemption and pro rata


def monthly_amount(schedule: FeeSchedule | None, salary: int | None) -> tuple[int, str]:
    if schedule is None:
        return 0, _("no fee schedule for this membership type")
    if schedule.kind == FeeSchedule.Kind.FIXED:
        return schedule.amount, ""
    if salary is None:
        return schedule.minimum, _("no salary known: the floor is charged")
    amount = round_kroner_fraction(salary * schedule.rate, 10_000)
    amount = max(amount, schedule.minimum)
    if schedule.maximum is not None:
        amount = min(amount, schedule.maximum)
    return amount, ""


def charge_for_month(*, year: int, month: int, joined_on: datetime.date, ends_on: datetime.date | None,
                     periods: list[tuple[str, datetime.date, datetime.date | None, str]],
                     schedule: FeeSchedule | None, salary: int | None, rule: str) -> Charge | None:
    """The month's charge, or None if the membership is not in force in the month.

    `periods`: the membership's status history as (status, valid_from, valid_to exclusive or None, reason).
    Pro rata: each day in force and not dues-exempt pays 1/days-in-month of the monthly amount, rounded to whole
    kroner. First day: the status on the month's first day decides the whole month.
    """
    days = calendar.monthrange(year, month)[1]
    first, last = datetime.date(year, month, 1), datetime.date(year, month, days)
    start, end = max(first, joined_on), min(last, ends_on) if ends_on else last
    if start > end:
        return None
    monthly, why = monthly_amount(schedule, salary)

    def status_on(day):
        for status, valid_from, valid_to, reason in periods:
            if valid_from <= day and (valid_to is None or day < valid_to):
                return status, reason
        return MembershipStatus.ACTIVE, ""

    if rule == DuesPolicy.PartialMonth.FIRST_DAY:
        if start != first:
            return Charge(0, _("joined during the month: charged from the next month"), monthly)
        status, reason = status_on(first)
        if status == MembershipStatus.EXEMPT:
            return Charge(0, _("dues-exempt: %(r)s") % {"r": reason or _("no reason given")}, monthly)
        return Charge(monthly, why, monthly)
    # Days not under any period count as active; periods never overlap, so the exempt days are their overlaps.
    exempt_days, exempt_reasons = 0, []
    for status, valid_from, valid_to, reason in periods:
        if status != MembershipStatus.EXEMPT:
            continue
        overlap = ((min(end, valid_to - datetime.timedelta(days=1)) if valid_to else end)
                   - max(start, valid_from)).days + 1
        if overlap > 0:
            exempt_days += overlap
            if reason not in exempt_reasons:
                exempt_reasons.append(reason)
    paying = (end - start).days + 1 - exempt_days
    if paying == 0:
        return Charge(0, _("dues-exempt: %(r)s") % {"r": ", ".join(r for r in exempt_reasons if r)
                                                        or _("no reason given")}, monthly)
    if paying == days:
        return Charge(monthly, why, monthly)
    amount = round_kroner_fraction(monthly * paying, days)
    parts = [_("%(n)s of %(d)s days") % {"n": paying, "d": days}]
    if exempt_reasons:
        parts.append(_("dues-exempt: %(r)s") % {"r": ", ".join(r for r in exempt_reasons if r) or _("no reason given")})
    if why:
        parts.append(why)
    return Charge(amount, "; ".join(parts), monthly)


def schedule_on(schedules: list[FeeSchedule], membership_type_id: int, day: datetime.date) -> FeeSchedule | None:
    found = None
    for s in schedules:
        if s.membership_type_id == membership_type_id and s.valid_from <= day and (
                s.valid_to is None or s.valid_to >= day):
            found = s  # the latest starting one wins
    return found

"""Business days: weekends and the country's public holidays (Norway, Sweden) do not count."""

import datetime
import functools

import holidays


@functools.lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_business_day(day: datetime.date, country: str = "NO") -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_business_days(start: datetime.date, days: int, country: str = "NO") -> datetime.date:
    """The day `days` business days after `start` (the start itself does not count)."""
    day = start
    left = days
    while left > 0:
        day += datetime.timedelta(days=1)
        if is_business_day(day, country):
            left -= 1
    return day

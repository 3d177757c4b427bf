"""Presenting many rows cheaply: what a list page shows is prepared once in Python (flat values, one
`reverse` per page, each date formatted once) so the template does a few lookups per row, not dozens."""

import datetime
from html import escape as _escape

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeData, mark_safe

_PROBE = 2_147_480_001


def url_maker(name: str, arg: str = "pk"):
    """A function pk → the URL of the named route, from one `reverse` (call it once per request)."""
    head, _sep, tail = reverse(name, kwargs={arg: _PROBE}).partition(str(_PROBE))
    return lambda pk: f"{head}{pk}{tail}"


def esc(value) -> str:
    """`value` escaped for HTML unless it is already safe: what django.utils.html.conditional_escape answers,
    without its check of every argument for lazy text (a tenth of a list page's time at 600 cells a page)."""
    if isinstance(value, SafeData):
        return str(value)
    return _escape(str(value))


def html_rows(row: str, values, separator: str = "\n") -> str:
    """Table rows from one HTML pattern and a tuple of values per row, every value escaped: a list page's
    rows in one string operation instead of the template engine's lookups per cell (the pages' largest
    cost after their query). The same as format_html_join(separator, row, values)."""
    return mark_safe(separator.join(row.format(*map(esc, args)) for args in values))  # noqa: S308 - escaped


# Format characters written here without Django's DateFormat (a tenth of a millisecond a call): zero-padded or
# plain day, month, year, hour, minute, second. A format with any other letter goes to Django's date_format.
_QUICK_CODES = {"d": "{0.day:02d}", "j": "{0.day}", "m": "{0.month:02d}", "n": "{0.month}", "Y": "{0.year:04d}",
                "H": "{0.hour:02d}", "G": "{0.hour}", "i": "{0.minute:02d}", "s": "{0.second:02d}"}


def _quick_pattern(fmt: str) -> str | None:
    """A str.format pattern for a date format of only quick codes and punctuation; None otherwise."""
    if "\\" in fmt or any(c.isalpha() and c not in _QUICK_CODES for c in fmt):
        return None
    return "".join(_QUICK_CODES.get(c) or c.replace("{", "{{").replace("}", "}}") for c in fmt)


class Dates:
    """A named date format (SHORT_DATE_FORMAT, SHORT_DATETIME_FORMAT, …) in the active language, as the template
    filter `date` writes it (an aware time in the local time zone), each distinct value formatted once."""

    def __init__(self, fmt: str = "SHORT_DATE_FORMAT"):
        from django.utils.formats import get_format

        self.fmt, self.seen = fmt, {}
        written = get_format(fmt)
        self.pattern, self.timed = _quick_pattern(written), any(c in "HGis" for c in written)

    def __call__(self, day) -> str:
        if day is None:
            return ""
        text = self.seen.get(day)
        if text is None:
            shown = day
            if isinstance(day, datetime.datetime) and timezone.is_aware(day):
                shown = timezone.localtime(day)
            if self.pattern is not None and (isinstance(shown, datetime.datetime) or not self.timed):
                text = self.pattern.format(shown)
            else:
                text = date_format(shown, self.fmt)
            self.seen[day] = text
        return text


_OPTIONS: dict[tuple, str] = {}  # (value, label) → its <option>, for plain values and labels: written once


def options(choices, selected) -> str:
    """<option> elements for (value, label) pairs, the `selected` value marked; escaped. The option of a plain
    (int or str) value and str label is written once per process: a drop-down of every unit is the same each
    request (lazy labels, which follow the language, and safe ones are written each time)."""
    chosen = str(selected or "")
    parts = []
    for value, label in choices:
        if str(value) == chosen:
            parts.append(f'<option value="{esc(value)}" selected>{esc(label)}</option>')
            continue
        plain = type(label) is str and type(value) in (int, str)
        written = _OPTIONS.get((value, label)) if plain else None
        if written is None:
            written = f'<option value="{esc(value)}">{esc(label)}</option>'
            if plain:
                if len(_OPTIONS) > 50_000:
                    _OPTIONS.clear()
                _OPTIONS[(value, label)] = written
        parts.append(written)
    return mark_safe("".join(parts))  # noqa: S308 - escaped


COUNT_CAP = 1000  # past this a list says "more than 1,000": a scoped count reads every row it counts


def capped_count(qs, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counted up to `cap` (the count reads at most cap + 1 rows), and whether there are more."""
    n = qs.order_by()[:cap + 1].count()
    return min(n, cap), n > cap

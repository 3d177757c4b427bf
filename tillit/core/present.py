"""What list pages share: one `reverse` per page for the rows' links, and counts capped where a scoped count
would read every row."""

from django.urls import reverse

_PROBE = 2_147_480_001


def url_maker(name: str, arg: str = "pk"):
    """A function pk → the URL of the named route, from one `reverse` (call it once per request)."""
    head, _sep, tail = reverse(name, kwargs={arg: _PROBE}).partition(str(_PROBE))
    return lambda pk: f"{head}{pk}{tail}"


COUNT_CAP = 1000  # past this a list says "more than 1,000": a scoped count reads every row it counts


def capped_count(qs, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counted up to `cap` (the count reads at most cap + 1 rows), and whether there are more."""
    n = qs.order_by()[:cap + 1].count()
    return min(n, cap), n > cap

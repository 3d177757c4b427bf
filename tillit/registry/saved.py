"""Saved views of the staff lists: a name for a list's filters and sort, kept per user or shared with a unit."""

from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import InvalidInput
from tillit.core.scopes import EDIT
from tillit.registry.models import OrgUnit, SavedView, units_in_scope

PAGES = {"cases": "cases", "people": "people"}  # page -> the list's URL name
NAME_MAX = 100
QUERY_MAX = 1000


class SavedViewError(InvalidInput):
    pass


def clean_query(query: str) -> str:
    """The list's query string without the page number (a view is the filters and the sort, not a place)."""
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k not in ("page", "view")]
    return urlencode(pairs)


# Every list page shows its saved views: kept for a minute per user, page and scope; saving or deleting any
# view starts a new generation of these entries (registry.apps).
VIEWS_SECONDS = 60


def views_for(user, page: str) -> list[SavedView]:
    """The user's own views of the page and those shared with a unit they work in or one above it (a view
    shared with a region is for the staff of its branches too)."""
    import hashlib

    from tillit.core.kept import kept_in
    from tillit.core.scopes import VIEW, scope_for

    scope = scope_for(user, VIEW)
    covered = "*" if scope.everything else ",".join(sorted(scope.paths["org"]))
    key = f"{user.pk}:{page}:{hashlib.blake2b(covered.encode(), digest_size=8).hexdigest()}"
    return kept_in("saved-views", key, VIEWS_SECONDS, lambda: _read_views(user, page, scope))


def _read_views(user, page: str, scope) -> list[SavedView]:
    from django.db.models import Q

    mine = Q(user=user)
    if scope.everything:
        shared = Q(shared_with__isnull=False)
    else:
        paths = scope.paths["org"]
        step = OrgUnit.steplen
        above = {p[:i] for p in paths for i in range(step, len(p) + 1, step)}
        shared = Q(shared_with__path__in=above)
        for p in paths:
            shared |= Q(shared_with__path__startswith=p)
    return list(SavedView.objects.filter(mine | shared, page=page).select_related("shared_with", "user")
                .defer("user__password").order_by("name", "pk"))


def url_of(view: SavedView) -> str:
    base = reverse(PAGES[view.page])
    return f"{base}?{view.query}&view={view.pk}" if view.query else f"{base}?view={view.pk}"


@transaction.atomic
def save_view(user, page: str, *, name: str, query: str, share_with="") -> SavedView:
    name = (name or "").strip()
    if not name:
        raise SavedViewError(_("Give the view a name."), field_errors={"name": [_("This field is required.")]})
    if len(name) > NAME_MAX:
        raise SavedViewError(_("At most %(n)d characters.") % {"n": NAME_MAX}, field_errors={"name": [
            _("Too long.")]})
    query = clean_query(query)
    if len(query) > QUERY_MAX:
        raise SavedViewError(_("The filters are too long to save."), field_errors={"query": [_("Too long.")]})
    unit = None
    if str(share_with or "").strip():
        units = {str(u.pk): u for u in units_in_scope(user, EDIT)}
        unit = units.get(str(share_with).strip())
        if unit is None:
            raise SavedViewError(_("You can share a view only with a unit you work for."),
                                 field_errors={"share": [_("Choose one of your units.")]})
    try:
        with transaction.atomic():
            view, created = SavedView.objects.update_or_create(
                user=user, page=page, name=name, defaults={"query": query, "shared_with": unit})
    except IntegrityError:
        raise SavedViewError(_("A view of that name exists.")) from None
    audit.record("registry.saved_view.saved", view, actor=user, channel="ui",
                 changes={"query": [None, query], "shared_with": [None, unit.pk if unit else None]})
    return view


@transaction.atomic
def delete_view(user, view: SavedView) -> None:
    audit.record("registry.saved_view.deleted", view, actor=user, channel="ui",
                 changes={"name": [view.name, None]})
    view.delete()

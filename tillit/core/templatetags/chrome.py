"""The top bar of every page, from a frame rendered once per language and set of rights.

The bar is a third of a list page's template time if rendered each time (menus, translations, links), yet
all of it but five values depends only on the language and which menu items the user may see. Its template
(`_top_bar.html`) is rendered once per such combination with markers in the place of the request's values
(the CSRF token, the page's address, the search text, the unread count, the user's name); each request
joins the frame's pieces with those values, escaped.
"""

from django import template
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext

from tillit.core.present import esc

register = template.Library()

# What decides which menu items the bar shows (the navigation context processor's flags).
FLAGS = ("is_rep", "has_portal", "can_see_registry", "can_see_notices", "rep_only", "can_edit_anything", "can_dues",
         "can_import", "can_review_duplicates", "can_manage_access", "can_write_declaration", "member_service")
SLOTS = ("csrf_input", "q", "unread", "unread_badge", "next_path", "username")
_MARK = "\x1e"  # a control character: never in a template, and let through unchanged by escaping
_frames: dict[tuple, list[str]] = {}


def _frame(key: tuple) -> list[str]:
    _language, authenticated, *flags = key
    context = {"authenticated": authenticated, **dict(zip(FLAGS, flags, strict=True)),
               **{slot: f"{_MARK}{slot}{_MARK}" for slot in SLOTS}}
    pieces = get_template("_top_bar.html").render(context).split(_MARK)
    if len(_frames) > 1_000:
        _frames.clear()
    _frames[key] = pieces
    return pieces


def _search_text(context) -> str:
    filters = context.get("filters")
    found = filters.get("q") if isinstance(filters, dict) else getattr(filters, "q", "")
    return found or ""


@register.simple_tag(takes_context=True)
def top_bar(context):
    user = context.get("user")
    authenticated = bool(user is not None and user.is_authenticated)
    key = (get_language(), authenticated, *(bool(context.get(flag)) for flag in FLAGS))
    pieces = _frames.get(key) or _frame(key)
    token = context.get("csrf_token")
    token = "" if token is None else str(token)
    unread = context.get("unread_notifications") or 0
    request = context.get("request")
    values = {
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED" else "",
        "q": esc(_search_text(context)),
        "unread": esc(unread),
        "unread_badge": format_html(' <span class="count" aria-label="{}">{}</span>',
                                    ngettext("%(n)s unread", "%(n)s unread", unread) % {"n": unread}, unread)
        if unread else "",
        "next_path": esc(request.get_full_path()) if request is not None else "",
        "username": esc(user.username) if authenticated else "",
    }
    return mark_safe("".join(values[piece] if i % 2 else piece for i, piece in enumerate(pieces)))  # noqa: S308

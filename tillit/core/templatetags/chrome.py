"""Frames: parts of a page rendered once per language and key, the request's own values filled into slots.

The top bar of every page is one, from a frame rendered once per language and set of rights.

The bar is a third of a list page's template time if rendered each time (menus, translations, links), yet
all of it but five values depends only on the language and which menu items the user may see. Its template
(`_top_bar.html`) is rendered once per such combination with markers in the place of the request's values
(the CSRF token, the page's address, the search text, the unread count, the user's name); each request
joins the frame's pieces with those values, escaped.

A page's own static parts (filter forms, drop-downs of fixed choices, their labels) are framed in the template:

    {% frame queue sort can_open %} … {% slot request.GET.q %} … {% endframe %}

The body is rendered once per language and value of the key; each `{% slot %}` is a value of the request,
rendered (escaped) into the frame at each request. Whatever else the body shows must depend only on the key:
so a CSRF token is refused there (write `{% slot csrf_token %}` in the input instead), and a slot inside a
loop, which would be several values, is refused when the frame is first rendered.
"""

import itertools

from django import template
from django.template.base import render_value_in_context
from django.template.defaulttags import CsrfTokenNode
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


def framed(key: tuple, render) -> list[str]:
    """The pieces of the frame for `key`: text, a slot's name, text, …; `render()` makes the frame, its slots
    written as markers, the first time (per process; a frame is a pure function of its key). With DEBUG on,
    every time: a template edited while the development server runs shows at once."""
    from django.conf import settings

    if settings.DEBUG:
        return render().split(_MARK)
    pieces = _frames.get(key)
    if pieces is None:
        pieces = render().split(_MARK)
        if len(_frames) > 2_000:
            _frames.clear()
        _frames[key] = pieces
    return pieces


def fill(pieces: list[str], values: dict) -> str:
    return mark_safe("".join(values[piece] if i % 2 else piece for i, piece in enumerate(pieces)))  # noqa: S308


def _marker(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def _top_bar_frame(key: tuple) -> str:
    _language, authenticated, *flags = key
    context = {"authenticated": authenticated, **dict(zip(FLAGS, flags, strict=True)),
               **{slot: _marker(slot) for slot in SLOTS}}
    return get_template("_top_bar.html").render(context)


def _search_text(context) -> str:
    filters = context.get("filters")
    found = filters.get("q") if isinstance(filters, dict) else getattr(filters, "q", "")
    return found or ""


@register.simple_tag(takes_context=True)
def top_bar(context):
    user = context.get("user")
    authenticated = bool(user is not None and user.is_authenticated)
    key = ("top bar", get_language(), authenticated, *(bool(context.get(flag)) for flag in FLAGS))
    pieces = framed(key, lambda: _top_bar_frame(key[1:]))
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
    return fill(pieces, values)


_frame_ids = itertools.count()
_RENDERING = "_tillit_frame_rendering"


def _hashable(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


class FrameNode(template.Node):
    def __init__(self, nodelist, key, slots):
        self.nodelist, self.key, self.slots, self.id = nodelist, key, slots, next(_frame_ids)

    def render(self, context):
        key = (self.id, get_language(), *(_hashable(expression.resolve(context)) for expression in self.key))
        pieces = framed(key, lambda: self._frame(context))
        return fill(pieces, {str(i): slot.value(context) for i, slot in enumerate(self.slots)})

    def _frame(self, context) -> str:
        with context.push({_RENDERING: {slot: str(i) for i, slot in enumerate(self.slots)}}):
            text = self.nodelist.render(context)
        written = text.split(_MARK)[1::2]
        if len(written) != len(set(written)):
            raise template.TemplateSyntaxError("{% slot %} inside a loop of a {% frame %}: one value per slot")
        return text


class SlotNode(template.Node):
    def __init__(self, expression):
        self.expression = expression

    def value(self, context) -> str:
        return str(render_value_in_context(self.expression.resolve(context), context))

    def render(self, context):
        rendering = context.get(_RENDERING)
        if rendering is not None and self in rendering:
            return _marker(rendering[self])
        return self.value(context)


@register.tag
def frame(parser, token):
    """{% frame key … %} … {% endframe %}: see the module's docstring."""
    key = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endframe",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(CsrfTokenNode):
        raise template.TemplateSyntaxError("{% csrf_token %} in a {% frame %}: write {% slot csrf_token %} in the "
                                           "input, or leave the form out of the frame")
    return FrameNode(nodelist, key, nodelist.get_nodes_by_type(SlotNode))


@register.tag
def slot(parser, token):
    """{% slot value %}: a value of the request inside a frame (escaped as {{ value }})."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% slot %} takes one value")
    return SlotNode(parser.compile_filter(bits[1]))

"""A case's timeline as HTML, written in Python: each entry's kind, time, who, what changed, delivery, problems,
attachments and text. Through the template engine each entry was a dozen conditions and as many lookups, the
case page's largest cost per row; tests/cases/test_timeline.py holds the markup this writes, as a template,
and compares the two for generated entries in each language."""

from django.template.defaultfilters import linebreaksbr
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from tillit.core.present import Dates, esc, url_maker


def _(text: str) -> str:
    """`{% translate text %}`: the translation, escaped."""
    return esc(gettext(text))


def _shown(value) -> str:
    """A value as `{{ value }}` writes it: localised, escaped."""
    return esc(localize(value))


def _detail(e, data, document_url) -> str:
    kind = e.kind
    if kind == "state":
        return f": {_shown(e.from_shown)} → {_shown(e.to_shown)}"
    if kind == "transfer" and data.get("from_name"):
        return f": {_shown(data['from_name'])} → {_shown(data.get('to_name', ''))}"
    if kind == "assignment":
        return f": {_shown(data.get('to_name') or '–')}"
    if kind == "link":
        return f": {_shown(data.get('number', ''))}"
    if kind == "document":
        what = data.get("what")
        suffix = {"version": f" ({_('version')} {_shown(data.get('number', ''))})", "removed": f" ({_('removed')})",
                  "deleted": f" ({_('deleted')})"}.get(what, "")
        title = _shown(data.get("title", ""))
        if data.get("document") is None:  # an entry without its document: named, not linked to a page that is not
            return f": {title}{suffix}"
        return f': <a href="{esc(document_url(data["document"]))}">{title}</a>{suffix}'
    return ""


def _delivery(status) -> str:
    if not status:
        return ""
    word = {"sent": _("sent"), "failed": _("not delivered")}.get(status, _("queued"))
    return f'<span class="delivery {_shown(status)}" data-delivery="{_shown(status)}">[{word}]</span>'


def _joined(items, separator: str) -> str:
    """`{{ items|join:separator }}`: each item escaped."""
    if isinstance(items, str):
        items = list(items)
    return esc(separator).join(esc(item) for item in items)


def timeline_html(events) -> str:
    """The `<li>` entries of the timeline, in order (events with `actor` loaded, and `from_shown`/`to_shown` on
    state changes and `delivery` on messages out, as the case view sets them)."""
    moment, document_url = Dates("SHORT_DATETIME_FORMAT"), url_maker("document")
    rows = []
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        who = (e.actor.username if e.actor is not None else "") or "system"
        subject = e.kind in ("message_out", "message_in") and data.get("subject")
        problem, attachments, refused = data.get("problem"), data.get("attachments"), data.get("refused")
        rows.append("".join((
            f'<li class="event {esc(e.kind)}{" public" if e.public else ""}">\n',
            f"  <time>{esc(moment(e.at))}</time> · {esc(who)} · <b>{esc(e.get_kind_display())}</b>\n",
            f"  {_detail(e, data, document_url)}\n",
            f"  {': ' + _shown(subject) if subject else ''}\n",
            f"  {_delivery(getattr(e, 'delivery', None))}\n",
            f"  {_small('error', _shown(problem)) if problem else ''}\n",
            f"  {_small('', _('Attachments') + ': ' + _joined(attachments, ', ')) if attachments else ''}\n",
            f"  {_small('error', _('Not kept as documents') + ': ' + _joined(refused, '; ')) if refused else ''}\n",
            f"  {_small('muted', '(' + _('visible to the person') + ')') if e.public else ''}\n",
            f"  {_body(e.body)}\n",
            "</li>")))
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped


def _small(css: str, html: str) -> str:
    return f'<small class="{css}">{html}</small>' if css else f"<small>{html}</small>"


def _body(text) -> str:
    return f'<div class="body">{linebreaksbr(text, autoescape=True)}</div>' if text else ""

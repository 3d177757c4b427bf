from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from tillit.documents.search import START, STOP

register = template.Library()


@register.filter
def highlight(snippet: str):
    """A search snippet, escaped, with the words found marked."""
    text = str(conditional_escape(snippet or ""))
    return mark_safe(text.replace(START, "<mark>").replace(STOP, "</mark>"))  # escaped above

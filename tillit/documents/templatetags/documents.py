import re

from django import template

from tillit.documents.search import START, STOP

register = template.Library()
_FOUND = re.compile(f"{START}(.*?){STOP}", re.S)


@register.filter
def snippet_parts(snippet: str) -> list[dict]:
    """A search snippet as its parts, each with whether it is a word found; the template escapes and marks them."""
    parts, last = [], 0
    text = snippet or ""
    for match in _FOUND.finditer(text):
        if match.start() > last:
            parts.append({"text": text[last:match.start()], "found": False})
        parts.append({"text": match.group(1), "found": True})
        last = match.end()
    rest = text[last:].replace(START, "").replace(STOP, "")  # a marker left without its pair says nothing
    if rest:
        parts.append({"text": rest, "found": False})
    return parts

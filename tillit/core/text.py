"""Text as people type it: no NUL or other control characters, line breaks only where a field has lines."""

import re

from django.utils.translation import gettext_noop

# C0 controls but tab, LF and CR; DEL; C1 controls; the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\r\n\t]")


def control_character_problem(value: str, *, multiline: bool) -> str:
    """Why `value` cannot be stored as text ("" when it can)."""
    if _CONTROL.search(value):
        return gettext_noop("Contains a control character (such as NUL).")
    if not multiline and _LINE_BREAK.search(value):
        return gettext_noop("Must be one line: no line breaks or tabs.")
    return ""


def check_text(value: str, *, multiline: bool) -> str:
    """`value` unchanged, or ValueError naming the problem."""
    problem = control_character_problem(value, multiline=multiline)
    if problem:
        raise ValueError(problem)
    return value


MAX_ID = 2**63 - 1
MAX_PAGE = 100_000


def as_id(value) -> int | None:
    """A database id from text (ASCII digits, within 64 bits), else None."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def as_page(value) -> int:
    """A page number from a query string: 1 unless it is a whole number within reach."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        return 1
    return min(max(1, int(text)), MAX_PAGE)


def as_version(value) -> int | None:
    """A record's version number from a form field (0 and up), else None."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    return int(text)


def shown(base: str, translations: dict | None, language: str | None = None) -> str:
    """A configured text in the reader's language (nb, sv, en), else as it was written (the organisation's own
    language, settings.LANGUAGE_CODE)."""
    from django.conf import settings
    from django.utils.translation import get_language

    language = (language or get_language() or settings.LANGUAGE_CODE)[:2]
    return (translations or {}).get(language) or base

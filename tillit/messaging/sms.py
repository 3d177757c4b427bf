"""Text messages: one small interface, backends chosen by TILLIT_SMS_BACKEND (a dotted path).

The console backend writes to standard output for development; providers come later.
"""

import sys

from django.conf import settings
from django.utils.module_loading import import_string

from tillit.registry.identity import parse_phone


class ConsoleBackend:
    def send(self, number: str, text: str) -> str:
        sys.stdout.write(f"SMS to {number}: {text}\n")
        return "console"


class MemoryBackend:
    """Keeps what was sent in `outbox`; for tests."""

    outbox: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> str:
        self.outbox.append((number, text))
        return f"memory-{len(self.outbox)}"


def send_sms(number: str, text: str) -> str:
    """Send `text` to `number` (any common form, normalised to E.164); returns the backend's reference."""
    if not text.strip():
        raise ValueError("empty text message")
    backend = import_string(getattr(settings, "TILLIT_SMS_BACKEND", "tillit.messaging.sms.ConsoleBackend"))()
    return backend.send(parse_phone(number), text)

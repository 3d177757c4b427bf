"""Reading mail as people's programs write it: 8-bit headers and bodies without a declared charset are
read as UTF-8 if they are valid UTF-8, else as Windows-1252 (what Outlook writes), never as U+FFFD."""

import email
import email.header
import email.policy
import re


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    for candidate in ([charset] if charset else []) + ["utf-8"]:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def _raw_header(raw: bytes, name: str) -> bytes | None:
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    for line in re.sub(rb"\r?\n[ \t]+", b" ", head).split(b"\n"):
        key, sep, value = line.rstrip(b"\r").partition(b":")
        if sep and key.strip().lower() == name.lower().encode():
            return value.strip()
    return None


def header_text(raw: bytes, name: str) -> str:
    """One header of a raw message, decoded: raw 8-bit bytes as UTF-8 or Windows-1252, then any
    RFC 2047 encoded words in their own charsets."""
    value = _raw_header(raw, name)
    if value is None:
        return ""
    parts = []
    for chunk, charset in email.header.decode_header(decode_bytes(value)):
        parts.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(parts).split())


def part_text(part) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    return decode_bytes(payload, part.get_content_charset())


def text_of(message) -> str:
    """The message's readable text: its plain part, else its HTML part; "" when there is none."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        return part_text(part) if part is not None else ""
    except Exception:  # a broken part must not lose the message
        return ""


def attachments_of(message):
    """(filename, content type, bytes) for each attachment; a forwarded message is a whole .eml."""
    for part in message.iter_attachments():
        kind = part.get_content_type()
        try:
            if kind == "message/rfc822":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) else inner
                data = inner.as_bytes(policy=email.policy.default)
                subject = str(inner.get("Subject", "") or "").strip() or "message"
                name = part.get_filename() or f"{subject[:80]}.eml"
            else:
                data = part.get_payload(decode=True) or b""
                name = part.get_filename() or "attachment"
        except Exception:  # an unreadable part is skipped; the raw message is kept
            continue
        yield name, kind, data

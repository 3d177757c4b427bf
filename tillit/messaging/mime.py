"""Reading mail as people's programs write it: 8-bit headers and bodies without a declared charset are
read as UTF-8 if they are valid UTF-8, else as Windows-1252 (what Outlook writes), never as U+FFFD."""

import email
import email.header
import email.parser
import email.policy


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    for candidate in ([charset] if charset else []) + ["utf-8"]:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def header_text(raw: bytes, name: str) -> str:
    """One header of a raw message, decoded (RFC 2047 words and raw 8-bit bytes alike)."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    value = headers.get(name)
    if value is None:
        return ""
    parts = []
    for chunk, charset in email.header.decode_header(str(value)):
        if isinstance(chunk, str):
            chunk = chunk.encode("ascii", "surrogateescape")
        parts.append(decode_bytes(chunk, charset))
    return " ".join(" ".join(parts).split())


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
    except Exception:  # noqa: BLE001 - a broken part must not lose the message
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
        except Exception:  # noqa: BLE001 - an unreadable part is skipped; the raw message is kept
            continue
        yield name, kind, data

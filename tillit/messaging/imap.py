"""Polling an IMAP mailbox: every unseen message is filed with ingest_email, then marked seen.

A message is marked seen only after it is stored and filed, so a crash half-way means it is
fetched again on the next poll, never lost.
"""

import imaplib
import logging

from django.conf import settings
from django_tasks import task

from tillit.messaging.inbound import ingest_email

log = logging.getLogger(__name__)


def fetch_email(*, host: str | None = None, port: int | None = None, user: str | None = None,
                password: str | None = None, use_ssl: bool | None = None, mailbox: str | None = None,
                limit: int = 500) -> int:
    """File up to `limit` unseen messages from the mailbox; returns how many were filed."""
    host = host or settings.TILLIT_IMAP_HOST
    if not host:
        raise ValueError("TILLIT_IMAP_HOST is not set")
    use_ssl = settings.TILLIT_IMAP_SSL if use_ssl is None else use_ssl
    port = port or settings.TILLIT_IMAP_PORT or (993 if use_ssl else 143)
    conn = (imaplib.IMAP4_SSL if use_ssl else imaplib.IMAP4)(host, port, timeout=30)
    filed = 0
    try:
        conn.login(user or settings.TILLIT_IMAP_USER, password or settings.TILLIT_IMAP_PASSWORD)
        conn.select(mailbox or settings.TILLIT_IMAP_MAILBOX)
        _typ, data = conn.uid("SEARCH", None, "UNSEEN")
        for uid in (data[0] or b"").split()[:limit]:
            _typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw is None:
                continue
            try:
                ingest_email(raw)
            except Exception:  # leave it unseen; the next poll tries again
                log.exception("message uid %s not filed; it stays unseen", uid.decode())
                continue
            conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            filed += 1
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return filed


@task()
def fetch_mail_round() -> int:
    """The worker's poll of the mailbox (scheduled only when TILLIT_IMAP_HOST is set)."""
    return fetch_email() if settings.TILLIT_IMAP_HOST else 0

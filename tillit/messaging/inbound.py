"""Incoming email: every message is stored first (its raw bytes in storage), then filed: a reply lands on its
case (by the case number in the subject or the message it answers), a bounce marks the message it returns, and
anything else opens an intake case. Nothing is dropped."""

import email
import email.policy
import email.utils
import logging
import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from tillit.cases import services as case_services
from tillit.cases.models import Case, CaseEvent, CaseType
from tillit.core.errors import InvalidInput
from tillit.documents.files import sanitise_filename, store_bytes
from tillit.documents.services import create_document
from tillit.messaging.mime import attachments_of, header_text, text_of
from tillit.messaging.models import Attachment, Message
from tillit.messaging.outbox import settle, store
from tillit.registry.models import Person
from tillit.registry.services import create_person

log = logging.getLogger(__name__)
CASE_NUMBER = re.compile(r"\[(\d{4}/\d{5})\]")


def _sender_person(address: str, display: str) -> Person | None:
    if not address:
        return None
    person = Person.objects.current().filter(email=address.lower()).order_by("pk").first()
    if person:
        return person
    first, _sep, last = (display or address.split("@")[0]).strip().partition(" ")
    try:
        return create_person({"first_name": first or address, "last_name": last or "(e-post)", "email": address},
                             actor=None, channel="system", allow_duplicate=True)
    except InvalidInput:
        return None


def _without_nul(text: str) -> str:
    return text.replace("\x00", "")


def ingest_email(raw: bytes) -> Message:
    """File one incoming RFC 822 message: a reply lands on its case, anything else opens an intake case.

    Malformed, oversized or unmatched mail is kept and goes to the intake queue with the reason. Mail in is never
    lost: the raw bytes are kept as they came, and the text fields are filed without NUL characters (which
    PostgreSQL cannot store in text).
    """
    raw_name, _digest = store(raw, "mail/raw")
    problem = ""
    if len(raw) > settings.TILLIT_INBOUND_MAX_BYTES:
        problem = "too large"
        msg = email.message_from_bytes(raw[:64 * 1024], policy=email.policy.default)
    else:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        problem = problem or "malformed: " + ", ".join(type(d).__name__ for d in msg.defects)[:150]
    try:
        display, address = email.utils.parseaddr(header_text(raw[:64 * 1024], "From"))
        subject = header_text(raw[:64 * 1024], "Subject")[:300]
    except Exception:  # unreadable headers still keep the message
        display, address, subject = "", "", ""
        problem = problem or "unreadable headers"
    body = "" if problem == "too large" else text_of(msg)
    display, address, subject, body = (_without_nul(t) for t in (display, address, subject, body))
    person = _sender_person(address, display)
    message = Message.objects.create(direction=Message.Direction.IN, status=Message.Status.RECEIVED, person=person,
                                     address=address[:254], subject=subject, body=body, raw_name=raw_name,
                                     message_id=_without_nul(str(msg.get("Message-ID", "")))[:300])
    if not problem:
        for name, kind, data in attachments_of(msg):
            filename = sanitise_filename(_without_nul(name or ""))
            blob = store_bytes(data, filename, kind)  # kept once, beside the documents
            Attachment.objects.create(message=message, filename=filename[:255], content_type=kind[:100],
                                      size=len(data), sha256=blob.sha256, stored_name=blob.stored_name)
    original = None if problem else _bounce_of(msg, raw, address)
    if original is not None:  # a delivery report about a message Tillit sent: that message bounced
        reason = _diagnostic(raw) or subject
        settle([original.pk], Message.Status.BOUNCED, reason)
        message.case, message.problem = original.case, f"bounce of message {original.pk}"[:200]
        message.save(update_fields=["case", "problem"])
        if original.case_id:
            case_services.record_event(original.case, CaseEvent.Kind.MESSAGE_OUT, actor=None, public=False,
                                       body=_("The message was returned: %(e)s") % {"e": reason},
                                       data={"message": original.pk, "status": Message.Status.BOUNCED})
        return message
    case = None
    match = CASE_NUMBER.search(subject)
    if match:
        case = Case.objects.filter(number=match.group(1)).first()
        if case is None:
            problem = problem or f"unknown case number {match.group(1)}"
    if case is None:
        intake = CaseType.objects.filter(is_intake=True, active=True).order_by("pk").first()
        if intake is None:
            log.error("message %s kept without a case: no intake case type is configured", message.pk)
            return message
        case = case_services.open_case(intake, title=subject.strip() or _("(no subject)"), actor=None,
                                       channel="email", subjects=[person] if person else [])
    message.case = case
    message.problem = problem
    message.save(update_fields=["case", "problem"])
    event = case_services.record_event(
        case, CaseEvent.Kind.MESSAGE_IN, actor=None, body=body, public=True,
        data={"message": message.pk, "subject": subject, "from": address, "problem": problem,
              "attachments": list(message.attachments.values_list("filename", flat=True))})
    refused = _attachments_to_documents(message, case, person)
    if refused:
        CaseEvent.objects.filter(pk=event.pk).update(data={**event.data, "refused": refused})
    case_services.answered(case)
    return message


def _bounce_of(msg, raw: bytes, address: str) -> Message | None:
    """The outgoing message a delivery status report (or a mailer daemon's note) is about, by its Message-ID."""
    if msg.get_content_type() != "multipart/report" and not address.lower().startswith(("mailer-daemon@",
                                                                                       "postmaster@")):
        return None
    ours = re.compile(rb"<[^<>\s@]{1,200}@" + re.escape(settings.TILLIT_MAIL_DOMAIN.encode()) + rb">")
    ids = {found.decode("ascii", "replace") for found in ours.findall(raw[:512 * 1024])}
    return Message.objects.filter(direction=Message.Direction.OUT, message_id__in=ids).order_by("pk").first() \
        if ids else None


def _diagnostic(raw: bytes) -> str:
    for header in (rb"Diagnostic-Code", rb"Status"):  # the server's own words first, else the status code
        found = re.search(rb"^" + header + rb":[ \t]*([^\r\n]{1,250})", raw[:512 * 1024], re.M | re.I)
        if found:
            return found.group(1).decode("utf-8", "replace").strip()
    return ""


def _attachments_to_documents(message: Message, case: Case, person: Person | None) -> list[str]:
    """Each attachment becomes a document linked to the case (and the sender); the names of those the
    document rules refuse (kind, size, empty) are returned. The bytes are kept with the message either way."""
    refused = []
    for attachment in message.attachments.all():
        with default_storage.open(attachment.stored_name, "rb") as fh:
            try:
                with transaction.atomic():
                    create_document(file=fh, filename=attachment.filename, declared_type=attachment.content_type,
                                    unit=case.responsible_unit, actor=None, channel="system", cases=[case],
                                    persons=[person] if person else [],
                                    description=_("Attachment to the email “%(subject)s” from %(address)s.") % {
                                        "subject": message.subject, "address": message.address})
            except InvalidInput as exc:
                refused.append(f"{attachment.filename}: {exc.message}")
    return refused

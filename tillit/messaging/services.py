"""Correspondence on cases: outgoing email with retries, and incoming email into cases.

Outgoing: the message is recorded and put on the case timeline at once; delivery happens in a
background task after the transaction commits, and is retried until TILLIT_MAIL_MAX_ATTEMPTS.
Incoming: every message is stored first (raw bytes in storage), then filed; nothing is dropped.
"""

import datetime
import email
import email.policy
import email.utils
import hashlib
import logging
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.cases import services as case_services
from tillit.cases.models import Case, CaseEvent, CaseType
from tillit.core.errors import InvalidInput
from tillit.core.tasks import enqueue_on_commit
from tillit.documents.files import sanitise_filename, store_bytes
from tillit.documents.services import create_document
from tillit.messaging.mime import attachments_of, header_text, text_of
from tillit.messaging.models import Attachment, Message, MessageTemplate
from tillit.registry.models import Person
from tillit.registry.services import create_person

log = logging.getLogger(__name__)
CASE_NUMBER = re.compile(r"\[(\d{4}/\d{5})\]")


def render_template(template: MessageTemplate, *, case: Case, person: Person | None) -> tuple[str, str]:
    context = Context({"case": case, "person": person})
    return Template(template.subject).render(context).strip(), Template(template.body).render(context)


def template_for(case: Case, code: str, language: str) -> MessageTemplate | None:
    candidates = MessageTemplate.objects.filter(code=code, case_type__in=[case.case_type, None])
    by_key = {(t.case_type_id, t.language): t for t in candidates}
    for key in [(case.case_type_id, language), (None, language), (case.case_type_id, "nb"), (None, "nb")]:
        if key in by_key:
            return by_key[key]
    return None


@transaction.atomic
def send_case_message(case: Case, *, body: str = "", subject: str = "", actor, channel: str = "ui",
                      to: Person | None = None, template_code: str = "", documents=()) -> Message:
    """Write to the person the case is about; on the timeline now, delivered in the background. The actor works
    on the case (cases.work). `documents`: case documents the actor may see, sent along as their current
    versions (at most TILLIT_MAIL_ATTACHMENTS_MAX_BYTES together)."""
    _require_work(case, actor, channel)
    versions = _attachable(case, documents, actor)
    person = to or case.subjects.exclude(email="").first()
    if person is None or not person.email:
        raise InvalidInput(_("The person has no email address."), field_errors={"to": [_("No email address.")]})
    if template_code:
        template = template_for(case, template_code, person.preferred_language)
        if template is None:
            raise InvalidInput(_("No such template."), field_errors={"template": [_("No such template.")]})
        with translation.override(person.preferred_language):
            subject, body = render_template(template, case=case, person=person)
    if not body.strip():
        raise InvalidInput(_("Write something."), field_errors={"body": [_("This field is required.")]})
    subject = subject.strip() or case.title
    message = Message.objects.create(direction=Message.Direction.OUT, status=Message.Status.QUEUED, case=case,
                                     person=person, address=person.email, subject=f"[{case.number}] {subject}",
                                     body=body, message_id=email.utils.make_msgid(domain=settings.TILLIT_MAIL_DOMAIN))
    for version in versions:  # the stored file itself, by name: nothing is copied
        Attachment.objects.create(message=message, filename=version.filename, content_type=version.blob.media_type,
                                  size=version.blob.size, sha256=version.blob.sha256,
                                  stored_name=version.blob.stored_name)
    case_services.record_event(case, CaseEvent.Kind.MESSAGE_OUT, actor=actor, body=body, public=True,
                               data={"message": message.pk, "subject": subject, "status": message.status,
                                     **({"attachments": [v.filename for v in versions]} if versions else {})})
    enqueue_on_commit(deliver_message, message.pk)
    return message


def _attachable(case: Case, documents, actor) -> list:
    """The current versions of `documents`, each linked to the case and visible to the actor; refused otherwise,
    or when together they are larger than mail should carry."""
    from tillit.documents.models import Document

    documents = list(documents)
    if not documents:
        return []
    linked = Document.objects.linked_to_visible(actor, case=case) if getattr(actor, "pk", None) else \
        Document.objects.filter(cases=case)
    found = {d.pk: d for d in linked.filter(pk__in=[d.pk for d in documents]).select_related("current__blob")}
    if len(found) != len({d.pk for d in documents}) or any(d.current is None for d in found.values()):
        raise InvalidInput(_("Only the case's own documents can be sent with it."),
                           field_errors={"documents": [_("Not a document of this case.")]})
    versions = [found[pk].current for pk in sorted(found)]
    if sum(v.blob.size for v in versions) > settings.TILLIT_MAIL_ATTACHMENTS_MAX_BYTES:
        raise InvalidInput(_("The files are too large to send by email together (at most %(mb)s MB); send a link "
                             "instead.") % {"mb": settings.TILLIT_MAIL_ATTACHMENTS_MAX_BYTES // 1_000_000},
                           field_errors={"documents": [_("Too large.")]})
    return versions


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=2 ** min(attempts, 8))


@task()
def deliver_message(message_id: int) -> str:
    """Send one queued message, exactly once.

    The attempt is recorded (SENDING, committed) before the SMTP exchange and the message marked
    SENT after it, each in one conditional UPDATE. A run that finds a message still SENDING knows
    an earlier attempt died with an unknown outcome (the mail may have reached the server): it marks
    it UNCERTAIN and sends nothing; `tillit mail resend` sends it again when an operator says so.
    A transport error is retried later; after the last attempt the message is FAILED, and so is a
    recipient the server refuses outright (a permanent 5xx answer).
    """
    message = Message.objects.select_related("case").filter(pk=message_id).first()
    if message is None:
        return "gone"
    if message.status == Message.Status.SENDING:
        mark_uncertain([message])
        return Message.Status.UNCERTAIN
    if not _claim([message.pk]):
        return message.status  # sent, failed or uncertain: nothing to do
    message.refresh_from_db(fields=["attempts"])
    status = _send(message, None)
    if status == Message.Status.SENT:
        _settle([message.pk], Message.Status.SENT)
    return status


def deliver_batch(message_ids: list[int]) -> dict[str, int]:
    """Send queued messages over one SMTP connection (a message to a selection): claimed together, each sent,
    the sent ones marked together; failures are settled one by one as in `deliver_message`. A crash leaves
    the claimed, unsettled ones SENDING, and they become UNCERTAIN (never sent twice unasked)."""
    from django.core.mail import get_connection

    counts: dict[str, int] = {}
    claimed = _claim(message_ids)
    if not claimed:
        return counts
    messages = list(Message.objects.select_related("case").filter(pk__in=message_ids, status=Message.Status.SENDING)
                    .prefetch_related("attachments"))
    sent = []
    with get_connection() as connection:
        for message in messages:
            status = _send(message, connection)
            counts[status] = counts.get(status, 0) + 1
            if status == Message.Status.SENT:
                sent.append(message.pk)
    _settle(sent, Message.Status.SENT)
    return counts


def _claim(message_ids: list[int]) -> int:
    return Message.objects.filter(pk__in=message_ids, status=Message.Status.QUEUED).update(
        status=Message.Status.SENDING, attempts=F("attempts") + 1)


def _settle(message_ids: list[int], status: str, error: str = "") -> None:
    """Record how delivery ended, on the message and on its row of a message to a selection."""
    from tillit.messaging.models import Recipient

    if not message_ids:
        return
    values = {"status": status}
    if status == Message.Status.SENT:
        values["sent_at"] = timezone.now()
    else:
        values["last_error"] = error[:300]
    Message.objects.filter(pk__in=message_ids).update(**values)
    shown = {Message.Status.UNCERTAIN: Recipient.Status.FAILED}.get(status, status)
    if shown in Recipient.Status.values:
        reason = _("Delivery not known: the sending was interrupted.") if status == Message.Status.UNCERTAIN \
            else error
        Recipient.objects.filter(message_id__in=message_ids).update(status=shown, reason=reason[:300],
                                                                     updated_at=timezone.now())


def mark_uncertain(messages: list[Message]) -> None:
    """Messages found SENDING by a later run: the attempt died mid-send, the outcome is unknown."""
    for message in messages:
        if not Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                status=Message.Status.UNCERTAIN):
            continue
        _settle([message.pk], Message.Status.UNCERTAIN)
        if message.case_id:
            case_services.record_event(message.case, CaseEvent.Kind.MESSAGE_OUT, actor=None, body=_(
                "Sending was interrupted; the message may or may not have arrived. It is not sent again unless an "
                "operator resends it."), data={"message": message.pk, "status": Message.Status.UNCERTAIN})
        log.warning("message %s: an earlier attempt stopped mid-send; marked uncertain", message.pk)


def _send(message: Message, connection) -> str:
    """One SMTP exchange for a claimed message; a failure is settled (retry later, or failed) here."""
    import smtplib

    mail = EmailMessage(subject=message.subject, body=message.body, to=[message.address],
                        headers={"Message-ID": message.message_id}, connection=connection)
    for attachment in message.attachments.all():
        with default_storage.open(attachment.stored_name) as f:
            mail.attach(attachment.filename, f.read(), attachment.content_type)
    try:
        mail.send()
    except Exception as exc:  # any transport failure is retried the same way
        error = f"{type(exc).__name__}: {exc}"[:300]
        refused = isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
            isinstance(code, int) and code >= 500 for code, _text in exc.recipients.values())
        if refused or message.attempts >= settings.TILLIT_MAIL_MAX_ATTEMPTS:
            _settle([message.pk], Message.Status.FAILED, error)
            if message.case_id:
                case_services.record_event(message.case, CaseEvent.Kind.MESSAGE_OUT, actor=None,
                                           body=_("The message could not be delivered: %(e)s") % {"e": error},
                                           data={"message": message.pk, "status": "failed"})
            log.warning("message %s failed after %s attempts", message.pk, message.attempts)
            return Message.Status.FAILED
        Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED, last_error=error)
        deliver_message.using(run_after=timezone.now() + _backoff(message.attempts)).enqueue(message.pk)
        return "retry"
    return Message.Status.SENT


def queue_email(*, address: str, subject: str, body: str, person: Person | None = None,
                attachments: list[tuple[str, str, bytes]] = ()) -> Message:
    """An email not tied to a case (an invoice, a reminder, a note to a payroll office): recorded, then sent
    exactly once by the same delivery task as case mail, after the transaction commits."""
    message = Message.objects.create(direction=Message.Direction.OUT, status=Message.Status.QUEUED, person=person,
                                     address=address, subject=subject[:300], body=body,
                                     message_id=email.utils.make_msgid(domain=settings.TILLIT_MAIL_DOMAIN))
    for filename, content_type, data in attachments:
        name, digest = _store(data, "outgoing")
        Attachment.objects.create(message=message, filename=filename, content_type=content_type, size=len(data),
                                  sha256=digest, stored_name=name)
    enqueue_on_commit(deliver_message, message.pk)
    return message


def resend_message(message: Message, *, actor=None) -> None:
    """An operator's decision to send an uncertain (or failed) message again; it may arrive twice. A person doing
    it works on the message's case."""
    if message.case_id:
        _require_work(message.case, actor, "ui")
    updated = Message.objects.filter(pk=message.pk, status__in=[Message.Status.UNCERTAIN, Message.Status.FAILED]) \
        .update(status=Message.Status.QUEUED)
    if not updated:
        raise InvalidInput(_("Only a message whose delivery is uncertain or failed can be resent."),
                           field_errors={"message": [_("Not uncertain or failed.")]})
    enqueue_on_commit(deliver_message, message.pk)


# --- incoming ----------------------------------------------------------------------------------

def _store(data: bytes, prefix: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    name = f"{prefix}/{digest[:2]}/{digest}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return name, digest


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


@transaction.atomic
def _require_work(case, actor, channel) -> None:
    from tillit.cases.access import may_edit_case
    from tillit.core.policy import require

    if getattr(actor, "pk", None) and channel != "portal":
        require(may_edit_case(actor, case), _("You cannot work on this case."))


def _without_nul(text: str) -> str:
    return text.replace("\x00", "")


def ingest_email(raw: bytes) -> Message:
    """File one incoming RFC 822 message: a reply lands on its case, anything else opens an intake case.

    Malformed, oversized or unmatched mail is kept and goes to the intake queue with the reason. Mail in is never
    lost: the raw bytes are kept as they came, and the text fields are filed without NUL characters (which
    PostgreSQL cannot store in text).
    """
    raw_name, _digest = _store(raw, "mail/raw")
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
        _settle([original.pk], Message.Status.BOUNCED, reason)
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


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): mail to and from the person, and on their cases, loses the person's values
    (address, subject, text, attachment names); their rows of messages to a selection too. The raw mail kept
    as it came is deleted from storage for messages from them."""
    from django.db.models import Q

    from tillit.messaging.models import Recipient
    from tillit.registry.erasure import scrub_rows

    addresses = [v for v in scrub.values if "@" in v]
    mail = Message.objects.filter(Q(person=person) | Q(address__in=addresses) | Q(case__subjects=person))
    ids = list(mail.values_list("pk", flat=True).distinct())
    for name in Message.objects.filter(pk__in=ids, direction=Message.Direction.IN).exclude(raw_name="").values_list(
            "raw_name", flat=True):
        default_storage.delete(name)
    Message.objects.filter(pk__in=ids, direction=Message.Direction.IN).update(raw_name="")
    scrub_rows(Message.objects.filter(pk__in=ids), ["address", "subject", "body", "message_id", "problem",
                                                    "last_error"], scrub)
    scrub_rows(Attachment.objects.filter(message_id__in=ids), ["filename"], scrub)
    scrub_rows(Recipient.objects.filter(Q(person=person) | Q(address__in=addresses)), ["address", "merge", "reason"],
               scrub)


@task()
def requeue_stalled_round() -> int:
    """On Redis: queue again the delivery of messages still waiting for their first attempt past
    core.tasks.STALLED (their task was lost between a commit and the queueing). Delivery is safe to run twice."""
    from tillit.core.tasks import STALLED, sweeps

    if not sweeps():
        return 0
    stalled = list(Message.objects.filter(direction=Message.Direction.OUT, status=Message.Status.QUEUED, attempts=0,
                                          created_at__lt=timezone.now() - STALLED).values_list("pk", flat=True)[:1000])
    for pk in stalled:
        deliver_message.enqueue(pk)
    return len(stalled)

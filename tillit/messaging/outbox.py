"""The outbox: email (and text messages, `messaging.sms`) queued with the change that causes them and delivered
exactly once by the worker after the transaction commits, retried with backoff, an interrupted attempt marked
uncertain and never sent twice unasked.

It knows nothing of cases, people or mailings: what a delivery's end means to them is theirs to record, by the
`settled` signal (the case timeline, a mailing's recipient rows). Cases, dues, reps and self-service send through
`queue_email`; case correspondence (messaging.services), messages to a selection (messaging.mailings) and inbound
mail (messaging.inbound) are built on it.
"""

import datetime
import email.utils
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.core.errors import InvalidInput
from tillit.core.tasks import enqueue_on_commit
from tillit.messaging.models import Attachment, Message

log = logging.getLogger(__name__)
# Sent when delivery of `message_ids` ended as `status` (sent, failed, uncertain), with the transport's `error`.
settled = Signal()


def store(data: bytes, prefix: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    name = f"{prefix}/{digest[:2]}/{digest}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return name, digest


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
    message = Message.objects.filter(pk=message_id).first()
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
        settle([message.pk], Message.Status.SENT)
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
    messages = list(Message.objects.filter(pk__in=message_ids, status=Message.Status.SENDING)
                    .prefetch_related("attachments"))
    sent = []
    with get_connection() as connection:
        for message in messages:
            status = _send(message, connection)
            counts[status] = counts.get(status, 0) + 1
            if status == Message.Status.SENT:
                sent.append(message.pk)
    settle(sent, Message.Status.SENT)
    return counts


def _claim(message_ids: list[int]) -> int:
    return Message.objects.filter(pk__in=message_ids, status=Message.Status.QUEUED).update(
        status=Message.Status.SENDING, attempts=F("attempts") + 1)


def settle(message_ids: list[int], status: str, error: str = "") -> None:
    """Record how delivery ended on the messages, then tell the features built on the outbox (`settled`)."""
    if not message_ids:
        return
    values = {"status": status}
    if status == Message.Status.SENT:
        values["sent_at"] = timezone.now()
    else:
        values["last_error"] = error[:300]
    Message.objects.filter(pk__in=message_ids).update(**values)
    settled.send(sender=Message, message_ids=message_ids, status=status, error=error)


def mark_uncertain(messages: list[Message]) -> None:
    """Messages found SENDING by a later run: the attempt died mid-send, the outcome is unknown."""
    for message in messages:
        if not Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                status=Message.Status.UNCERTAIN):
            continue
        settle([message.pk], Message.Status.UNCERTAIN)
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
            settle([message.pk], Message.Status.FAILED, error)
            log.warning("message %s failed after %s attempts", message.pk, message.attempts)
            return Message.Status.FAILED
        Message.objects.filter(pk=message.pk).update(status=Message.Status.QUEUED, last_error=error)
        deliver_message.using(run_after=timezone.now() + _backoff(message.attempts)).enqueue(message.pk)
        return "retry"
    return Message.Status.SENT


def queue_email(*, address: str, subject: str, body: str, person=None,
                attachments: list[tuple[str, str, bytes]] = ()) -> Message:
    """An email not tied to a case (an invoice, a reminder, a note to a payroll office): recorded, then sent
    exactly once by the same delivery task as case mail, after the transaction commits."""
    message = Message.objects.create(direction=Message.Direction.OUT, status=Message.Status.QUEUED, person=person,
                                     address=address, subject=subject[:300], body=body,
                                     message_id=email.utils.make_msgid(domain=settings.TILLIT_MAIL_DOMAIN))
    for filename, content_type, data in attachments:
        name, digest = store(data, "outgoing")
        Attachment.objects.create(message=message, filename=filename, content_type=content_type, size=len(data),
                                  sha256=digest, stored_name=name)
    enqueue_on_commit(deliver_message, message.pk)
    return message


def requeue(message: Message) -> None:
    """Send an uncertain (or failed) message again, on an operator's decision; it may arrive twice."""
    updated = Message.objects.filter(pk=message.pk, status__in=[Message.Status.UNCERTAIN, Message.Status.FAILED]) \
        .update(status=Message.Status.QUEUED)
    if not updated:
        raise InvalidInput(_("Only a message whose delivery is uncertain or failed can be resent."),
                           field_errors={"message": [_("Not uncertain or failed.")]})
    enqueue_on_commit(deliver_message, message.pk)


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

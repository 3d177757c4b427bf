"""Correspondence on cases, built on the outbox (messaging.outbox): a message to the case's person is recorded
and put on the case timeline at once, delivered by the outbox after the transaction commits; a delivery that
fails or is interrupted says so on the timeline. Incoming mail is filed by messaging.inbound."""

import email
import email.policy
import email.utils
import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext as _

from tillit.cases import services as case_services
from tillit.cases.access import may_edit_case
from tillit.cases.models import Case, CaseEvent
from tillit.core.errors import InvalidInput
from tillit.core.policy import require
from tillit.core.tasks import enqueue_on_commit
from tillit.documents.models import Document
from tillit.messaging.models import Attachment, Message, MessageTemplate, Recipient
from tillit.messaging.outbox import deliver_message, requeue, settled
from tillit.registry.erasure import scrub_rows
from tillit.registry.models import Person

log = logging.getLogger(__name__)


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


@transaction.atomic
def _require_work(case, actor, channel) -> None:

    if getattr(actor, "pk", None) and channel != "portal":
        require(may_edit_case(actor, case), _("You cannot work on this case."))


def resend_message(message: Message, *, actor=None) -> None:
    """An operator's decision to send an uncertain (or failed) message again; it may arrive twice. A person doing
    it works on the message's case."""
    if message.case_id:
        _require_work(message.case, actor, "ui")
    requeue(message)


@receiver(settled)
def _on_the_timeline(sender, message_ids, status, error, **kwargs):
    """A case's message that could not be delivered, or whose sending was interrupted, says so on its timeline."""
    if status not in (Message.Status.FAILED, Message.Status.UNCERTAIN):
        return
    for message in Message.objects.filter(pk__in=message_ids, case__isnull=False).select_related("case"):
        if status == Message.Status.FAILED:
            body = _("The message could not be delivered: %(e)s") % {"e": error}
        else:
            body = _("Sending was interrupted; the message may or may not have arrived. It is not sent again "
                     "unless an operator resends it.")
        case_services.record_event(message.case, CaseEvent.Kind.MESSAGE_OUT, actor=None, body=body,
                                   data={"message": message.pk, "status": status})


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): mail to and from the person, and on their cases, loses the person's values
    (address, subject, text, attachment names); their rows of messages to a selection too. The raw mail kept
    as it came is deleted from storage for messages from them."""


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



"""Telling people that something public happened on their case: an email with a link, never the content (a
case may be about a dismissal or an illness). Messages from staff are mailed with their text by messaging."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import override

from tillit.cases.models import CaseEvent

NEWS = {CaseEvent.Kind.STATE, CaseEvent.Kind.TRANSFER, CaseEvent.Kind.NOTE, CaseEvent.Kind.DOCUMENT}


@receiver(post_save, sender=CaseEvent, dispatch_uid="tillit.portal.notify")
def public_event(sender, instance, created, **kwargs):
    if not created or not instance.public or instance.kind not in NEWS:
        return
    if instance.data.get("channel") == "portal" or instance.actor_id and _is_subject(instance):
        return  # the person did it themselves
    transaction.on_commit(lambda: notify(instance.pk))


def _is_subject(event) -> bool:
    return event.case.subjects.filter(user_id=event.actor_id).exists()


def notify(event_id: int) -> int:
    from tillit.messaging.outbox import queue_email
    from tillit.portal.services import public_url

    event = CaseEvent.objects.select_related("case__case_type").filter(pk=event_id).first()
    if event is None or not event.case.case_type.subject_can_see:
        return 0
    sent = 0
    with transaction.atomic():
        for person in event.case.subjects.exclude(email="").filter(user__isnull=False, anonymised_at__isnull=True):
            with override(person.preferred_language or "nb"):
                queue_email(address=person.email, person=person,
                            subject=_("News on your case %(n)s") % {"n": event.case.number},
                            body=_("Something new has happened on your case %(n)s. Read it here (you may need to "
                                   "log in):\n\n%(url)s\n") % {"n": event.case.number, "url": public_url(
                                       settings.TILLIT_PUBLIC_URL, "portal_case", event.case_id)})
            sent += 1
    return sent

"""The email of notifications: per user, what is new since the last round, in one message.

Only the kinds a user chose (core.notify.email_kinds) go by email; the message names the kind and the case
number and links to Tillit, never a title, a name or a text: those may be special-category data, and email
leaves our control. Notifications a user did not want by email are marked as handled all the same.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.core.models import Notification, NotificationSetting, default_email_kinds

log = logging.getLogger(__name__)
BATCH = 5000


def email_round(now=None) -> int:
    """Email each user their new notifications (one message each); returns the number of messages."""
    from tillit.cases.models import Case
    from tillit.messaging.outbox import queue_email

    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        pending = list(Notification.objects.select_for_update(skip_locked=True)
                       .filter(emailed_at__isnull=True).select_related("user").order_by("created_at")[:BATCH])
        if not pending:
            return 0
        users = {n.user_id for n in pending}
        chosen = dict(NotificationSetting.objects.filter(user_id__in=users).values_list("user_id", "email_kinds"))
        numbers = dict(Case.objects.filter(pk__in={n.object_id for n in pending if n.object_type == "case"})
                       .values_list("pk", "number"))
        per_user = defaultdict(list)
        for n in pending:
            if n.read_at is None and n.user.email and n.kind in chosen.get(n.user_id, default_email_kinds()):
                per_user[n.user_id].append(n)
        base = settings.TILLIT_PUBLIC_URL.rstrip("/")
        for items in per_user.values():
            user = items[0].user
            labels = dict(Notification.Kind.choices)
            with translation.override(settings.LANGUAGE_CODE):
                lines = [f"- {labels[n.kind]}: {numbers.get(n.object_id, '')}".rstrip(": ") for n in items]
                body = "\n".join([_("New in Tillit:"), "", *lines, "", _("Read them at %(url)s") % {
                    "url": f"{base}/notifications/"}, "",
                    _("You choose which notifications come by email at %(url)s.") % {
                        "url": f"{base}/notifications/settings/"}])
                subject = _("Tillit: %(n)d new notifications") % {"n": len(items)} if len(items) > 1 else \
                    _("Tillit: %(what)s") % {"what": lines[0][2:]}
            queue_email(address=user.email, subject=subject, body=body)
            sent += 1
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=now)
    log.info("notification email round: %d messages", sent)
    return sent


@task()
def email_round_task() -> int:
    return email_round()

"""Notifications: what a user should know about the work they hold, in Tillit and (by their choice) by email.

`notify` is called inside the transaction that changes the object, so a notification exists exactly when the
change does. Each has a key (the timeline entry, or the case and its deadline day): the same event never
notifies the same user twice. The email round (messaging.notifications) batches what is new per user.
"""

from django.db import transaction
from django.utils import timezone

from tillit.core.kept import forget, kept
from tillit.core.models import Notification, NotificationSetting, default_email_kinds

# The unread count in every staff page's header is kept per user for half a minute; a new notification or
# one marked read forgets it.
UNREAD_SECONDS = 30


def _unread_key(user_id) -> str:
    return f"tillit:unread:{user_id}"


def notify(user_ids, kind: str, *, object_type: str, object_id: int, key: str, skip=None) -> int:
    """One notification for each of `user_ids` (but `skip`, the user who did it); returns how many are new."""
    skip_id = getattr(skip, "pk", skip)
    wanted = {int(u) for u in user_ids if u and int(u) != skip_id}
    if not wanted:
        return 0
    now = timezone.now()
    rows = [Notification(user_id=u, kind=kind, object_type=object_type, object_id=object_id, key=key[:80],
                         created_at=now) for u in sorted(wanted)]
    with transaction.atomic():
        existing = set(Notification.objects.filter(user_id__in=wanted, key=key[:80]).values_list("user_id",
                                                                                              flat=True))
        new = [n for n in rows if n.user_id not in existing]
        Notification.objects.bulk_create(new, ignore_conflicts=True)
        forget(_unread_key(n.user_id) for n in new)
    return len(new)


def unread_count(user) -> int:
    return kept(_unread_key(user.pk), UNREAD_SECONDS,
                lambda: Notification.objects.filter(user=user, read_at__isnull=True).count())


def mark_read(user, *, object_type: str | None = None, object_id: int | None = None, ids=None) -> int:
    """Mark the user's unread notifications read: all, those of one object (opening the case reads them), or
    the given ids. With nothing unread (the kept count) there is nothing to write."""
    if not unread_count(user):
        return 0
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if object_type is not None:
        qs = qs.filter(object_type=object_type, object_id=object_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    marked = qs.update(read_at=timezone.now())
    if marked:
        forget([_unread_key(user.pk)])
    return marked


def email_kinds(user) -> list[str]:
    setting = NotificationSetting.objects.filter(user=user).first()
    return list(setting.email_kinds) if setting else list(default_email_kinds())


def set_email_kinds(user, kinds) -> list[str]:
    known = set(Notification.Kind.values)
    chosen = sorted({k for k in kinds if k in known})
    NotificationSetting.objects.update_or_create(user=user, defaults={"email_kinds": chosen})
    return chosen

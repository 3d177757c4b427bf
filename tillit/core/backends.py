"""The login backend: Django's model backend, with the user of a session kept in the shared cache.

Every request reads its user; kept for a minute, that is a cache read instead of a query. Saving or
deleting a user forgets the entry (a deactivated user, a changed password or a new name take effect on
the next request), and so does logging out.
"""

from django.contrib.auth.backends import ModelBackend

from tillit.core.kept import forget, kept

USER_SECONDS = 60


def _key(user_id) -> str:
    return f"tillit:user:{user_id}"


class KeptUserBackend(ModelBackend):
    def get_user(self, user_id):
        return kept(_key(user_id), USER_SECONDS, lambda: ModelBackend.get_user(self, user_id))


def forget_user(sender=None, instance=None, user=None, **kwargs) -> None:
    """Signal receiver (post_save, post_delete, user_logged_out): the user is read again next time."""
    who = instance if instance is not None else user
    if who is not None and who.pk is not None:
        forget([_key(who.pk)])

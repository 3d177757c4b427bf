"""Values read on every request, kept in the shared cache for a short time and forgotten when they change.

Each entry has a short lifetime, so a change that no code path announces is seen soon anyway; a change that
is announced deletes the entry at once and again when its transaction commits (a request in between may have
read the old value back). A generation is a token in a key: a new one retires every entry made under the old
one at once, where the entries to forget cannot be listed.
"""

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction

_MISSING = object()


def _short(key: str) -> str:
    """A key as the cache takes it: one longer than 200 characters by its hash (a scope of many units)."""
    return key if len(key) <= 200 else f"{key[:80]}#{hashlib.sha256(key.encode()).hexdigest()}"


def kept(key: str, seconds: int, read):
    """The value under `key`, or `read()` kept there for `seconds` (None is kept too)."""
    key = _short(key)
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = read()
        cache.set(key, found, seconds)
    return found


def forget(keys) -> None:
    """Delete the entries now and after the current transaction commits."""
    keys = [_short(key) for key in keys]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def generation(name: str) -> str:
    """The current generation of `name` (made on first use, and again if the cache lost it)."""
    key = f"tillit:generation:{name}"
    found = cache.get(key)
    if found is None:
        cache.add(key, uuid.uuid4().hex[:12], None)
        found = cache.get(key) or ""
    return found


def new_generation(name: str) -> None:
    """Retire every entry keyed by the current generation of `name`, now and after the commit."""
    key = f"tillit:generation:{name}"

    def renew():
        cache.set(key, uuid.uuid4().hex[:12], None)

    renew()
    transaction.on_commit(renew)


def kept_in(name: str, key: str, seconds: int, read):
    """`kept` under the current generation of `name`: every such entry is retired at once by new_generation(name)
    (see forget_on_change)."""
    return kept(f"tillit:{name}:{generation(name)}:{key}", seconds, read)


def forget_on_change(name: str, *models) -> None:
    """A new generation of `name` whenever a row of one of `models` is saved or deleted, by whatever code."""
    from django.db.models.signals import post_delete, post_save

    def receiver(**_signal):
        new_generation(name)

    for model in models:
        for signal, what in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(receiver, sender=model, weak=False,
                           dispatch_uid=f"tillit.kept.{name}.{model._meta.label}.{what}")

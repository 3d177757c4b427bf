"""Counting what one address or one client does in a window, for the limits on what anyone can send without a
login (login links, service requests) and on failed logins per client. Counters live in the shared cache, so
every server process counts together; the client is the address `tillit serve` sees (behind the trusted proxy
of TILLIT_TRUSTED_PROXY, the client the proxy names)."""

import hashlib

from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    return f"tillit:limit:{kind}:{hashlib.sha256(str(value).encode()).hexdigest()[:32]}"


def count(kind: str, value: str, seconds: int) -> int:
    """Add one to the window's count for `value` and return it."""
    key = _key(kind, value)
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, seconds)
        return 1


def over(kind: str, value: str, limit: int) -> bool:
    """Whether `value` has already reached `limit` in the current window (without counting)."""
    return (cache.get(_key(kind, value)) or 0) >= limit


def client_of(request) -> str:
    return request.META.get("REMOTE_ADDR", "")

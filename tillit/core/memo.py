"""One memo per request: what a page asks for several times (the user's grants and scopes, their own person, the
objects already found for them) is read once per request and kept here, never on `request.user`.

The memo lives for one request (RequestMemoMiddleware); outside a request (commands, the worker, a test calling
a service) nothing is remembered and every question is asked again. Across requests, the shared cache's
`core.kept` does the remembering.
"""

import contextvars

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("tillit_request_memo", default=None)


def per_request(key: tuple, read):
    """The value under `key` for this request, or `read()` remembered there."""
    store = _memo.get()
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    return store[key]


def forget_per_request(*keys: tuple) -> None:
    """Drop these entries of this request's memo (after what they hold has changed)."""
    store = _memo.get()
    if store is not None:
        for key in keys:
            store.pop(key, None)


class RequestMemoMiddleware:
    """A fresh memo for each request, dropped when its response is made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)

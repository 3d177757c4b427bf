"""Request guards and response headers that every page and endpoint shares.

- Control characters (NUL and the like) in a query string or form field are refused before any
  view runs, with a message naming the parameter: the databases cannot store them and no person
  types them.
- Every HTML page carries a Content-Security-Policy (Tillit ships no inline script); responses
  with personal data are never stored by a browser or proxy cache.
- An idle session ends after TILLIT_SESSION_IDLE_HOURS: its expiry moves forward as the user works,
  written at most every few minutes rather than on every request.
"""

import time

from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from tillit.core.text import control_character_problem

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SESSION_TOUCH_SECONDS = 300


def _bad_parameter(request) -> tuple[str, str] | None:
    sources = [request.GET]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            for text in [key, *values]:
                problem = control_character_problem(text, multiline=True)
                if problem:
                    return key, problem
    return None


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = _bad_parameter(request)
        if bad:
            field, problem = bad
            if request.path.startswith("/api/"):
                return JsonResponse({"message": f"{field}: {problem}", "errors": {field: [problem]}}, status=422)
            return HttpResponse(f"<!doctype html><title>Bad request</title><p>{escape(field)}: {escape(problem)}</p>",
                                status=400)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response


class IdleSessionMiddleware:
    """Keep the session of a user who is working alive; the cookie age is the idle limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - int(session.get("_touched", 0)) >= SESSION_TOUCH_SECONDS:
                session["_touched"] = now  # marks it modified: saved with a fresh expiry
        return self.get_response(request)


def start_idle_clock(sender, request, user, **kwargs):
    """At login the session is written anyway: start its idle clock then, not on the next request."""
    if getattr(request, "session", None) is not None:
        request.session["_touched"] = int(time.time())

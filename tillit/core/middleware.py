"""Request guards and response headers that every page and endpoint shares.

- Control characters (NUL and the like) in a query string, a form field (urlencoded or multipart) or an
  uploaded file's name are refused before any view runs, with a message naming the parameter: the
  databases cannot store them and no person types them. A body that cannot be read as a form (too large,
  too many fields, a multipart body without its boundary) gets a message saying so, not a bare 400.
- Every HTML page carries a Content-Security-Policy (Tillit ships no inline script); responses
  with personal data are never stored by a browser or proxy cache.
- An idle session ends after TILLIT_SESSION_IDLE_HOURS: its expiry moves forward as the user works,
  written at most every few minutes rather than on every request; and any session ends
  TILLIT_SESSION_MAX_HOURS after its login.
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from tillit.core.text import control_character_problem

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SESSION_TOUCH_SECONDS = 300


FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
UNREADABLE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError)


def _bad_parameter(request) -> tuple[str, str, int] | None:
    """(parameter, problem, status) of the first thing wrong with the request's parameters, or None."""
    sources = [request.GET]
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORMS:
        try:
            sources += [request.POST, {name: [f.name for f in files] for name, files in request.FILES.lists()}]
        except UNREADABLE as exc:
            too_big = isinstance(exc, RequestDataTooBig)
            return "request", (_("The form is larger than the server takes.") if too_big else
                               _("The request body cannot be read as a form.")), 413 if too_big else 400
    for source in sources:
        items = source.lists() if hasattr(source, "lists") else source.items()
        for key, values in items:
            for text in [key, *values]:
                problem = control_character_problem(text, multiline=True)
                if problem:
                    return key, problem, 400
    return None


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = _bad_parameter(request)
        if bad:
            field, problem, status = bad
            if request.path.startswith("/api/"):
                return JsonResponse({"message": f"{field}: {problem}", "errors": {field: [problem]}},
                                    status=422 if status == 400 else status)
            return render(request, "400.html", {"field": field, "problem": problem}, status=status)
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
    """Keep the session of a user who is working alive; the cookie age is the idle limit. A session older than
    TILLIT_SESSION_MAX_HOURS since its login ends however busy it is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            now = int(time.time())
            session.setdefault("_login_at", now)  # a session from before the absolute lifetime: counted from now
            if now - int(session["_login_at"]) > settings.TILLIT_SESSION_MAX_HOURS * 3600:
                logout(request)  # the absolute lifetime: however busy, log in again
                return redirect_to_login(request.get_full_path())
            if now - int(session.get("_touched", 0)) >= SESSION_TOUCH_SECONDS:
                session["_touched"] = now  # marks it modified: saved with a fresh expiry
        return self.get_response(request)


def start_idle_clock(sender, request, user, **kwargs):
    """At login the session is written anyway: start its idle clock then, not on the next request."""
    if getattr(request, "session", None) is not None:
        request.session["_touched"] = request.session["_login_at"] = int(time.time())

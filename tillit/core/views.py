from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django_tasks_db.models import DBTaskResult

from tillit.core import logins
from tillit.core.limits import client_of, count, over
from tillit.core.sign_on import providers
from tillit.registry.access import support_contact_for

LOGIN_WINDOW = 15 * 60  # seconds a client's failed logins are counted for


def healthz(request):
    """Whether the database and the worker queue (a table in it) answer; 503 if either does not."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception:  # any driver failure means unhealthy
        return JsonResponse({"database": "unreachable", "queue": "unknown"}, status=503)
    try:

        DBTaskResult.objects.filter(status="READY").exists()
        status["queue"] = "ok"
    except Exception:
        status["queue"] = "unreachable"
    return JsonResponse(status, status=200 if status["queue"] == "ok" else 503)


class LoginView(auth_views.LoginView):
    """Logging in. Besides the lockout of one username after a few failures (django-axes), one client is held back
    for a while after TILLIT_LOGIN_CLIENT_LIMIT failures over any usernames: password spraying from one address
    stops there, while a busy office behind one address still has room."""
    template_name = "core/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):

        return {**super().get_context_data(**kwargs), "providers": providers().values()}

    def post(self, request, *args, **kwargs):
        if over("login-client", client_of(request), settings.TILLIT_LOGIN_CLIENT_LIMIT):
            return render(request, self.template_name, self.get_context_data(held_back=True), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        """The password names the user; the session starts once the steps after it are done (logins.begin)."""
        step = logins.begin(self.request, form.get_user(), next_url=self.get_success_url())
        return HttpResponseRedirect(step or self.get_success_url())

    def form_invalid(self, form):
        count("login-client", client_of(self.request), LOGIN_WINDOW)
        return super().form_invalid(form)


def locked_out(request, original_response=None, credentials=None):
    """The answer to a login locked out after failed passwords: when to try again, and whom to ask meanwhile."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(request, "core/locked_out.html", {
        "contact": support_contact_for(username[:150]), "minutes": int(settings.AXES_COOLOFF_TIME * 60)}, status=429)

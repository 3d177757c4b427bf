from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from tillit.core.limits import client_of, count, over

LOGIN_WINDOW = 15 * 60  # seconds a client's failed logins are counted for


def healthz(request):
    """Whether the database and the worker queue (a table in it) answer; 503 if either does not."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception:  # noqa: BLE001 - any driver failure means unhealthy
        return JsonResponse({"database": "unreachable", "queue": "unknown"}, status=503)
    try:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(status="READY").exists()
        status["queue"] = "ok"
    except Exception:  # noqa: BLE001
        status["queue"] = "unreachable"
    return JsonResponse(status, status=200 if status["queue"] == "ok" else 503)


class LoginView(auth_views.LoginView):
    """Logging in. Besides the lockout of one username after a few failures (django-axes), one client is held back
    for a while after TILLIT_LOGIN_CLIENT_LIMIT failures over any usernames: password spraying from one address
    stops there, while a busy office behind one address still has room."""

    template_name = "core/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if over("login-client", client_of(request), settings.TILLIT_LOGIN_CLIENT_LIMIT):
            return render(request, self.template_name, {"form": self.get_form(), "held_back": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        count("login-client", client_of(self.request), LOGIN_WINDOW)
        return super().form_invalid(form)

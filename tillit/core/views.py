from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import JsonResponse


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
    template_name = "core/login.html"
    redirect_authenticated_user = True

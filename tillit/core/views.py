from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect


@login_required
def home(request):
    """Where a user starts: a representative's portal, a payroll office's own notices, a member's or citizen's
    own page, else the registry."""
    from tillit.core.scopes import VIEW, VIEW_NOTICES, scope_for
    from tillit.reps.access import is_rep

    view = scope_for(request.user, VIEW)
    if view.via_rep_only and is_rep(request.user):
        return redirect("reps_home")
    if view.empty and not scope_for(request.user, VIEW_NOTICES).empty:
        return redirect("dues_notices")
    if view.empty:  # a member or a citizen: their own Tillit (a login with no record and no grant: the same,
        return redirect("portal_home" if request.session.get("tillit_person") else "portal_services")  # services
    return redirect("people")


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

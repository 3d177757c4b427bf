"""The staff workspace: the home page, the one search, notifications, saved views and background jobs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.cases.models import Case
from tillit.core.jobs import with_progress
from tillit.core.models import Job, Notification
from tillit.core.notify import email_kinds, mark_read, set_email_kinds
from tillit.core.scopes import EDIT, VIEW, VIEW_NOTICES, scope_for
from tillit.core.tables import FORMATS
from tillit.registry import saved
from tillit.registry.access import supports_users_only
from tillit.registry.export import export_path
from tillit.registry.listing import log_people_shown
from tillit.reps.access import is_rep
from tillit.workspace.home import home_for
from tillit.workspace.search import KINDS, _employers, kinds_for, search_all


@login_required
def home(request):
    """Where a user starts: member service and case handlers on their own work; a representative on their
    portal, a payroll office on its notices, a local administrator on its users, a member or a citizen on their
    own page."""
    view = scope_for(request.user, VIEW)
    if (view.via_rep_only or view.empty) and is_rep(request.user):  # unsigned, a rep's grants open nothing yet
        return redirect("reps_home")
    if view.empty and not scope_for(request.user, VIEW_NOTICES).empty:
        return redirect("dues_notices")
    if view.empty:  # a member or a citizen: their own Tillit (a login with no record and no grant: the services)
        return redirect("portal_home" if request.session.get("tillit_person") else "portal_services")
    if scope_for(request.user, EDIT).empty and not view.everything and request.user.is_active:
        return redirect("people")  # read-only users: the register is their work
    if supports_users_only(request.user):
        return redirect("access_users")  # a local administrator's work is the support of its users
    return render(request, "workspace/home.html", home_for(request.user))


@login_required
def search(request):
    """The header's search box: everything the user may open, grouped by kind."""
    if not kinds_for(request.user):
        raise Http404
    text = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    only = [kind] if kind in KINDS else None
    results = search_all(request.user, text, kinds=only, limit=50 if only else 8)
    people = [h for h in results.get("people", [])]
    if people:
        log_people_shown(request.user, people, channel="ui", filters={"q": text})
    groups = [{"kind": k, "label": KINDS[k], "hits": hits} for k, hits in results.items()]
    return render(request, "workspace/search.html", {
        "q": text, "groups": groups, "kind": kind, "total": sum(len(g["hits"]) for g in groups)})


# --- notifications ------------------------------------------------------------------------------------------

@login_required
def notifications(request):
    """The user's notifications, newest first; each names its case only if the user may still open it."""
    items = list(Notification.objects.filter(user=request.user).order_by("-created_at", "-pk")[:100])
    case_ids = {n.object_id for n in items if n.object_type == "case"}
    cases = dict((pk, (number, title)) for pk, number, title in Case.objects.visible_to(request.user).filter(
        pk__in=case_ids).values_list("pk", "number", "title"))
    rows = []
    for n in items:
        found = cases.get(n.object_id) if n.object_type == "case" else None
        rows.append({"n": n, "case": found, "pk": n.object_id})
    return render(request, "workspace/notifications.html", {"rows": rows})


@require_POST
@login_required
def notifications_read(request):
    mark_read(request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications")


@login_required
def notification_settings(request):
    if request.method == "POST":
        chosen = set_email_kinds(request.user, request.POST.getlist("email"))
        if chosen and not request.user.email:
            messages.warning(request, _("Your login has no email address: ask a local administrator to add one."))
        messages.success(request, _("Saved."))
        return redirect("notification_settings")
    return render(request, "workspace/notification_settings.html", {
        "kinds": Notification.Kind.choices, "chosen": set(email_kinds(request.user))})


# --- saved views ----------------------------------------------------------------------------------------------

def _back(request, fallback):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and \
            target.startswith("/"):
        return redirect(target)
    return redirect(fallback)


@require_POST
@login_required
def saved_view_save(request):
    page = request.POST.get("page", "")
    if page not in saved.PAGES or scope_for(request.user, VIEW).empty:
        raise Http404
    try:
        view = saved.save_view(request.user, page, name=request.POST.get("name", ""),
                               query=request.POST.get("query", ""), share_with=request.POST.get("share", ""))
        messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
        return redirect(saved.url_of(view))
    except saved.SavedViewError as exc:
        messages.error(request, exc.message)
        return _back(request, saved.PAGES[page])


@require_POST
@login_required
def saved_view_delete(request, pk):
    view = get_object_or_404(saved.SavedView, pk=pk, user=request.user)
    page = view.page
    saved.delete_view(request.user, view)
    messages.success(request, _("The view is removed."))
    return redirect(saved.PAGES[page])


# --- pickers --------------------------------------------------------------------------------------------------

@login_required
def employer_picker(request):
    """Workplaces (or any employer node) the user covers whose name or org.nr matches: for search-as-you-type."""
    if scope_for(request.user, VIEW).empty:
        raise Http404
    hits = _employers(request.user, request.GET.get("q", "")[:100], 15) if request.GET.get("q", "").strip() else []
    return JsonResponse({"results": [{"id": h.pk, "name": h.title, "kind": h.detail} for h in hits]})


# --- background jobs ------------------------------------------------------------------------------------------

# What each kind of job shows when it is done (the app that runs it owns the template).
RESULT_TEMPLATES = {"import": "registry/_import_result.html", "export": "registry/_export_result.html"}


def _job_context(request, pk) -> dict:

    job = with_progress(get_object_or_404(Job, pk=pk, user=request.user))
    return {"job": job, "result_template": RESULT_TEMPLATES.get(job.kind, "workspace/_job_result.html")}


@login_required
def job(request, pk):
    return render(request, "workspace/job.html", _job_context(request, pk))


@login_required
def job_progress(request, pk):
    return render(request, "workspace/_job_progress.html", _job_context(request, pk))


@login_required
def job_file(request, pk):
    """The file a finished export job made: for the user who started it only."""


    job = get_object_or_404(Job, pk=pk, user=request.user, kind="export", status=Job.Status.DONE)
    fmt = job.result.get("fmt", "")
    path = export_path(job, fmt) if fmt in ("csv", "xlsx") else None
    if path is None or not path.exists():
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.result.get("filename", path.name),
                        content_type=FORMATS[fmt])


@login_required
def jobs(request):
    return render(request, "workspace/jobs.html", {
        "jobs": Job.objects.filter(user=request.user).order_by("-created_at", "-pk")[:50]})




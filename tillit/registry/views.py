"""Staff UI for the registry. Thin: parse, authorise through visible_to, call one service, render."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.db.models.functions import Substr
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.core import jobs
from tillit.core.audit import access_log_for, history_rows, log_access, log_access_many, looked_rows
from tillit.core.errors import ConflictError, DomainError
from tillit.core.forms import add_domain_errors
from tillit.core.models import AuditEntry, Job
from tillit.core.present import url_maker
from tillit.core.scopes import EDIT, EXPORT, IMPORT, MERGE, VIEW, VIEW_ACCESS_LOG, channel_for, mark_shown, scope_for
from tillit.core.text import as_id, as_page
from tillit.registry import access, services
from tillit.registry import fields as person_fields
from tillit.registry.export import export_response, export_task, people_to_export
from tillit.registry.forms import EmploymentForm, ImportForm, MembershipForm, PersonForm, RoleForm, StatusForm
from tillit.registry.identity import format_national_id, format_phone
from tillit.registry.importer import ImportFileError, import_task, parse_mapping, rejects_path
from tillit.registry.listing import FILTERS, clean_filters, log_people_shown, people_page, people_total
from tillit.registry.models import (
    DuplicateReview,
    Employer,
    Employment,
    LeavePeriod,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    MembershipType,
    OrgUnit,
    Person,
    RoleType,
    employers_in_scope,
    may,
    registration_home,
    shown_national_ids,
    unit_options,
    units_in_scope,
)
from tillit.registry.panels import NODE_PANELS, person_panels
from tillit.registry.saved import views_for
from tillit.registry.search import picked_label

PAGE_SIZE = 50


def get_person_for_user(request, pk, perm=VIEW) -> Person:
    """The person if `request.user` may see (or act on) them; 404 otherwise, never 403. The staff pages are for
    grants: a login without one (a member, a citizen: their own record only) has self-service instead."""
    if not access.may_open_staff_pages(request.user, perm):
        raise Http404
    person = get_object_or_404(Person.objects.visible_to(request.user, perm), pk=pk)
    mark_shown(request.user, person, perm)
    return person


def _memberships_prefetch():
    return Prefetch("memberships", queryset=Membership.objects.select_related("branch", "membership_type")
                    .order_by("-joined_on"))


def latest_memberships(person_ids) -> dict[int, tuple]:
    """Each person's latest membership as (member number, branch name, status label), in one query."""
    labels = dict(MembershipStatus.choices)
    latest = {}
    for person_id, number, branch, status in Membership.objects.filter(person_id__in=person_ids).order_by(
            "person_id", "-joined_on", "-pk").values_list("person_id", "member_number", "branch__name", "status"):
        latest.setdefault(person_id, (number, branch, labels.get(status, status)))
    return latest


@login_required
def people(request):

    filters = clean_filters(request.GET, request.user)
    page = as_page(request.GET.get("page"))
    shown = Person.objects.visible_to(request.user).current().only("pk", "first_name", "last_name", "email",
                                                                     "user_id", "search_name")
    found, has_next = people_page(shown, filters, page=page, size=PAGE_SIZE)
    log_people_shown(request.user, found, channel="ui", filters=filters)

    units = unit_options(request.user)
    total, more = people_total(shown, filters, page=page, size=PAGE_SIZE, found=len(found), has_next=has_next)
    latest, person_url = latest_memberships([p.pk for p in found]), url_maker("person")
    rows = []
    for p in found:
        number, branch, status = latest.get(p.pk, ("", "", ""))
        rows.append({"url": person_url(p.pk), "name": f"{p.last_name}, {p.first_name}", "email": p.email,
                     "number": number, "branch": branch, "status": status})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/people.html", {
        "rows": rows, "page": page,
        "filters": {key: filters.get(key, "") for key in FILTERS},  # every key, so templates never miss
        "has_next": has_next, "query": query.urlencode(),
        "units": units, "statuses": MembershipStatus.choices,
        "types": [(t.code, t.shown_name) for t in MembershipType.objects.all()],
        "can_export": not scope_for(request.user, EXPORT).empty,
        "can_create": not scope_for(request.user, EDIT).empty,
        "total": total, "more": more,
        "workplace": picked_label(as_id(filters.get("workplace")) or -1 if filters.get("workplace") else None,
                                  request.GET),
        "saved_views": views_for(request.user, "people"), "current_view": as_id(request.GET.get("view")),
        "share_units": unit_options(request.user, EDIT),  # a saved view is shared with units the user edits in
    })


@login_required
def people_export(request, fmt):
    """The filtered list as CSV or XLSX: in the request when it is small, else as a background job whose page
    follows its progress and offers the file (the same link clicked twice within minutes finds the same job)."""
    import hashlib


    if fmt not in ("csv", "xlsx"):
        raise Http404
    filters = clean_filters(request.GET, request.user)
    people = people_to_export(request.user, filters)
    if people[:settings.TILLIT_EXPORT_INLINE_ROWS + 1].count() <= settings.TILLIT_EXPORT_INLINE_ROWS:
        return export_response(people, fmt, user=request.user, channel="ui", filters=filters)
    window = int(timezone.now().timestamp() // 600)
    token = hashlib.sha256(f"export:{request.user.pk}:{fmt}:{sorted(filters.items())}:{window}".encode()).hexdigest()
    job, _created = jobs.start(request.user, "export", token=token, task=export_task,
                               label=_("Export of people (%(fmt)s)") % {"fmt": fmt.upper()},
                               params={"fmt": fmt, "filters": filters})
    return redirect("job", pk=job.pk)


def _person_context(request, person):
    # Each section fetches the columns it shows (compiling and reading every column of four joined tables was a
    # fifth of the page); the templates touch no other field.
    memberships = list(person.memberships.select_related("branch", "membership_type").only(
        "person_id", "member_number", "status", "ends_on", "joined_on", "branch__name", "membership_type__name",
        "membership_type__translations").prefetch_related(Prefetch("periods", queryset=MembershipPeriod.objects.only(
            "membership_id", "status", "valid_from", "valid_to", "reason"))).order_by("-joined_on"))
    employments = list(person.employments.select_related("workplace__region").only(
        "person_id", "workplace_id", "position", "percentage", "starts_on", "ends_on", "payroll_deduction",
        "workplace__name", "workplace__path", "workplace__region_id", "workplace__region__path").prefetch_related(
        Prefetch("leaves", queryset=LeavePeriod.objects.only("employment_id", "starts_on", "ends_on", "reason")))
        .order_by("-starts_on"))
    scope = scope_for(request.user, VIEW)
    for e in employments:  # a link to the workplace only for those who may open its page (no query)
        e.linked = not scope.empty and e.workplace.in_scope(scope)
    roles = list(person.roles.select_related("role_type", "org_unit", "employer").only(
        "person_id", "starts_on", "ends_on", "role_type__name", "role_type__translations", "org_unit__name",
        "employer__name").order_by("-starts_on"))
    history = list(AuditEntry.objects.filter(person_id=person.pk).select_related("actor").only(
        "at", "actor__username", "channel", "action", "object_type", "changes")[:HISTORY_SHOWN + 1])
    may_see_log = may(request.user, VIEW_ACCESS_LOG, person)
    looked = list(access_log_for(person.pk, limit=HISTORY_SHOWN)) if may_see_log else None
    return {
        "person": person,
        "national_id": shown_national_ids(request.user, [person]).get(person.pk, ""),
        "phone": format_phone(person.phone),
        "memberships": memberships, "employments": employments, "roles": roles,
        "history": history[:HISTORY_SHOWN], "more_history": len(history) > HISTORY_SHOWN,
        "history_rows": history_rows(history[:HISTORY_SHOWN]),
        "panels": person_panels(request, person),
        "can_edit": may(request.user, EDIT, person),
        "can_merge": may(request.user, MERGE, person),
        "looked": looked, "looked_rows": looked_rows(looked or []),
        "today": timezone.localdate(),
    }


HISTORY_SHOWN = 25


@login_required
def person_history(request, pk):
    """The person's whole change history, newest first, a hundred entries a page."""
    person = get_person_for_user(request, pk)
    page = as_page(request.GET.get("page"))
    entries = list(AuditEntry.objects.filter(person_id=person.pk).select_related("actor")
                   [(page - 1) * 100:page * 100 + 1])
    if person.user_id != request.user.pk:
        log_access(request.user, "person.view", channel="ui", person_id=person.pk, detail={"history": page})
    return render(request, "registry/person_history.html", {
        "person": person, "history": entries[:100], "history_rows": history_rows(entries[:100]), "page": page,
        "has_next": len(entries) > 100, "query": ""})


@login_required
def person_detail(request, pk):
    if not access.may_open_staff_pages(request.user):  # a member or a citizen: their own data is in self-service
        if Person.objects.filter(pk=as_id(pk) or 0, user=request.user).exists():
            return redirect("home")
        raise Http404
    person = get_person_for_user(request, pk)
    if person.merged_into_id:
        messages.info(request, _("This record was merged into another person."))
        return redirect("person", pk=person.merged_into_id)
    if person.user_id != request.user.pk:
        log_access(request.user, "person.view", channel="ui", person_id=person.pk)
    return render(request, "registry/person.html", _person_context(request, person))


def _initial(person):
    entered = [f for f in person_fields.ENTERED if f not in person_fields.FOREIGN_KEYS]
    return {f: getattr(person, f) or "" for f in entered} | {
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "national_id": format_national_id(person.national_id or ""), "phone": person.phone,
        "version": person.version}


@login_required
def person_edit(request, pk):
    person = get_person_for_user(request, pk, EDIT)
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "allow_duplicate")}
            try:
                services.update_person(person, data, actor=request.user, channel=channel_for(request.user),
                                       expected_version=form.cleaned_data["version"])
                messages.success(request, _("Saved."))
                return redirect("person", pk=person.pk)
            except ConflictError as exc:
                form.add_domain_errors(exc)
                person.refresh_from_db()
            except DomainError as exc:
                form.add_domain_errors(exc)
    else:
        form = PersonForm(initial=_initial(person))
    return render(request, "registry/person_form.html", {"form": form, "person": person})


@login_required
def person_new(request):
    if scope_for(request.user, EDIT).empty:
        raise Http404
    matches = []
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "allow_duplicate")}
            data |= registration_home(request.user)
            try:
                person = services.create_person(data, actor=request.user, channel=channel_for(request.user),
                                                allow_duplicate=form.cleaned_data["allow_duplicate"])
                messages.success(request, _("Registered."))
                return redirect("person", pk=person.pk)
            except ConflictError as exc:
                matches = exc.matches  # only people this user may see: the service never names others
                form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_domain_errors(exc)
    else:
        form = PersonForm()
    return render(request, "registry/person_form.html", {"form": form, "matches": matches})


@login_required
def person_merge(request, pk):
    person = get_person_for_user(request, pk, MERGE)
    other = None
    other_pk = request.POST.get("duplicate") or request.GET.get("duplicate")
    if as_id(other_pk):
        other = get_person_for_user(request, as_id(other_pk), MERGE)
    if request.method == "POST" and other is not None and request.POST.get("confirm") == "yes":
        try:
            services.merge_persons(person, other, actor=request.user, channel="ui")
            messages.success(request, _("Merged."))
            return redirect("person", pk=person.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    candidates = [p for p, _r in services.find_duplicates(
        {"national_id": person.national_id, "email": person.email, "phone": person.phone,
         "first_name": person.first_name, "last_name": person.last_name, "birth_date": person.birth_date},
        exclude_pk=person.pk)]
    visible = set(Person.objects.visible_to(request.user, MERGE).filter(
        pk__in=[p.pk for p in candidates]).values_list("pk", flat=True))
    shown = [p for p in candidates if p.pk in visible]
    log_access_many(request.user, "person.view", [p.pk for p in [person, *shown, *([other] if other else [])]],
                    channel="ui", detail={"page": "merge"})
    return render(request, "registry/person_merge.html", {"person": person, "other": other, "candidates": shown})


def _workplaces(user, perm, limit=500):
    return list(employers_in_scope(user, perm).filter(kind=Employer.Kind.WORKPLACE).order_by("name")[:limit])


@login_required
def membership_new(request, pk):
    person = get_person_for_user(request, pk, EDIT)
    units = {str(u.pk): u for u in units_in_scope(request.user, EDIT)}
    form = MembershipForm(request.POST or None, initial={"joined_on": timezone.localdate()})
    form.fields["branch"].choices = [(k, u.name) for k, u in units.items()]
    if request.method == "POST" and form.is_valid():
        try:
            services.add_membership(person, membership_type=form.cleaned_data["membership_type"],
                                    branch=units[form.cleaned_data["branch"]], joined_on=form.cleaned_data["joined_on"],
                                    actor=request.user, channel=channel_for(request.user))
            return redirect("person", pk=person.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(request, "registry/simple_form.html", {"form": form, "person": person,
                                                         "title": _("New membership")})


@login_required
def membership_status(request, pk, membership_pk):
    person = get_person_for_user(request, pk, EDIT)
    membership = get_object_or_404(Membership, pk=membership_pk, person=person)
    form = StatusForm(request.POST or None, initial={"on": timezone.localdate(), "version": membership.version,
                                                     "status": membership.status})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.change_membership_status(membership, d["status"], on=d["on"], ends_on=d["ends_on"],
                                              reason=d["reason"], actor=request.user,
                                              channel=channel_for(request.user), expected_version=d["version"])
            return redirect("person", pk=person.pk)
        except DomainError as exc:
            add_domain_errors(form, exc)
    return render(request, "registry/simple_form.html", {"form": form, "person": person,
                                                         "title": _("Change membership status")})


@login_required
def employment_new(request, pk):
    person = get_person_for_user(request, pk, EDIT)
    workplaces = {str(w.pk): w for w in _workplaces(request.user, EDIT)}
    form = EmploymentForm(request.POST or None, initial={"starts_on": timezone.localdate()})
    form.fields["workplace"].choices = [(k, f"{w.name}") for k, w in workplaces.items()]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data, workplace=workplaces[form.cleaned_data["workplace"]])
        try:
            services.add_employment(person, data, actor=request.user, channel=channel_for(request.user))
            return redirect("person", pk=person.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(request, "registry/simple_form.html", {"form": form, "person": person,
                                                         "title": _("New employment")})


@login_required
def role_new(request, pk):
    person = get_person_for_user(request, pk, EDIT)
    nodes = {f"org:{u.pk}": u for u in units_in_scope(request.user, EDIT)}
    nodes.update({f"employer:{w.pk}": w for w in _workplaces(request.user, EDIT)})
    form = RoleForm(request.POST or None, initial={"starts_on": timezone.localdate()})
    form.fields["node"].choices = [(k, str(n)) for k, n in nodes.items()]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.assign_role(person, d["role_type"], nodes[d["node"]], starts_on=d["starts_on"],
                                 ends_on=d["ends_on"], actor=request.user, channel=channel_for(request.user))
            return redirect("person", pk=person.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(request, "registry/simple_form.html", {"form": form, "person": person, "title": _("New role")})


# --- the two trees ---------------------------------------------------------------------------

def _covered_node(request, model, tree, pk):
    if tree == "employer":
        return get_object_or_404(employers_in_scope(request.user), pk=pk)
    return get_object_or_404(model.objects.filter(pk__in=[u.pk for u in units_in_scope(request.user)]), pk=pk)


def _top_nodes(request, model, tree):
    """The highest nodes the user covers; for staff of a region, the workplaces in it."""
    scope = scope_for(request.user, VIEW)
    if scope.everything:
        return list(model.objects.get_root_nodes())
    nodes = list(employers_in_scope(request.user)) if tree == "employer" else units_in_scope(request.user)
    paths = {n.path for n in nodes}
    return sorted((n for n in nodes if not any(n.path != p and n.path.startswith(p) for p in paths)),
                  key=lambda n: n.name)


def _member_counts(request, parent_path, nodes, tree):
    """Members in force today under each node (all nodes at one depth below `parent_path`).

    One grouped query, counted within the user's own visibility.
    """
    if not nodes:
        return {}

    today = timezone.localdate()
    length = len(nodes[0].path)
    visible = Person.objects.visible_to(request.user).values("pk")
    paths = [n.path for n in nodes]
    if tree == "org":
        rows = Membership.objects.member_on(today).filter(branch__path__startswith=parent_path, person__in=visible)
        rows = rows.annotate(p=Substr("branch__path", 1, length)).filter(p__in=paths).values("p").annotate(
            n=Count("id"))
    else:
        rows = Employment.objects.current_on(today).filter(workplace__path__startswith=parent_path,
                                                           person__in=visible)
        rows = rows.annotate(p=Substr("workplace__path", 1, length)).filter(p__in=paths).values("p").annotate(
            n=Count("person", distinct=True))
    return {r["p"]: r["n"] for r in rows}


def _tree_page(request, model, tree, pk, template):
    if pk is None:
        node = None
        nodes = _top_nodes(request, model, tree)
        counts = {}
        for top in nodes:  # the tops a user covers are few; one count each
            counts.update(_member_counts(request, top.path, [top], tree))
    else:
        node = _covered_node(request, model, tree, pk)
        nodes = list(model.objects.get_children(node).order_by("name"))
        counts = _member_counts(request, node.path, nodes, tree)
    rows = [(n, counts.get(n.path, 0)) for n in nodes]
    return render(request, template, {"node": node, "rows": rows, "tree": tree,
                                      "ancestors": model.objects.get_ancestors(node) if node else [],
                                      "panels": NODE_PANELS[tree].render(request, node) if node else []})


@login_required
def org_units(request, pk=None):
    return _tree_page(request, OrgUnit, "org", pk, "registry/tree.html")


@login_required
def employers(request, pk=None):
    return _tree_page(request, Employer, "employer", pk, "registry/tree.html")


# --- import --------------------------------------------------------------------------------

@login_required
def import_upload(request):
    """Upload a file; the import runs in the background (registry.importer.import_task) and the user follows
    it on its job page. The form's one-time token makes a second click land on the same job."""
    if scope_for(request.user, IMPORT).empty:
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        token = request.POST.get("token", "")
        earlier = Job.objects.filter(token=token, user=request.user).first() if token else None
        if earlier is not None:
            return redirect("job", pk=earlier.pk)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                mapping = parse_mapping(form.cleaned_data["mapping"])
            except ImportFileError as exc:
                form.add_error("mapping", str(exc))
                mapping = None
            if upload.size > settings.TILLIT_IMPORT_MAX_BYTES:
                form.add_error("file", _("The file is too large."))
            elif mapping is not None:
                path = jobs.job_dir() / f"{jobs.new_token()}.upload"
                with open(path, "wb") as fh:
                    for chunk in upload.chunks():
                        fh.write(chunk)
                job, _created = jobs.start(request.user, "import", token=token, label=_("Import of %(name)s") % {
                    "name": upload.name[:150]}, task=import_task, params={
                    "path": str(path), "filename": upload.name[:200], "mapping": mapping,
                    "skip_invalid": form.cleaned_data["skip_invalid"]})
                return redirect("job", pk=job.pk)
    return render(request, "registry/import.html", {"form": form, "token": jobs.new_token(),
                                                    "recent": Job.objects.filter(user=request.user, kind="import")
                                                    .order_by("-created_at")[:5]})


@login_required
def import_rejects(request, pk):

    job = get_object_or_404(Job, pk=pk, user=request.user, kind="import")
    path = rejects_path(job)
    if not path.exists():
        raise Http404
    response = HttpResponse(path.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{job.pk}.csv"'
    return response


@login_required
def duplicate_reviews(request):
    """Registrations that matched people their authors could not see, for member service to resolve."""
    if scope_for(request.user, MERGE).empty:
        raise Http404
    visible = Person.objects.visible_to(request.user, MERGE)
    reviews = list(DuplicateReview.objects.filter(resolved_at__isnull=True, person__in=visible)
                   .select_related("person", "created_by").order_by("created_at")[:200])
    match_ids = {pk for r in reviews for pk, _reasons in r.matches}
    people = {p.pk: p for p in visible.filter(pk__in=match_ids)}
    rows = [(r, m) for r, m in ((r, [(people[pk], reasons) for pk, reasons in r.matches if pk in people])
                                for r in reviews) if m]
    log_access_many(request.user, "person.list", [p.pk for r, m in rows for p in [r.person, *(x for x, _ in m)]],
                    channel="ui", detail={"page": "duplicate_reviews"})
    return render(request, "registry/reviews.html", {"rows": rows})


@require_POST
@login_required
def duplicate_review_dismiss(request, pk):
    visible = Person.objects.visible_to(request.user, MERGE)
    review = get_object_or_404(DuplicateReview.objects.filter(person__in=visible), pk=pk)
    if visible.filter(pk__in=[pk for pk, _r in review.matches]).count() != len(review.matches):
        raise Http404  # deciding needs sight of both sides
    try:
        services.dismiss_review(review, actor=request.user)
        messages.success(request, _("Marked as different people."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("duplicate_reviews")


@login_required
def type_texts(request):
    """The names of membership types and role types in every language, for the people who configure Tillit."""
    if not access.may_configure(request.user):
        raise Http404

    languages = list(settings.LANGUAGES)
    kinds = [("membership", _("Membership types"), list(MembershipType.objects.order_by("name"))),
             ("role", _("Role types"), list(RoleType.objects.order_by("name")))]
    status = 200
    if request.method == "POST":
        texts = {kind: {t.code: {code: request.POST.get(f"t:{kind}:{t.code}:{code}", "") for code, _n in languages}
                        for t in types} for kind, _label, types in kinds}
        try:
            services.translate_types(texts, actor=request.user)
            messages.success(request, _("The texts are saved."))
            return redirect("type_texts")
        except DomainError as exc:
            for line in exc.lines():
                messages.error(request, line)
            status = 422
    groups = [{"kind": kind, "label": label, "rows": [
        {"type": t, "cells": [{"name": name, "field": f"t:{kind}:{t.code}:{code}",
                               "value": request.POST.get(f"t:{kind}:{t.code}:{code}", "") if request.method == "POST"
                               else t.translations.get(code, "")} for code, name in languages]} for t in types]}
        for kind, label, types in kinds]
    return render(request, "registry/type_texts.html", {"groups": groups, "languages": languages}, status=status)

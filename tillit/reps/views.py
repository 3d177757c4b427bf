"""The representatives' portal: dashboard, member lists, the company tree, other reps, deduction notices and
the regional coverage view. Every page is for one of the user's rep nodes (or a node under one)."""

import functools
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.core import audit
from tillit.core.charts import line_chart
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.scopes import CONFIGURE, CORRECT, EDIT, organisation_wide
from tillit.core.tables import FORMATS, table_bytes
from tillit.core.text import as_page, as_version
from tillit.dues.access import log_lines_shown
from tillit.registry.access import may_correct_anyone
from tillit.registry.models import Employment, MembershipStatus, MembershipType, Person, may
from tillit.registry.validation import Errors
from tillit.reps import corrections, declaration, kpis, lists, selection
from tillit.reps import coverage as coverage_lists
from tillit.reps.access import coverage_nodes, node_for, rep_nodes
from tillit.reps.figures import describe, figures, list_total
from tillit.reps.models import Correction, EntitlementBand, SavedFilter

PAGE = 50
EXPORT_FIELDS = {"name": gettext_lazy("Name"), "member_number": gettext_lazy("Member number"),
                 "workplace": gettext_lazy("Workplace"), "position": gettext_lazy("Position"),
                 "email": gettext_lazy("Email"), "phone": gettext_lazy("Phone"), "status": gettext_lazy("Status"),
                 "owed": gettext_lazy("Owed (kr)")}


def _base(request, node, **extra):
    return {"node": node, "nodes": rep_nodes(request.user), "today": timezone.localdate(), "rep_links": True, **extra}


def signed_first(view):
    """Lists with personal data open only after the rep signed the current confidentiality declaration."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        node_for(request.user, request.GET.get("node"))  # a 404 first for what is not theirs
        if not declaration.has_signed(request.user):
            return redirect(reverse("reps_declaration") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)
    return wrapper


@login_required
def declaration_page(request):
    """The current declaration in the reader's language; a rep who has not signed it signs here."""
    if not rep_nodes(request.user):
        raise Http404
    current = declaration.current()
    error = ""
    if request.method == "POST":
        try:
            declaration.sign(request.user, name=request.POST.get("name", ""),
                             version=as_version(request.POST.get("version")), language=get_language() or "nb")
        except DomainError as exc:
            error = "; ".join(exc.lines())
        else:
            target = request.POST.get("next", "")
            return redirect(target if url_has_allowed_host_and_scheme(target, allowed_hosts=None) and
                            target.startswith("/reps/") else reverse("reps_home"))
    return render(request, "reps/declaration.html", {
        "declaration": current, "text": current.text_in(get_language() or "nb") if current else "",
        "signed": declaration.has_signed(request.user), "error": error, "next": request.GET.get("next", ""),
        "node": node_for(request.user, None), "nodes": rep_nodes(request.user)}, status=422 if error else 200)


@login_required
def declaration_edit(request):
    """The system owner writes the declaration (a new version each time it is saved)."""
    if not organisation_wide(request.user, CONFIGURE):
        raise Http404
    current = declaration.current()
    error = ""
    if request.method == "POST":
        try:
            declaration.publish({lang: request.POST.get(f"text_{lang}", "") for lang in declaration.LANGUAGES},
                                actor=request.user, expected_version=as_version(request.POST.get("version")))
        except DomainError as exc:
            error = "; ".join(exc.lines())
        else:
            messages.success(request, _("A new version of the declaration is published; every rep signs it again."))
            return redirect("reps_declaration_edit")
    return render(request, "reps/declaration_edit.html", {
        "declaration": current, "languages": declaration.LANGUAGES, "error": error,
        "texts": current.texts if current else {},
        "signatures": current.signatures.count() if current else 0}, status=422 if error else 200)


@login_required
def dashboard(request):
    node = node_for(request.user, request.GET.get("node"))
    today = timezone.localdate()
    kept, live, month_ago, year_ago, trend = figures(node, today)
    list_url = reverse("reps_members")
    rows = []
    for kpi, label in kpis.KPIS:
        def at(day, kpi=kpi):
            figures = kept.get(day)
            return None if figures is None else figures[kpi]
        rows.append({"kpi": kpi, "label": label, "now": kept[today][kpi], "month_ago": at(month_ago),
                     "year_ago": at(year_ago), "url": f"{list_url}?node={node.key}&kpi={kpi}"})
    series = [(d, kept[d]["members"] if kept.get(d) else None) for d in trend]
    shown = [(d, v) for d, v in series if v is not None]
    chart = line_chart([d.strftime("%Y-%m") for d, _v in shown], [v for _d, v in shown],
                       title=_("Members at the end of each month")) if shown else ""
    return render(request, "reps/dashboard.html", _base(request, node, rows=rows, live=live, chart=chart,
                                                         series=series, month_ago=month_ago, year_ago=year_ago,
                                                         counted=None if live else kpis.latest_count(today)))


def _listed(request):
    """The node, the cleaned filters and the selection of the member list (a 400 page names a bad filter)."""
    node = node_for(request.user, request.GET.get("node"))
    filters = selection.clean(request.GET)
    return node, filters, selection.select(request.user, node, filters)


@login_required
@signed_first
def member_list(request):
    try:
        node, filters, found = _listed(request)
    except InvalidInput as exc:
        node = node_for(request.user, request.GET.get("node"))
        return render(request, "reps/members.html", _base(request, node, errors=exc.lines(), rows=[], total=0,
                                                           **_list_choices(request, {})), status=400)
    today = timezone.localdate()
    page = as_page(request.GET.get("page"))
    chunk = list(found[(page - 1) * PAGE:page * PAGE + 1])
    rows = describe(chunk[:PAGE], today)
    audit.log_access_many(request.user, "reps.members.listed", [r["person_id"] for r in rows], channel="rep",
                          detail={"node": node.key, **selection.as_query(filters, node.key)})
    query = urlencode(selection.as_query(filters, node.key))
    total, exact, counted = list_total(node, filters, found, today)
    return render(request, "reps/members.html", _base(
        request, node, rows=rows, kpi=filters["kpi"], label=dict(kpis.KPIS)[filters["kpi"]], total=total,
        exact=exact, counted=counted, page=page, has_next=len(chunk) > PAGE, query=query,
        **_list_choices(request, filters)))


def _list_choices(request, filters):
    return {"kpis": kpis.KPIS, "statuses": MembershipStatus.choices, "sorts": list(selection.SORT_LABELS.items()),
            "types": MembershipType.objects.values_list("code", "name"), "ages": list(selection.AGE_BANDS),
            "saved": SavedFilter.objects.filter(user=request.user), "filters": filters,
            "may_correct": may_correct_anyone(request.user)}


@login_required
@signed_first
@require_POST
def save_filter(request):
    """Keep the list's query under a name (the same name again replaces it)."""
    node = node_for(request.user, request.GET.get("node"))
    name = (request.POST.get("name") or "").strip()
    try:
        filters = selection.clean(request.GET)
        if not name or len(name) > 100:
            raise InvalidInput(_("Give the filter a name of at most 100 characters."),
                               field_errors={"name": [_("This field is required.")]})
    except InvalidInput as exc:
        messages.error(request, "; ".join(exc.lines()))
        return redirect(reverse("reps_members") + "?" + request.GET.urlencode())
    query = selection.as_query(filters, node.key)
    SavedFilter.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
    messages.success(request, _("The filter “%(name)s” is saved.") % {"name": name})
    return redirect(reverse("reps_members") + "?" + urlencode(query))


@login_required
@require_POST
def delete_filter(request, pk):
    found = SavedFilter.objects.filter(user=request.user, pk=pk).first()
    if found is None:
        raise Http404
    found.delete()
    messages.success(request, _("The filter is deleted."))
    return redirect(reverse("reps_members") + "?" + urlencode(found.query))


def export_fields() -> list[str]:
    wanted = getattr(settings, "TILLIT_REP_EXPORT_FIELDS", list(EXPORT_FIELDS))
    return [f for f in wanted if f in EXPORT_FIELDS]


def table_response(header, rows, fmt, name) -> HttpResponse:
    """A header and rows as a CSV or XLSX download (core.tables: formulas neutralised)."""
    response = HttpResponse(table_bytes(fmt, [str(h) for h in header], rows), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@signed_first
def member_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        node, filters, found = _listed(request)
    except InvalidInput as exc:
        return HttpResponse("; ".join(exc.lines()), status=400, content_type="text/plain; charset=utf-8")
    today = timezone.localdate()
    rows = describe(list(found[:20_000]), today)
    fields = export_fields()
    audit.log_access_many(request.user, "reps.members.exported", [r["person_id"] for r in rows], channel="rep",
                          detail={"fmt": fmt, **selection.as_query(filters, node.key)})
    return table_response([EXPORT_FIELDS[f] for f in fields], [[r[f] for f in fields] for r in rows], fmt,
                          f"members-{node.key}-{filters['kpi']}-{today.isoformat()}")




@login_required
def company_tree(request):
    """The employer nodes under the node (or a region's workplaces), with members, members in work and reps."""
    node = node_for(request.user, request.GET.get("node"))
    rows, counted = lists.tree(request.user, node, timezone.localdate())
    return render(request, "reps/tree.html", _base(request, node, rows=rows, counted=counted,
                                                    signed=declaration.has_signed(request.user)))


@login_required
@signed_first
def other_reps(request):
    node = node_for(request.user, request.GET.get("node"))
    roles, own = lists.other_reps(request.user, node, timezone.localdate())
    audit.log_access_many(request.user, "reps.reps.listed", [r.person_id for r in roles], channel="rep",
                          detail={"node": node.key})
    return render(request, "reps/reps.html", _base(request, node, roles=roles, own=own))


@login_required
@signed_first
def notices(request):
    """Deduction notices of the last three months for the payroll offices of the node's workplaces, with only
    the lines about members the rep may see."""
    node = node_for(request.user, request.GET.get("node"))
    shown = lists.notices(request.user, node, timezone.localdate())
    log_lines_shown(request.user, "reps.notices.viewed", [line for n in shown for line in n["lines"]], channel="rep",
                    detail={"node": node.key})
    return render(request, "reps/notices.html", _base(request, node, notices=shown))


def _coverage_node(request):
    """The node of a coverage page (a rep's, or a staff unit's); a rep signs the declaration before it opens."""
    node = node_for(request.user, request.GET.get("node"), coverage_nodes(request.user))
    if rep_nodes(request.user) and not declaration.has_signed(request.user):
        return node, redirect(reverse("reps_declaration") + "?" + urlencode({"next": request.get_full_path()}))
    return node, None


@login_required
def coverage(request):
    """Workplaces with enough members and no rep, those that lost their rep within a year, terms ending soon, and
    the reps each workplace may elect against those it has."""
    node, to_sign = _coverage_node(request)
    if to_sign:
        return to_sign
    nodes = coverage_nodes(request.user)
    as_rep = bool(rep_nodes(request.user))
    # a workplace opens in the reps' portal for a rep, on the employer page for staff; one reverse, not one a row
    return render(request, "reps/coverage.html", _base(
        request, node, **coverage_lists.lists(request.user, node), nodes=nodes, rep_links=as_rep,
        may_configure=organisation_wide(request.user, CONFIGURE),
        home=reverse("reps_home") + "?node=employer-" if as_rep else reverse("employers"),
        home_end="" if as_rep else "/"))


@login_required
def coverage_export(request, which, fmt):
    if fmt not in ("csv", "xlsx") or which not in ("lacking", "lost", "ending", "entitlement"):
        raise Http404
    node, to_sign = _coverage_node(request)
    if to_sign:
        return to_sign
    header, rows = coverage_lists.rows_for_export(coverage_lists.lists(request.user, node, limit=None), which)
    return table_response(header, rows, fmt, f"{which}-{node.key}-{timezone.localdate().isoformat()}")


@login_required
def entitlement_edit(request):
    """The system owner's rule table: from how many organised employees a workplace may elect how many reps."""
    if not organisation_wide(request.user, CONFIGURE):
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            rows = _bands_from(request.POST)
        except InvalidInput as exc:
            error = "; ".join(exc.lines())
        else:
            with transaction.atomic():
                before = coverage_lists.bands()
                EntitlementBand.objects.all().delete()
                EntitlementBand.objects.bulk_create([EntitlementBand(min_members=m, reps=r) for m, r in rows])
                audit.record("reps.entitlement.changed", EntitlementBand.objects.order_by("pk").first()
                             or request.user, actor=request.user, channel="ui", changes={"bands": [before, rows]})
            messages.success(request, _("The rule table is saved."))
            return redirect("reps_entitlement")
    bands = coverage_lists.bands()
    return render(request, "reps/entitlement.html", {
        "bands": bands, "blank": range(3), "error": error}, status=422 if error else 200)


def _bands_from(post) -> list[tuple[int, int]]:
    errors = Errors()
    rows = {}
    for i, (low, reps) in enumerate(zip(post.getlist("min_members"), post.getlist("reps"), strict=False), start=1):
        low, reps = low.strip(), reps.strip()
        if not low and not reps:
            continue
        if not (low.isdigit() and reps.isdigit()) or len(low) > 7 or len(reps) > 4:
            errors.add(f"row {i}", _("Whole numbers, please."))
            continue
        if int(low) in rows:
            errors.add(f"row {i}", _("This number of members is in the table twice."))
        rows[int(low)] = int(reps)
    if not rows and not errors.by_field:
        errors.add("min_members", _("The table needs at least one row."))
    errors.raise_if_any()
    return sorted(rows.items())


# --- corrections ---------------------------------------------------------------------------------------------

def _correctable(request, node, person_id):
    """The member (one the rep may see, in the node's list) and their current employments under the node."""
    today = timezone.localdate()
    membership = selection.select(request.user, node, {"kpi": "members"}, today).filter(
        person_id=person_id).first()
    if membership is None:
        raise Http404
    jobs = Employment.objects.current_on(today).filter(person_id=person_id).select_related("workplace")
    if node.tree == "employer":
        jobs = jobs.filter(workplace__path__startswith=node.path)
    else:
        jobs = jobs.filter(workplace__region__path__startswith=node.path)
    places = coverage_lists.workplaces_under(node).order_by("name")[:500]
    return membership.person, list(jobs), list(places)


@login_required
@signed_first
def correct(request, pk):
    node = node_for(request.user, request.GET.get("node"))
    person, jobs, places = _correctable(request, node, pk)
    if not may(request.user, CORRECT, person):
        raise Http404
    errors, status = [], 200
    if request.method == "POST":
        post = request.POST
        person_data = {f: post[f] for f in corrections.PERSON_FIELDS if f in post}
        employments = {}
        for job in jobs:
            data = {f: post[f"employment-{job.pk}-{f}"] for f in corrections.EMPLOYMENT_FIELDS
                    if f"employment-{job.pk}-{f}" in post}
            if data:
                employments[job] = (data, as_version(post.get(f"employment-{job.pk}-version")))
        try:
            done = corrections.submit(person, actor=request.user, person_data=person_data,
                                      person_version=as_version(post.get("version")), employments=employments,
                                      workplaces=places)
        except DomainError as exc:
            errors, status = exc.lines(), 409 if isinstance(exc, ConflictError) else 422
            person, jobs, places = _correctable(request, node, pk)
        else:
            if done["applied"]:
                messages.success(request, _("Saved: %(fields)s.") % {"fields": ", ".join(
                    str(corrections.LABELS[f]) for f in done["applied"])})
            if done["waiting"]:
                messages.info(request, _("Waiting for member service: %(fields)s.") % {"fields": ", ".join(
                    str(corrections.LABELS[c.field]) for c in done["waiting"])})
            if not done["applied"] and not done["waiting"]:
                messages.info(request, _("Nothing was changed."))
            return redirect(reverse("reps_corrections") + "?" + urlencode({"node": node.key}))
    pending = Correction.objects.filter(person=person, state=Correction.State.PENDING)
    return render(request, "reps/correct.html", _base(
        request, node, person=person, jobs=jobs, places=places, errors=errors, pending=pending,
        approval=set(settings.TILLIT_REP_APPROVAL_FIELDS), labels=corrections.LABELS), status=status)


@login_required
@signed_first
def my_corrections(request):
    node = node_for(request.user, request.GET.get("node"))
    found = Correction.objects.filter(requested_by=request.user, person__in=Person.objects.visible_to(
        request.user).values("pk")).select_related("person", "decided_by")[:200]  # names only of those still in sight
    return render(request, "reps/corrections.html", _base(request, node, corrections=found,
                                                           labels=corrections.LABELS))


@login_required
def correction_queue(request):
    """Member service: the reps' corrections that wait, for people the user may edit; approve or reject."""
    if not corrections.may_decide(request.user):
        raise Http404
    mine = Person.objects.visible_to(request.user, EDIT).values("pk")
    if request.method == "POST":
        found = Correction.objects.filter(pk=as_version(request.POST.get("correction")) or 0,
                                          person__in=mine).first()
        if found is None:
            raise Http404
        try:
            if request.POST.get("decision") == "approve":
                corrections.approve(found, actor=request.user)
                messages.success(request, _("Approved and applied."))
            else:
                corrections.reject(found, actor=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("Rejected; the rep sees your reason."))
        except DomainError as exc:
            messages.error(request, "; ".join(exc.lines()))
            return render(request, "reps/correction_queue.html", _queue_context(mine), status=409 if isinstance(
                exc, ConflictError) else 422)
        return redirect("correction_queue")
    return render(request, "reps/correction_queue.html", _queue_context(mine))


def _queue_context(mine):
    return {"waiting": Correction.objects.filter(state=Correction.State.PENDING, person__in=mine).select_related(
        "person", "requested_by", "employment__workplace")[:500], "labels": corrections.LABELS}

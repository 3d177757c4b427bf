"""The representatives' portal: dashboard, member lists, the company tree, other reps, deduction notices and
the regional coverage view. Every page is for one of the user's rep nodes (or a node under one)."""

import csv
import datetime
import functools
import io
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, Max, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.charts import line_chart
from tillit.core.errors import DomainError
from tillit.core.scopes import CONFIGURE
from tillit.core.text import as_page, as_version
from tillit.dues.access import organisation_wide
from tillit.registry.models import Employer, Membership, Person, Role
from tillit.reps import declaration, kpis
from tillit.reps.access import node_for, rep_nodes
from tillit.reps.figures import describe, figures

PAGE = 50
EXPORT_FIELDS = {"name": gettext_lazy("Name"), "member_number": gettext_lazy("Member number"),
                 "workplace": gettext_lazy("Workplace"), "position": gettext_lazy("Position"),
                 "email": gettext_lazy("Email"), "phone": gettext_lazy("Phone"), "status": gettext_lazy("Status")}


def _base(request, node, **extra):
    return {"node": node, "nodes": rep_nodes(request.user), "today": timezone.localdate(), **extra}


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
                                                         series=series, month_ago=month_ago, year_ago=year_ago))


def _member_rows(request, node, kpi):
    if kpi not in kpis.KPI_NAMES:
        raise Http404
    today = timezone.localdate()
    found = kpis.members(node.tree, node.obj, today, kpi).filter(
        person__in=Person.objects.visible_to(request.user).values("pk")).select_related("person").order_by(
        "person__last_name", "person__first_name", "pk")
    return found, today


@login_required
@signed_first
def member_list(request):
    node = node_for(request.user, request.GET.get("node"))
    kpi = request.GET.get("kpi") or "members"
    found, today = _member_rows(request, node, kpi)
    page = as_page(request.GET.get("page"))
    chunk = list(found[(page - 1) * PAGE:page * PAGE + 1])
    rows = describe(chunk[:PAGE], today)
    audit.log_access_many(request.user, "reps.members.listed", [r["person_id"] for r in rows], channel="rep",
                          detail={"node": node.key, "kpi": kpi})
    return render(request, "reps/members.html", _base(
        request, node, rows=rows, kpi=kpi, label=dict(kpis.KPIS)[kpi], total=found.count(), page=page,
        has_next=len(chunk) > PAGE, query=f"node={node.key}&kpi={kpi}", kpis=kpis.KPIS))


def export_fields() -> list[str]:
    wanted = getattr(settings, "TILLIT_REP_EXPORT_FIELDS", list(EXPORT_FIELDS))
    return [f for f in wanted if f in EXPORT_FIELDS]


@login_required
@signed_first
def member_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    node = node_for(request.user, request.GET.get("node"))
    kpi = request.GET.get("kpi") or "members"
    found, today = _member_rows(request, node, kpi)
    rows = describe(list(found[:20_000]), today)
    fields = export_fields()
    audit.log_access_many(request.user, "reps.members.exported", [r["person_id"] for r in rows], channel="rep",
                          detail={"node": node.key, "kpi": kpi, "fmt": fmt})
    name = f"members-{node.key}-{kpi}-{today.isoformat()}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow([str(EXPORT_FIELDS[f]) for f in fields])
        writer.writerows([[r[f] for f in fields] for r in rows])
        response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    else:
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("members")
        sheet.append([str(EXPORT_FIELDS[f]) for f in fields])
        for r in rows:
            sheet.append([r[f] for f in fields])
        data = io.BytesIO()
        book.save(data)
        response = HttpResponse(data.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _current_roles(today, user=None):
    """Reps' roles in force on the day; with `user`, only those of people the user may see (whose names show)."""
    roles = Role.objects.visible_to(user) if user is not None else Role.objects.all()
    return roles.current_on(today).filter(role_type__grant_role__in=["rep", "regional_rep"])


@login_required
def company_tree(request):
    """The employer nodes under the node (or a region's workplaces), with members, members in work and reps."""
    node = node_for(request.user, request.GET.get("node"))
    today = timezone.localdate()
    if node.tree == "employer":
        below = Employer.objects.filter(path__startswith=node.path).order_by("path")
    else:
        below = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path).order_by(
            "name")
    below = list(below[:2000])
    kept = {r.node_id: r for r in kpis.KpiDay.objects.filter(tree="employer", day=today,
                                                             node_id__in=[e.pk for e in below])}
    counted = kpis.KpiCount.objects.filter(day=today).exists()
    reps = {}
    for role in _current_roles(today, request.user).filter(employer__in=below).select_related("person",
                                                                                                "role_type"):
        reps.setdefault(role.employer_id, []).append(role)
    depth = min((e.depth for e in below), default=1)
    rows = [{"e": e, "indent": (e.depth - depth) * 1.5 if node.tree == "employer" else 0,
             "members": kept[e.pk].members if e.pk in kept else (0 if counted else None),
             "in_work": kept[e.pk].in_work if e.pk in kept else (0 if counted else None),
             "reps": reps.get(e.pk, []), "key": f"employer-{e.pk}"} for e in below]
    return render(request, "reps/tree.html", _base(request, node, rows=rows, counted=counted,
                                                    signed=declaration.has_signed(request.user)))


@login_required
@signed_first
def other_reps(request):
    node = node_for(request.user, request.GET.get("node"))
    today = timezone.localdate()
    if node.tree == "employer":
        under = Q(employer__path__startswith=node.path)
    else:
        under = Q(org_unit__path__startswith=node.path) | Q(employer__region__path__startswith=node.path)
    roles = (Role.objects.visible_to(request.user).current_on(today).filter(under)
             .filter(role_type__grant_role__gt="").select_related("person", "role_type", "employer", "org_unit")
             .order_by("person__last_name", "person__first_name")[:500])
    own = Role.objects.filter(person__user=request.user).select_related("role_type", "employer", "org_unit") \
        .order_by("-starts_on")
    return render(request, "reps/reps.html", _base(request, node, roles=roles, own=own))


@login_required
@signed_first
def notices(request):
    """Deduction notices of the last three months for the payroll offices of the node's workplaces, with only
    the lines about members the rep may see."""
    from tillit.dues.models import DeductionNotice, add_months

    node = node_for(request.user, request.GET.get("node"))
    today = timezone.localdate()
    if node.tree == "employer":
        places = Employer.objects.filter(path__startswith=node.path)
    else:
        places = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path)
    steps = Employer.steplen
    above = {path[:end] for path in places.values_list("path", flat=True)[:5000]
             for end in range(steps, len(path) + 1, steps)}
    found = list(DeductionNotice.objects.filter(payroll_unit__path__in=sorted(above),
                                                period__gte=add_months(today.replace(day=1), -2))
                 .select_related("payroll_unit").order_by("-period", "payroll_unit__name")[:200])
    numbers = {line["member_number"] for n in found for line in n.lines}
    visible = set(Membership.objects.filter(member_number__in=numbers, person__in=Person.objects.visible_to(
        request.user).values("pk")).values_list("member_number", flat=True))
    shown = [{"notice": n, "lines": [line for line in n.lines if line["member_number"] in visible]} for n in found]
    audit.log_access(request.user, "reps.notices.viewed", channel="rep", detail={"node": node.key})
    return render(request, "reps/notices.html", _base(request, node, notices=shown))


@login_required
@signed_first
def coverage(request):
    """Workplaces with enough members and no rep, those that lost their rep within a year, terms ending soon."""
    node = node_for(request.user, request.GET.get("node"))
    today = timezone.localdate()
    minimum = int(getattr(settings, "TILLIT_REP_MINIMUM_MEMBERS", 5))
    if node.tree == "employer":
        places = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, path__startswith=node.path)
    else:
        places = Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path)
    counts = dict(kpis.KpiDay.objects.filter(tree="employer", day=today, node_id__in=places.values("pk"))
                  .values_list("node_id", "members"))
    counted = kpis.KpiCount.objects.filter(day=today).exists()
    reps = _current_roles(today)
    has_rep = Exists(reps.filter(employer_id=OuterRef("pk")))
    without = places.annotate(has_rep=has_rep).filter(has_rep=False, pk__in=[p for p, n in counts.items()
                                                                              if n >= minimum])
    lacking = sorted(({"e": e, "members": counts[e.pk]} for e in without), key=lambda r: (-r["members"],
                                                                                            r["e"].name))
    year_ago = today - datetime.timedelta(days=365)
    ended = Role.objects.filter(role_type__grant_role__in=["rep", "regional_rep"], ends_on__gte=year_ago,
                                ends_on__lt=today, employer__in=places)
    last_end = {row["employer_id"]: row["last"] for row in ended.values("employer_id").annotate(last=Max("ends_on"))}
    # who held the last term, among the people the user may see (whether a rep is there counts everyone)
    holders = {role.employer_id: role.person for role in Role.objects.visible_to(request.user).filter(
        pk__in=ended.values("pk")).select_related("person").order_by("ends_on", "pk")
        if role.ends_on == last_end[role.employer_id]}
    lost = [{"e": e, "ended": last_end[e.pk], "who": holders.get(e.pk), "members": counts.get(e.pk, 0)}
            for e in places.filter(pk__in=list(last_end)).annotate(has_rep=has_rep).filter(has_rep=False)
            .order_by("name")]
    soon = today + datetime.timedelta(days=60)
    ending = (_current_roles(today, request.user).filter(employer__in=places, ends_on__isnull=False, ends_on__lte=soon)
              .select_related("person", "employer", "role_type").order_by("ends_on")[:500])
    return render(request, "reps/coverage.html", _base(
        request, node, lacking=lacking[:500], lost=lost[:500], ending=ending, minimum=minimum, counted=counted))

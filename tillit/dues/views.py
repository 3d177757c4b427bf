"""Dues pages: runs, notices, returns, bank files, the deviation queue, fee schedules; thin over the services."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.core import audit
from tillit.core.errors import DomainError
from tillit.core.scopes import CONFIGURE, DUES, SEND_RETURNS, VIEW_NOTICES, organisation_wide, scope_for
from tillit.core.tasks import enqueue_on_commit
from tillit.core.text import as_id, as_page, as_version
from tillit.dues import deviations as deviation_service
from tillit.dues import giro, invoices, ledger, notices, returns
from tillit.dues import run as runs
from tillit.dues.access import lines_for, log_lines_shown, may_run
from tillit.dues.models import (
    DeductionNotice,
    Deviation,
    DuesAccount,
    DuesPolicy,
    DuesRun,
    EmployerReturn,
    FeeSchedule,
    GiroFile,
    Invoice,
    add_months,
    policy,
)
from tillit.dues.settings_services import add_schedule, update_policy
from tillit.registry.models import MembershipType, Person, may

PAGE = 50


def _require(request, perm):
    if scope_for(request.user, perm).empty:
        raise Http404


def _everything(request, perm):
    if not organisation_wide(request.user, perm):
        raise Http404


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period(raw, default=None):
    if not raw:
        return default
    try:
        return runs.parse_period(raw)
    except ValueError:
        return None


# --- home and runs -----------------------------------------------------------------------------

@login_required
def home(request):
    user = request.user
    if scope_for(user, DUES).empty:
        if not scope_for(user, VIEW_NOTICES).empty:
            return redirect("dues_notices")
        raise Http404
    today = timezone.localdate()
    return render(request, "dues/home.html", {
        "runs": DuesRun.objects.all()[:24], "may_run": may_run(user), "next_period": today.replace(day=1),
        "open_deviations": deviation_service.visible_deviations(user).filter(status=Deviation.Status.OPEN).count(),
        "notices": DeductionNotice.objects.visible_to(user).select_related("payroll_unit")[:10],
        "may_configure": not scope_for(user, CONFIGURE).empty,
        "in_arrears": DuesAccount.objects.visible_to(user).filter(
            uncovered_due_on__lt=add_months(today.replace(day=1), -policy().arrears_months)).count(),
    })


@login_required
@require_POST
def run_start(request):
    _everything(request, DUES)
    period = _period(request.POST.get("period"))
    if period is None:
        messages.error(request, _("period: a month as YYYY-MM, like 2027-01. Nothing was started."))
        return redirect("dues_home")
    if request.POST.get("dry_run"):
        totals = runs.dry_run(period)
        return render(request, "dues/dry_run.html", {"period": period, "totals": totals,
                                                     "money": {k: invoices.kroner(v) for k, v in totals.items()}})
    run = runs.start_run(period, actor=request.user)
    if run.status == DuesRun.Status.RUNNING:

        enqueue_on_commit(runs.run_in_background, period.isoformat(), request.user.pk)
        messages.success(request, _("The run for %(p)s is under way.") % {"p": run})
    else:
        messages.info(request, _("The run for %(p)s was done already; nothing changed.") % {"p": run})
    return redirect("dues_run", pk=run.pk)


def _run_context(request, run):
    """The run's page and its part that follows progress (the part holds the next steps once it is done)."""
    context = {"run": run, "totals": run.totals, "money": {k: invoices.kroner(v) for k, v in run.totals.items()},
               "may_run": may_run(request.user)}
    if run.status == DuesRun.Status.DONE:
        context.update({
            "invoice_count": Invoice.objects.filter(charge__run=run).count(),
            "emailed": Invoice.objects.filter(charge__run=run, emailed_at__isnull=False).count(),
            "notice_count": DeductionNotice.objects.filter(period=run.period).count(),
            "requests": GiroFile.objects.filter(kind=GiroFile.Kind.REQUESTS,
                                                filename=f"avtalegiro-{run}.txt").first()})
    return context


@login_required
def run_detail(request, pk):
    _require(request, DUES)
    return render(request, "dues/run.html", _run_context(request, get_object_or_404(DuesRun, pk=pk)))


@login_required
def run_progress(request, pk):
    _require(request, DUES)
    return render(request, "dues/_progress.html", _run_context(request, get_object_or_404(DuesRun, pk=pk)))


@login_required
def run_invoices(request, pk):
    _everything(request, DUES)
    run = get_object_or_404(DuesRun, pk=pk)
    found = invoices.run_invoices(run)
    audit.log_access_many(request.user, "dues.invoices.exported", list(found.values_list("person_id", flat=True)),
                          channel="ui", detail={"run": str(run)})
    return _download(invoices.batch_pdf(found), "application/pdf", f"invoices-{run}.pdf")


@login_required
@require_POST
def run_action(request, pk, action):
    _everything(request, DUES)
    run = get_object_or_404(DuesRun, pk=pk)
    if run.status != DuesRun.Status.DONE:
        messages.error(request, _("Wait until the run is done."))
        return redirect("dues_run", pk=run.pk)
    try:
        if action == "notices":
            made = notices.make_notices(run.period, actor=request.user)
            messages.success(request, _("Deduction notices for %(p)s: %(n)s payroll offices.") % {"p": run, "n": made})
        elif action == "email":

            enqueue_on_commit(invoices.email_invoices_task, run.pk)
            messages.success(request, _("The invoices are being emailed."))
        elif action == "requests":
            made = giro.payment_requests(run, actor=request.user)
            messages.success(request, _("AvtaleGiro payment requests: %(n)s.") % {"n": made.transactions})
        else:
            raise Http404
    except DomainError as exc:
        for line in exc.lines():
            messages.error(request, line)
    return redirect("dues_run", pk=run.pk)


# --- notices -------------------------------------------------------------------------------------

@login_required
def notice_list(request):
    _require(request, VIEW_NOTICES)
    found = DeductionNotice.objects.visible_to(request.user).select_related("payroll_unit")
    since = request.GET.get("since")
    if since == "3m":
        found = found.filter(period__gte=add_months(timezone.localdate().replace(day=1), -2))
    page = as_page(request.GET.get("page"))
    rows = list(found[(page - 1) * PAGE:page * PAGE + 1])
    units = notices.payroll_units_for(request.user, VIEW_NOTICES).order_by("name")[:200]
    return render(request, "dues/notices.html", {
        "notices": rows[:PAGE], "has_next": len(rows) > PAGE, "page": page, "query": f"since={since or ''}",
        "units": units, "period": timezone.localdate().replace(day=1),
        "may_return": not scope_for(request.user, SEND_RETURNS).empty})


def _notice_for(request, pk):
    _require(request, VIEW_NOTICES)
    return get_object_or_404(DeductionNotice.objects.visible_to(request.user).select_related("payroll_unit"), pk=pk)


@login_required
def notice_detail(request, pk):
    notice = _notice_for(request, pk)
    lines = lines_for(request.user, notice.payroll_unit, notice.lines)
    log_lines_shown(request.user, "dues.notice.viewed", lines, channel="ui", detail={"notice": notice.pk})
    return render(request, "dues/notice.html", {"notice": notice, "counts": notice.counts(), "cut": len(lines) < len(
        notice.lines), "lines": [{**line, "amount_kr": invoices.kroner(line["amount"]),
                                  "previous_kr": invoices.kroner(line["previous_amount"])} for line in lines]})


@login_required
def notice_file(request, pk, fmt):
    if fmt not in ("csv", "xlsx", "pdf"):
        raise Http404
    notice = _notice_for(request, pk)
    lines = lines_for(request.user, notice.payroll_unit, notice.lines)
    log_lines_shown(request.user, "dues.notice.downloaded", lines, channel="ui",
                    detail={"notice": notice.pk, "fmt": fmt})
    return _download(*notices.render(lines, fmt, unit=notice.payroll_unit, period=notice.period, notice=notice))


@login_required
def full_list(request, pk, fmt):
    if fmt not in ("csv", "xlsx", "pdf"):
        raise Http404
    _require(request, VIEW_NOTICES)
    unit = get_object_or_404(notices.payroll_units_for(request.user, VIEW_NOTICES), pk=pk)
    period = _period(request.GET.get("period"), timezone.localdate().replace(day=1)) or \
        timezone.localdate().replace(day=1)
    lines = lines_for(request.user, unit, notices.full_list(unit, period))
    log_lines_shown(request.user, "dues.deduction_list.downloaded", lines, channel="ui",
                    detail={"payroll_unit": unit.pk, "period": period.isoformat(), "rows": len(lines)})
    return _download(*notices.render(lines, fmt, unit=unit, period=period))


# --- returns -------------------------------------------------------------------------------------

@login_required
def return_list(request):
    _require(request, VIEW_NOTICES)
    user = request.user
    units = list(notices.payroll_units_for(user, SEND_RETURNS).order_by("name")[:500])
    errors = []
    if request.method == "POST":
        if not units:
            raise Http404
        unit = next((u for u in units if u.pk == as_id(request.POST.get("payroll_unit"))), None)
        upload = request.FILES.get("file")
        if unit is None:
            errors.append(_("payroll_unit: choose the payroll office the return is from."))
        if upload is None:
            errors.append(_("file: choose the file to upload."))
        if not errors:
            try:
                ret = returns.receive_return(unit, upload.read(), filename=upload.name, actor=user)
            except DomainError as exc:
                errors = exc.lines()
            else:
                messages.success(request, _("Return received: %(r)s rows, %(d)s deviations.") % {
                    "r": ret.rows, "d": ret.deviations})
                return redirect("dues_return", pk=ret.pk)
    found = EmployerReturn.objects.visible_to(user).select_related("payroll_unit")[:100]
    return render(request, "dues/returns.html", {"returns": found, "units": units, "errors": errors},
                  status=422 if errors else 200)


@login_required
def return_detail(request, pk):
    _require(request, VIEW_NOTICES)
    ret = get_object_or_404(EmployerReturn.objects.visible_to(request.user).select_related("payroll_unit"), pk=pk)
    rows = ret.deviation_rows.select_related("person").order_by("pk")[:500]
    return render(request, "dues/return.html", {"ret": ret, "amount": invoices.kroner(ret.amount),
                                                "deviations": rows, "staff": not scope_for(request.user,
                                                                                             DUES).empty})


def return_template(request):
    return _download(returns.template_csv(), "text/csv; charset=utf-8", "deduction-return-template.csv")


# --- bank files ----------------------------------------------------------------------------------

@login_required
def giro_list(request):
    _everything(request, DUES)
    errors = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("file: choose the file from the bank."))
        else:
            try:
                found, new = giro.read_file(upload.read(), filename=upload.name, actor=request.user)
            except DomainError as exc:
                errors = exc.lines()
            else:
                if new:
                    messages.success(request, _("Read: %(t)s transactions, %(b)s booked, %(d)s deviations.") % {
                        "t": found.transactions, "b": found.booked, "d": found.deviations})
                else:
                    messages.info(request, _("This file (transmission %(n)s) was read on %(d)s; nothing was booked "
                                             "again.") % {"n": found.transmission_number, "d": timezone.localtime(
                                                 found.uploaded_at).strftime("%Y-%m-%d %H:%M")})
                return redirect("dues_giro_file", pk=found.pk)
    return render(request, "dues/giro.html", {"files": GiroFile.objects.all()[:100], "errors": errors},
                  status=422 if errors else 200)


@login_required
def giro_file(request, pk):
    _everything(request, DUES)
    found = get_object_or_404(GiroFile, pk=pk)
    if request.GET.get("download") and found.kind == GiroFile.Kind.REQUESTS:
        return _download(found.content.encode("ascii"), "text/plain; charset=us-ascii", found.filename)
    return render(request, "dues/giro_file.html", {"file": found, "amount": invoices.kroner(found.amount),
                                                   "deviations": found.deviation_rows.order_by("pk")[:500]})


# --- deviations ----------------------------------------------------------------------------------

@login_required
def deviation_list(request):
    _require(request, DUES)
    status = request.GET.get("status") or Deviation.Status.OPEN
    if status not in Deviation.Status.values:
        status = Deviation.Status.OPEN
    found = deviation_service.visible_deviations(request.user).filter(status=status).select_related(
        "person", "payroll_unit").order_by("created_at", "pk")
    page = as_page(request.GET.get("page"))
    rows = list(found[(page - 1) * PAGE:page * PAGE + 1])
    shown = [{"d": d, "expected": invoices.kroner(d.expected) if d.expected is not None else "",
              "actual": invoices.kroner(d.actual) if d.actual is not None else ""} for d in rows[:PAGE]]
    audit.log_access_many(request.user, "dues.deviation.listed", [d.person_id for d in rows[:PAGE]], channel="ui",
                          detail={"status": status, "page": page})
    return render(request, "dues/deviations.html", {
        "rows": shown, "has_next": len(rows) > PAGE, "page": page, "query": f"status={status}", "status": status,
        "statuses": Deviation.Status.choices, "total": found.count()})


@login_required
@require_POST
def deviation_resolve(request, pk):
    _require(request, DUES)
    deviation = get_object_or_404(deviation_service.visible_deviations(request.user), pk=pk)
    try:
        deviation_service.resolve(deviation, request.POST.get("action", ""), actor=request.user,
                                  note=request.POST.get("note", ""), amount=request.POST.get("amount"),
                                  member_number=request.POST.get("member_number", ""),
                                  expected_version=as_version(request.POST.get("version")))
    except DomainError as exc:
        for line in exc.lines():
            messages.error(request, line)
    else:
        messages.success(request, _("Deviation resolved."))
    return redirect(reverse("dues_deviations") + f"?status={Deviation.Status.OPEN}")


# --- members -------------------------------------------------------------------------------------

@login_required
def arrears(request):
    _require(request, DUES)
    today = timezone.localdate()
    limit = add_months(today.replace(day=1), -policy().arrears_months)
    found = (Person.objects.visible_to(request.user).filter(dues_account__uncovered_due_on__lt=limit)
             .order_by("dues_account__uncovered_due_on", "last_name", "pk")
             .values("pk", "first_name", "last_name", "dues_account__balance", "dues_account__uncovered_due_on"))
    page = as_page(request.GET.get("page"))
    rows = list(found[(page - 1) * PAGE:page * PAGE + 1])
    audit.log_access_many(request.user, "dues.arrears.listed", [r["pk"] for r in rows[:PAGE]], channel="ui")
    return render(request, "dues/arrears.html", {
        "rows": [{**r, "balance": invoices.kroner(r["dues_account__balance"])} for r in rows[:PAGE]],
        "has_next": len(rows) > PAGE, "page": page, "query": "", "months": policy().arrears_months})


@login_required
@require_POST
def person_entry(request, pk):
    _require(request, DUES)
    person = get_object_or_404(Person.objects.visible_to(request.user), pk=pk)
    if not may(request.user, DUES, person):
        raise Http404
    try:
        ledger.add_entry(person, kind=request.POST.get("kind", ""), amount=request.POST.get("amount"),
                         reason=request.POST.get("reason", ""), actor=request.user)
    except DomainError as exc:
        for line in exc.lines():
            messages.error(request, line)
    else:
        messages.success(request, _("Booked on the member's account."))
    return redirect(reverse("person", args=[person.pk]) + "#dues")


@login_required
def invoice_pdf(request, pk):
    invoice = get_object_or_404(Invoice.objects.visible_to(request.user).select_related("person", "charge"), pk=pk)
    if invoice.person.user_id != request.user.pk:
        audit.log_access(request.user, "dues.invoice.viewed", channel="ui", person_id=invoice.person_id)
    return _download(invoices.invoice_pdf(invoice), "application/pdf", f"invoice-{invoice.kid}.pdf")


# --- settings ------------------------------------------------------------------------------------

@login_required
def schedules(request):
    _require(request, DUES)
    errors = []
    may_configure = not scope_for(request.user, CONFIGURE).empty
    if request.method == "POST":
        _everything(request, CONFIGURE)
        try:

            add_schedule(request.POST, actor=request.user)
        except DomainError as exc:
            errors = exc.lines()
        else:
            messages.success(request, _("Fee schedule added."))
            return redirect("dues_schedules")
    rows = [{"s": s, "amount": invoices.kroner(s.amount), "minimum": invoices.kroner(s.minimum),
             "maximum": invoices.kroner(s.maximum) if s.maximum is not None else "–",
             "rate": f"{s.rate / 100:.2f} %"} for s in FeeSchedule.objects.select_related("membership_type")]
    return render(request, "dues/schedules.html", {
        "rows": rows, "types": MembershipType.objects.order_by("name"), "errors": errors,
        "may_configure": may_configure, "policy": policy(), "kid_methods": DuesPolicy.KidMethod.choices,
        "partial_rules": DuesPolicy.PartialMonth.choices, "today": datetime.date.today()},
        status=422 if errors else 200)


@login_required
@require_POST
def policy_edit(request):
    _everything(request, CONFIGURE)

    try:
        update_policy(request.POST, actor=request.user)
    except DomainError as exc:
        for line in exc.lines():
            messages.error(request, line)
    else:
        messages.success(request, _("Dues settings saved."))
    return redirect("dues_schedules")

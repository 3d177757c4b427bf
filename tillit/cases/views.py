"""Staff UI for cases: queues, the case page with its timeline, and the actions on it."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tillit.cases import process_map, services
from tillit.cases.access import colleagues_for, may_configure, may_edit_case, may_open_case, may_open_cases
from tillit.cases.bulk import apply
from tillit.cases.forms import (
    CaseTypeForm,
    NewCaseForm,
    NoteForm,
    StateRows,
    TransferForm,
    TransitionRows,
    process_from_rows,
    process_rows,
)
from tillit.cases.measure import measure
from tillit.cases.models import Case, CaseType, State
from tillit.cases.panels import MEASURE_PANELS, case_panels
from tillit.cases.queues import QUEUES, configured_names, filter_cases
from tillit.core.audit import log_access_many
from tillit.core.charts import flow_chart
from tillit.core.errors import DomainError
from tillit.core.forms import add_domain_errors
from tillit.core.notify import mark_read
from tillit.core.present import capped_count, url_maker
from tillit.core.scopes import CONFIGURE, EDIT, ROLES, VIEW, mark_shown, scope_for
from tillit.core.text import as_id, as_page, as_version, shown
from tillit.documents.models import Document
from tillit.documents.panels import case_document_titles
from tillit.messaging.services import send_case_message
from tillit.registry.identity import parse_national_id
from tillit.registry.models import (
    COUNTRIES,
    OrgUnit,
    Person,
    all_unit_options,
    unit_options,
    units_in_scope,
)
from tillit.registry.saved import views_for
from tillit.registry.search import picked_employer, picked_label

SORTS = {"due": ["due_on", "pk"], "-due": ["-due_on", "-pk"], "-priority": ["-priority", "due_on", "pk"],
         "opened": ["opened_at", "pk"], "-opened": ["-opened_at", "-pk"], "number": ["number"],
         "-number": ["-number"]}
PAGE = 50


def get_case_for_user(request, pk, perm="view") -> Case:
    """The case if the user may see it; 404 otherwise."""
    case = get_object_or_404(Case.objects.visible_to(request.user, perm).select_related(
        "case_type", "state", "responsible_unit", "handler", "employer"), pk=pk)
    mark_shown(request.user, case, perm)
    return case


@login_required
def queue(request):

    name = request.GET.get("queue", "unit")
    if name not in QUEUES:
        name = "unit"
    today = timezone.localdate()
    cases = QUEUES[name](Case.objects.visible_to(request.user), request.user, today)
    unit = request.GET.get("unit", "")
    workplace = picked_employer(request.user, request.GET)
    cases = filter_cases(cases, unit_id=as_id(unit), q=request.GET.get("q", ""), workplace_id=workplace,
                         user=request.user)
    sort = request.GET.get("sort", "due")
    if sort not in SORTS:
        sort = "due"
    total, more = capped_count(cases)
    cases = cases.order_by(*SORTS[sort])
    page = as_page(request.GET.get("page"))
    # Only the columns shown, as flat values: the page renders 50 rows without building models.
    # Types', states' and units' names come from kept tables: the rows need one join (the handler), no JSON.
    found = list(cases.values_list("pk", "number", "title", "case_type_id", "state_id", "responsible_unit_id",
                                   "handler__username", "due_on", "closed_at")
                 [(page - 1) * PAGE:page * PAGE + 1])
    case_url = url_maker("case")
    names = configured_names({row[3] for row in found}, {row[4] for row in found})
    unit_names = {pk: name for pk, name, _path in all_unit_options({row[5] for row in found})}
    type_names = {pk: shown(*names["types"][pk]) for pk in {row[3] for row in found} if pk in names["types"]}
    state_names = {pk: shown(*names["states"][pk]) for pk in {row[4] for row in found} if pk in names["states"]}
    about = {}  # whom each case is about: one query for the page, each person shown in the access log
    listed = []
    for case_id, person_id, first, last, login in Case.subjects.through.objects.filter(
            case_id__in=[row[0] for row in found[:PAGE]]).values_list(
            "case_id", "person_id", "person__first_name", "person__last_name", "person__user_id").order_by(
            "person__last_name"):
        about.setdefault(case_id, []).append(f"{first} {last}")
        if login != request.user.pk:  # the user's own record is not logged
            listed.append(person_id)
    log_access_many(request.user, "case.list", listed, channel="ui", detail={"queue": name}, own_left_out=True)
    rows = [{"pk": pk, "url": case_url(pk), "number": number, "title": title, "type": type_names.get(type_id, ""),
             "state": state_names.get(state_id, ""), "unit": unit_names.get(unit_id, ""), "handler": handler or "–",
             "about": ", ".join(about.get(pk, [])), "due": due,
             "overdue": bool(due and due < today and not closed)}
            for pk, number, title, type_id, state_id, unit_id, handler, due, closed in found[:PAGE]]
    query = request.GET.copy()
    query.pop("page", None)
    units = unit_options(request.user)
    without_sort = query.copy()
    without_sort.pop("sort", None)
    chosen_workplace = picked_label(workplace, request.GET)
    return render(request, "cases/queue.html", {
        "rows": rows, "has_next": len(found) > PAGE, "page": page, "queue": name,
        "queues": list(QUEUES), "total": total, "more": more,
        "sort": sort, "units": units, "unit": unit,
        "query": query.urlencode(), "sort_base": without_sort.urlencode(), "workplace": chosen_workplace,
        "sort_prefix": f"{without_sort.urlencode()}&" if without_sort else "",
        "saved_views": views_for(request.user, "cases"), "current_view": as_id(request.GET.get("view")),
        "share_units": unit_options(request.user, EDIT),  # a saved view is shared with units the user edits in
        "transfer_units": [(pk, name) for pk, name, _path in all_unit_options()],  # a case goes to any unit
        "can_open": may_open_cases(request.user), "can_measure": may_open_cases(request.user, VIEW),
        "can_edit": not scope_for(request.user, EDIT).empty,
        "can_configure": not scope_for(request.user, CONFIGURE).empty})


@login_required
def case_new(request):
    units = units_in_scope(request.user, EDIT)
    if not units:
        raise Http404
    subject = None
    subject_id = request.POST.get("subject") or request.GET.get("subject")
    if as_id(subject_id):
        subject = get_object_or_404(Person.objects.visible_to(request.user), pk=subject_id)
    form = NewCaseForm(request.POST or None, initial={"subject": subject.pk if subject else None},
                       countries={u.country for u in units})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:  # the unit is the service's choice (cases.access.unit_for_new_case), as for the API
            case = services.open_case(d["case_type"], title=d["title"], body=d["body"], priority=d["priority"],
                                      subjects=[subject] if subject else [], actor=request.user)
            return redirect("case", pk=case.pk)
        except DomainError as exc:
            add_domain_errors(form, exc)
    return render(request, "cases/case_new.html", {"form": form, "subject": subject})


@login_required
def case_detail(request, pk):
    case = get_case_for_user(request, pk)
    can_edit = may_edit_case(request.user, case)
    draft = request.session.pop(f"case_draft_{case.pk}", {})
    transfer = TransferForm(initial={"version": case.version, "reason": draft.get("reason", ""),
                                     "unit": draft.get("unit")})
    transfer.fields["unit"].choices = [(pk, name) for pk, name, _path in all_unit_options()
                                       if pk != case.responsible_unit_id]
    delivery = {}
    if hasattr(case, "messages"):  # the messaging app records delivery of messages to the subject
        delivery = dict(case.messages.values_list("pk", "status"))
    subjects = list(case.subjects.only("first_name", "last_name", "user_id"))  # the page names and links them
    log_access_many(request.user, "case.view", [p.pk for p in subjects if p.user_id != request.user.pk],
                    channel="ui", detail={"case": case.pk}, own_left_out=True)
    events = list(case.events.select_related("actor").only("case_id", "at", "kind", "public", "body", "data",
                                                           "actor__username"))
    states = {st.code: st.shown_name for st in State.objects.filter(process_id=case.process_id)}
    for event in events:
        event.delivery = delivery.get(event.data.get("message")) if event.kind == "message_out" else None
        if event.kind == "state":  # the state's name in the reader's language, as it was named then otherwise
            event.from_shown = states.get(event.data.get("from")) or event.data.get("from_name", "")
            event.to_shown = states.get(event.data.get("to")) or event.data.get("to_name", "")
            event.outcome_shown = dict(Case.Outcome.choices).get(event.data.get("outcome"), "")
    mark_read(request.user, object_type="case", object_id=case.pk)  # opening the case reads its notifications
    panels = case_panels(request, case)  # first: the documents section lists what a message may carry
    return render(request, "cases/case.html", {
        "case": case, "timeline": events,
        "subjects": subjects, "related": list(case.related.values("pk", "number")),  # only what is shown
        "transitions": services.available_transitions(case, request.user) if can_edit else [],
        "can_edit": can_edit, "colleagues": _colleagues(case) if can_edit else [],
        "priorities": Case.Priority.choices, "outcomes": Case.Outcome.choices,
        "other_types": _other_types(request.user, case) if can_edit and not case.closed_at else [],
        "attachable": _attachable(request, case) if can_edit else [],
        "note_form": NoteForm(initial={"body": draft.get("body", "")} if draft.get("action") == "case_note" else None),
        "transfer_form": transfer, "draft": draft, "today": timezone.localdate(), "panels": panels})


DRAFT_FIELDS = ("reason", "due_reason", "unit", "body", "subject", "public")


def _act(request, pk, action):
    case = get_case_for_user(request, pk, EDIT)
    raw_version = request.POST.get("version", "")
    expected = as_version(raw_version)
    try:
        if raw_version and expected is None:
            raise DomainError(_("The form is out of date. Reload the page."))
        action(case, expected)
    except DomainError as exc:  # the message and what each field at fault needs, in words (no field keys)
        messages.error(request, " ".join([exc.message, *(m for ms in exc.field_errors.values() for m in ms)]))
        # What the user wrote comes back in the forms of the reloaded page: nothing typed is lost.
        draft = {k: request.POST[k] for k in DRAFT_FIELDS if request.POST.get(k)}
        request.session[f"case_draft_{case.pk}"] = {**draft, "action": request.resolver_match.url_name}
    if not Case.objects.visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("cases")  # handed to a unit this user does not cover
    return redirect("case", pk=case.pk)


@require_POST
@login_required
def bulk_action(request):
    """An action on the ticked cases (cases.bulk): each case done, or named with why it was refused."""
    ids = [i for i in map(as_id, request.POST.getlist("case")) if i]
    action = request.POST.get("action") or {"me": "assign_me", "none": "unassign"}.get(request.POST.get("to"), "")
    try:
        result = apply(request.user, ids, action, request.POST)
        if result.done:
            messages.success(request, _("Done for %(n)d cases: %(numbers)s.") % {
                "n": len(result.done), "numbers": ", ".join(result.done[:20])})
        for number, why in result.refused[:20]:
            messages.error(request, f"{number}: {why}")
    except DomainError as exc:
        messages.error(request, exc.message)
    target = str(request.POST.get("next", ""))
    return redirect(target if target.startswith("/cases/") and "//" not in target else "cases")


@require_POST
@login_required
def case_transition(request, pk):
    return _act(request, pk, lambda case, v: services.transition_case(
        case, request.POST.get("transition", ""), note=request.POST.get("note", ""),
        outcome=request.POST.get("outcome", ""), actor=request.user, expected_version=v))


@require_POST
@login_required
def case_assign(request, pk):
    def assign(case, v):
        to = request.POST.get("to", "")
        if to == "me":
            handler = request.user
        elif to in ("", "none"):
            handler = None
        else:  # a colleague who may work on the unit's cases (the service checks it again)
            handler = next((u for u in colleagues_for(case) if str(u.pk) == to), None)
            if handler is None:
                raise DomainError(_("Choose a colleague who works on this unit's cases."))
        services.assign_case(case, handler, actor=request.user, expected_version=v)
    return _act(request, pk, assign)


def _colleagues(case) -> list:
    """Whom the case may be given to, with its present handler shown even when their grant is elsewhere."""
    found = colleagues_for(case)
    if case.handler_id and all(c.pk != case.handler_id for c in found):
        found.append(case.handler)
    return found


@require_POST
@login_required
def case_reclassify(request, pk):
    """Another case type for the case (an intake case becomes a real one)."""
    def reclassify(case, v):
        case_type = CaseType.objects.filter(pk=as_id(request.POST.get("case_type")) or 0).first()
        if case_type is None:
            raise DomainError(_("Choose a case type."))
        services.reclassify(case, case_type, reason=request.POST.get("reason", ""), actor=request.user,
                            expected_version=v)
    return _act(request, pk, reclassify)


def _attachable(request, case) -> list[tuple[int, str]]:
    """(id, title) of the case's documents the user sees: what a message to the person may carry."""
    return case_document_titles(request, case)


def _other_types(user, case) -> list[tuple[int, str]]:
    """The case types the case may become: those the user may open in its unit."""
    return [(ct.pk, ct.shown_name) for ct in CaseType.objects.filter(active=True).exclude(pk=case.case_type_id)
            if may_open_case(user, ct, case.responsible_unit)]


@require_POST
@login_required
def case_subjects(request, pk):
    """Add a person the case is about (by member number or national id, within the user's register), or remove
    one."""
    def change(case, v):
        people = list(case.subjects.all())
        if request.POST.get("remove"):
            people = [p for p in people if str(p.pk) != request.POST["remove"]]
        else:
            text = request.POST.get("person", "").strip()
            visible = Person.objects.visible_to(request.user).current()
            try:
                found = visible.filter(national_id=parse_national_id(text)[0]).first()
            except ValueError:
                found = visible.filter(memberships__member_number=text).first() if text else None
            if found is None:
                raise DomainError(_("No one in your part of the register has this member number or national id."))
            people.append(found)
        services.set_subjects(case, people, actor=request.user, expected_version=v)
    return _act(request, pk, change)


@require_POST
@login_required
def case_edit(request, pk):
    """Priority and deadline from the case page's side column (a changed deadline says why)."""
    def edit(case, v):
        data = {}
        if request.POST.get("priority"):
            raw = request.POST["priority"]
            data["priority"] = int(raw) if raw.isdigit() else raw  # the service names a wrong value
        if "due_on" in request.POST:
            raw = request.POST["due_on"].strip()
            try:
                data["due_on"] = datetime.date.fromisoformat(raw) if raw else None
            except ValueError:
                raise DomainError(_("Dates are written YYYY-MM-DD.")) from None
            data["reason"] = request.POST.get("due_reason", "")
        services.update_case(case, data, actor=request.user, expected_version=v)
    return _act(request, pk, edit)


@require_POST
@login_required
def case_note(request, pk):
    form = NoteForm(request.POST)

    def note(case, v):
        if not form.is_valid():
            raise DomainError(_("Write something."))
        services.add_note(case, form.cleaned_data["body"], public=form.cleaned_data["public"], actor=request.user)
    return _act(request, pk, note)


@require_POST
@login_required
def case_message(request, pk):

    def send(case, v):
        chosen = [Document(pk=pk) for pk in map(as_id, request.POST.getlist("document")) if pk]
        services_result = send_case_message(case, subject=request.POST.get("subject", ""),
                                            body=request.POST.get("body", ""), actor=request.user, documents=chosen)
        messages.success(request, _("The message is on its way to %(to)s.") % {"to": services_result.address})
    return _act(request, pk, send)


@require_POST
@login_required
def case_tags(request, pk):
    def tag(case, v):
        tags = [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()]
        services.update_case(case, {"tags": tags}, actor=request.user, expected_version=v)
    return _act(request, pk, tag)


@require_POST
@login_required
def case_transfer(request, pk):
    def transfer(case, v):
        unit = OrgUnit.objects.filter(pk=request.POST.get("unit") or 0).first()
        if unit is None:
            raise DomainError(_("Choose a unit."))
        services.transfer_case(case, unit, reason=request.POST.get("reason", ""), actor=request.user,
                               expected_version=v)
        messages.success(request, _("%(n)s moved to %(unit)s.") % {"n": case.number, "unit": unit.name})
    return _act(request, pk, transfer)


@require_POST
@login_required
def case_link(request, pk):
    """Relate another case (by its number) that the user may also change; both timelines say so."""
    def link(case, v):
        number = request.POST.get("number", "").strip()
        other = Case.objects.visible_to(request.user, EDIT).filter(number=number).first()
        if other is None:
            raise DomainError(_("No case %(n)s that you may change.") % {"n": number or "–"})
        if case.related.filter(pk=other.pk).exists():
            raise DomainError(_("%(n)s is already related.") % {"n": other.number})
        services.link_cases(case, other, actor=request.user)
        messages.success(request, _("%(n)s is now related.") % {"n": other.number})
    return _act(request, pk, link)


@login_required
def measure_page(request):
    """The unit's flow of work: opened, closed, backlog, lead and response times, time per state."""


    units = units_in_scope(request.user)
    if not units:
        raise Http404
    unit_id = request.GET.get("unit", "")
    unit = next((u for u in units if str(u.pk) == unit_id), units[0])
    today = timezone.localdate()
    start, end = _period(request)
    # Counts over the unit's subtree only; the unit is one the user covers, and cases of a covered
    # subtree are exactly what visible_to lets an org-unit grant see, so no case of another scope
    # is counted (the crawl test checks this page too).
    flow = measure(unit, start, end, today=today)
    names = {s.code: s.shown_name for s in State.objects.filter(code__in=list(flow.days_per_state)).order_by("pk")}
    per_state = [(names.get(code, code), days) for code, days in flow.days_per_state.items()]
    labels = [w.strftime("%d.%m") for w in flow.weeks]
    chart = flow_chart(labels, flow.opened, flow.closed, flow.backlog, title=_("Cases per week"),
                       legend=(_("opened"), _("closed"), _("backlog")))
    return render(request, "cases/measure.html", {
        "flow": flow, "per_state": per_state, "units": units, "unit": unit,
        "chart": chart,
        "start": start, "end": end, "opened_total": sum(flow.opened), "closed_total": sum(flow.closed),
        "panels": MEASURE_PANELS.render(request, (unit, start, end))})


def _require_configure(request):
    if not may_configure(request.user):
        raise Http404


@login_required
def case_types(request):
    _require_configure(request)
    return render(request, "cases/case_types.html", {"types": CaseType.objects.select_related("default_unit")})


def _first_process() -> tuple[list[dict], list[dict]]:
    """A new case type's process until its editor changes it: new, in progress, closed."""
    states = [{"code": "new", "name": _("New"), "category": State.Category.NEW, "deadline_days": 2},
              {"code": "in_progress", "name": _("In progress"), "category": State.Category.IN_PROGRESS},
              {"code": "closed", "name": _("Closed"), "category": State.Category.CLOSED}]
    transitions = [{"code": "start", "label": _("Start"), "from": "new", "to": "in_progress"},
                   {"code": "close", "label": _("Close the case"), "from": "in_progress", "to": "closed"}]
    return states, transitions


@login_required
def case_type_new(request):
    _require_configure(request)
    form = CaseTypeForm(request.POST or None, units=units_in_scope(request.user, CONFIGURE))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        states, transitions = _first_process()
        try:
            ctype = services.create_case_type(
                d["name"], description=d["description"], default_unit=d["default_unit"],
                deadline_days=d["deadline_days"], subject_can_see=d["subject_can_see"], is_intake=d["is_intake"],
                states=states, transitions=transitions, actor=request.user)
            messages.success(request, _("The case type is made with a first process; shape it here."))
            return redirect("case_type_process", pk=ctype.pk)
        except DomainError as exc:
            add_domain_errors(form, exc)
    return render(request, "cases/case_type_form.html", {"form": form}, status=422 if form.errors else 200)


def _period(request, weeks: int = 12) -> tuple[datetime.date, datetime.date]:
    """The period asked for by `from` and `to` (YYYY-MM-DD), at most three years; the last `weeks` otherwise."""
    today = timezone.localdate()
    try:
        end = datetime.date.fromisoformat(request.GET.get("to") or today.isoformat())
        start = datetime.date.fromisoformat(request.GET.get("from") or (end - datetime.timedelta(weeks=weeks))
                                            .isoformat())
    except ValueError:
        messages.error(request, _("Dates are written YYYY-MM-DD."))
        return today - datetime.timedelta(weeks=weeks), today
    if start > end or (end - start).days > 3 * 366:
        messages.error(request, _("Choose a period of at most three years, the start before the end."))
        return today - datetime.timedelta(weeks=weeks), today
    return start, end


@login_required
def case_type_detail(request, pk):
    """The case type's process as a map, with the real flow of the period drawn on it."""
    _require_configure(request)
    ctype = get_object_or_404(CaseType, pk=pk)
    start, end = _period(request)
    drawn = process_map.flow(ctype.process, request.user, start, end)
    role_names = {code: label for code, (label, _perms) in ROLES.items()}
    for arrow in drawn.arrows:
        arrow.role_names = [role_names.get(r, r) for r in arrow.roles]
    return render(request, "cases/case_type.html", {
        "case_type": ctype, "process": ctype.process, "map": drawn, "counted": True, "start": start, "end": end})


@login_required
def case_type_process(request, pk):
    """The process as two tables, states and transitions; saving publishes a new version for new cases."""
    _require_configure(request)
    ctype = get_object_or_404(CaseType, pk=pk)
    process = ctype.process
    state_rows, transition_rows = process_rows(process)
    states = StateRows(request.POST or None, initial=state_rows, prefix="state")
    transitions = TransitionRows(request.POST or None, initial=transition_rows, prefix="move")
    problems = {}
    if request.method == "POST" and states.is_valid() and transitions.is_valid():
        new_states, new_transitions = process_from_rows(states, transitions)
        try:
            services.define_process(ctype, states=new_states, transitions=new_transitions, actor=request.user)
            messages.success(request, _("A new version of the process is in use for new cases; open cases keep "
                                        "theirs."))
            return redirect("case_type", pk=ctype.pk)
        except DomainError as exc:
            problems = exc.field_errors or {"states": [exc.message]}
    failed = request.method == "POST"
    return render(request, "cases/case_type_process.html", {
        "case_type": ctype, "process": process, "states": states, "transitions": transitions,
        "problems": problems, "codes": [row["code"] for row in state_rows]}, status=422 if failed else 200)


@login_required
def case_type_texts(request, pk):
    """The case type's texts in every language (its name, its states, its transitions) and where it is
    offered; the text as written is shown where a translation is missing."""
    _require_configure(request)


    ctype = get_object_or_404(CaseType, pk=pk)
    process = ctype.process
    languages = list(settings.LANGUAGES)
    rows = [("type", _("Name of the case type"), ctype.name, ctype.translations)]
    rows += [(f"state:{x.code}", _("State"), x.name, x.translations) for x in process.states.all()]
    rows += [(f"transition:{x.code}", _("Transition"), x.label, x.translations) for x in process.transitions.all()]
    errors, status = {}, 200
    if request.method == "POST":
        texts = {key: {code: request.POST.get(f"t:{key}:{code}", "") for code, _n in languages}
                 for key, *_rest in rows}
        try:
            services.translate_case_type(ctype, texts, countries=request.POST.getlist("country"), actor=request.user)
            messages.success(request, _("The texts are saved."))
            return redirect("case_type_texts", pk=ctype.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            errors, status = exc.field_errors, 422
    table = [{"key": key, "what": what, "base": base, "errors": errors.get(key, []),
              "cells": [{"code": code, "name": name, "field": f"t:{key}:{code}",
                         "value": request.POST.get(f"t:{key}:{code}") if request.method == "POST" else
                         translations.get(code, "")} for code, name in languages]}
             for key, what, base, translations in rows]
    return render(request, "cases/case_type_texts.html", {
        "case_type": ctype, "table": table, "languages": languages, "countries": COUNTRIES,
        "chosen_countries": set(ctype.countries), "base_language": settings.LANGUAGE_CODE}, status=status)

"""Messages to a selection: compose from a member list (a rep's, or member service's people list), preview, a test
to oneself, send in the background with progress and the status per recipient; the templates; unsubscribing."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tillit.core import audit
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.scopes import CONFIGURE, EDIT, organisation_wide
from tillit.core.text import as_page
from tillit.dues.invoices import kroner
from tillit.dues.ledger import own_arrears
from tillit.messaging import mailings
from tillit.messaging.access import may_message_people
from tillit.messaging.models import Mailing, MessageTemplate, Recipient
from tillit.messaging.outbox import queue_email
from tillit.messaging.sms import send_sms
from tillit.registry.listing import FILTERS, clean_filters, filter_people
from tillit.registry.models import Employment, Person
from tillit.registry.search import search_people
from tillit.registry.validation import Errors, clean_line
from tillit.registry.views import latest_memberships
from tillit.reps import declaration, selection
from tillit.reps.access import node_for

LIMIT = mailings.MAX_RECIPIENTS


def _workplaces(person_ids, today) -> dict[int, str]:
    out = {}
    for person_id, name in Employment.objects.current_on(today).filter(person_id__in=person_ids).order_by(
            "starts_on").values_list("person_id", "workplace__name"):
        out[person_id] = name
    return out


def _rows(people, numbers: dict, user) -> list[dict]:
    today = timezone.localdate()
    people = list(people)
    jobs = _workplaces([p.pk for p in people], today)
    owed = own_arrears([p.pk for p in people], today)
    sender = " ".join(filter(None, [user.first_name, user.last_name])) or user.get_username()
    return [{"person_id": p.pk, "email": p.email, "phone": p.phone, "language": p.preferred_language,
             "name": f"{p.last_name}, {p.first_name}",
             "merge": {"first_name": p.first_name, "last_name": p.last_name, "member_number": numbers.get(p.pk, ""),
                       "workplace": jobs.get(p.pk, ""), "sender": sender,
                       "amount_owed": kroner(owed.get(p.pk, 0))}} for p in people]


def selection_for(request) -> tuple[list[dict], dict, str]:
    """The recipients of the list the user came from (source=reps|people and that list's filters): the same rule
    as the list itself, within the user's scope. Returns rows, the selection as recorded, and a way back."""
    params = request.GET
    source = params.get("source", "")
    if source == "reps":

        node = node_for(request.user, params.get("node"))
        if not declaration.has_signed(request.user):
            raise Http404
        filters = selection.clean(params)
        found = list(selection.select(request.user, node, filters)[:LIMIT + 1])
        numbers = {m.person_id: m.member_number for m in found}
        query = selection.as_query(filters, node.key)
        back = reverse("reps_members") + "?" + urlencode(query)
        return (_rows([m.person for m in found], numbers, request.user),
                {"source": "reps", "channel": "rep", **query}, back)
    if source == "people":
        if not may_message_people(request.user):
            raise Http404

        filters = clean_filters(params)
        people = filter_people(Person.objects.visible_to(request.user, EDIT).current(), filters)
        if filters.get("q"):

            people = search_people(people, filters["q"], limit=1000)
        found = list(people.order_by("last_name", "first_name", "pk")[:LIMIT + 1]) if hasattr(people, "order_by") \
            else list(people)[:LIMIT + 1]
        numbers = {pk: row[0] for pk, row in latest_memberships([p.pk for p in found]).items()}
        query = {k: filters[k] for k in FILTERS if filters.get(k)}
        return _rows(found, numbers, request.user), {"source": "people", "channel": "ui", **query}, \
            reverse("people") + "?" + urlencode(query)
    raise Http404


def _own_address(user) -> str:
    if user.email:
        return user.email
    own = Person.objects.filter(user=user).exclude(email="").values_list("email", flat=True).first()
    return own or ""


@login_required
@require_http_methods(["GET", "POST"])
def compose(request):
    try:
        rows, selection, back = selection_for(request)
    except InvalidInput as exc:
        return render(request, "messaging/compose.html", {"errors": exc.lines(), "rows": [], "back": ""}, status=400)
    data = request.POST if request.method == "POST" else {}
    context = {"rows": rows[:LIMIT], "count": len(rows), "too_many": len(rows) > LIMIT, "back": back,
               "templates": mailings.template_choices(request.LANGUAGE_CODE),
               "merge_fields": mailings.MERGE_FIELDS, "data": data, "errors": [], "field_errors": {},
               "with_email": sum(1 for r in rows if r["email"]), "with_phone": sum(1 for r in rows if r["phone"])}
    if request.method == "POST":
        action = request.POST.get("action", "preview")
        if action == "fill":
            return _fill_in(request, context)
        try:
            draft = mailings.clean_draft(request.POST)
            base_url = settings.TILLIT_PUBLIC_URL  # links in mail: the configured site, never the request's Host
            if action == "send":
                if context["too_many"]:
                    raise InvalidInput(_("At most %(n)s recipients at a time; narrow the list.") % {"n": LIMIT},
                                       field_errors={"selection": [_("Too many recipients.")]})
                mailing = mailings.create_mailing(draft, rows, user=request.user, selection=selection,
                                                  base_url=base_url)
                return redirect("mailing", mailing.pk)
            if not rows:
                raise InvalidInput(_("The selection is empty: no one to send to."),
                                   field_errors={"selection": [_("No one in the selection.")]})
            subject, body = mailings.render(draft, rows[0], base_url=base_url, is_statutory=mailings.statutory(draft))
            context["preview"] = {"to": rows[0]["name"], "subject": subject, "body": body}
            if action == "test":
                address = _own_address(request.user)
                if not address:
                    raise InvalidInput(_("Your account has no email address to send a test to."),
                                       field_errors={"action": [_("No email address on your account.")]})
                with transaction.atomic():
                    if draft["channel"] == Mailing.Channel.SMS:

                        own_phone = Person.objects.filter(user=request.user).values_list("phone", flat=True).first()
                        if not own_phone:
                            raise InvalidInput(_("Your record has no phone number to send a test to."),
                                               field_errors={"action": [_("No phone number on your record.")]})
                        send_sms(own_phone, body)
                    else:
                        queue_email(address=address, subject=_("[Test] %(s)s") % {"s": subject}, body=body)
                flash.success(request, _("A test was sent to you."))
        except DomainError as exc:
            context["errors"], context["field_errors"] = exc.lines(), exc.field_errors
            return render(request, "messaging/compose.html", context, status=422)
    return render(request, "messaging/compose.html", context)


def _fill_in(request, context):
    """Put the chosen template's subject and text in the fields to edit, only where nothing is written yet: what
    the writer typed is never replaced."""
    data = request.POST.copy()
    try:
        subject, body = mailings.filled_in(data.get("template", ""), request.LANGUAGE_CODE)
    except InvalidInput as exc:
        context["errors"], context["field_errors"] = exc.lines(), exc.field_errors
        return render(request, "messaging/compose.html", context, status=422)
    if data.get("subject", "").strip() or data.get("body", "").strip():
        flash.warning(request, _("The template was not filled in: the subject or the message already has text, and "
                                 "what you wrote is kept. Empty both to use the template."))
    else:
        data["subject"], data["body"] = subject, body
    context["data"] = data
    return render(request, "messaging/compose.html", context)


def _mailing_for(request, pk) -> Mailing:
    mailing = get_object_or_404(Mailing, pk=pk)
    if mailing.created_by_id != request.user.pk and not organisation_wide(request.user, CONFIGURE):
        raise Http404
    return mailing


@login_required
def mailing_page(request, pk):
    mailing = _mailing_for(request, pk)
    page = as_page(request.GET.get("page"))
    shown = (Recipient.objects.filter(mailing=mailing, person__in=Person.objects.visible_to(request.user).values("pk"))
             .select_related("person").order_by("pk"))
    chunk = list(shown[(page - 1) * 100:page * 100 + 1])
    context = {"mailing": mailing, "progress": mailings.progress(mailing), "recipients": chunk[:100], "page": page,
               "has_next": len(chunk) > 100, "query": ""}
    if request.GET.get("fragment"):
        return render(request, "messaging/_mailing_progress.html", context)
    return render(request, "messaging/mailing.html", context)


@login_required
def mailing_list(request):
    found = Mailing.objects.filter(created_by=request.user).order_by("-created_at")[:100]
    return render(request, "messaging/mailings.html", {"mailings": found})


def _may_configure(request):
    if not organisation_wide(request.user, CONFIGURE):
        raise Http404


@login_required
def template_list(request):
    _may_configure(request)
    return render(request, "messaging/templates.html", {"templates": mailings.selection_templates()})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk=None):
    """One language variant of a template for messages to a selection (same code, one row per language)."""
    _may_configure(request)
    template = get_object_or_404(MessageTemplate, pk=pk, for_selection=True) if pk else None
    errors, field_errors = [], {}
    if request.method == "POST":

        check = Errors()
        code = clean_line(request.POST.get("code"), "code", check, max_length=40, required=True)
        if code and not code.replace("-", "").replace("_", "").isalnum():
            check.add("code", _("Letters, digits, - and _ only."))
        language = request.POST.get("language", "")
        if language not in dict(MessageTemplate._meta.get_field("language").choices):
            check.add("language", _("Choose a language."))
        subject = clean_line(request.POST.get("subject"), "subject", check, max_length=200, required=True)
        mailings.check_text(subject, "subject", check)
        body = mailings.check_text(request.POST.get("body"), "body", check)
        clash = MessageTemplate.objects.filter(for_selection=True, case_type=None, code=code, language=language)
        if template:
            clash = clash.exclude(pk=template.pk)
        if code and clash.exists():
            check.add("language", _("This template has a text in this language already."))
        try:
            check.raise_if_any()
        except InvalidInput as exc:
            errors, field_errors = exc.lines(), exc.field_errors
        else:
            template = template or MessageTemplate(for_selection=True)
            template.code, template.language, template.subject, template.body = code, language, subject, body
            template.statutory = request.POST.get("statutory") == "on"
            template.save()
            audit.record("messaging.template.saved", template, actor=request.user, channel="ui",
                         changes={"code": [None, code], "language": [None, language],
                                  "statutory": [None, template.statutory]})
            flash.success(request, _("The template is saved."))
            return redirect("selection_templates")
    return render(request, "messaging/template_edit.html", {
        "template": template, "errors": errors, "field_errors": field_errors, "data": request.POST,
        "languages": MessageTemplate._meta.get_field("language").choices, "merge_fields": mailings.MERGE_FIELDS},
        status=422 if errors else 200)


@require_http_methods(["GET", "POST"])
def opt_out(request, token):
    """The link in a message: a page that asks, and a button that unsubscribes (a GET never changes anything,
    so a mail scanner following links unsubscribes no one)."""
    person_id = mailings.person_of_token(token)
    if person_id is None:
        return render(request, "messaging/opt_out.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        try:
            mailings.opt_out(person_id)
        except DomainError:
            return render(request, "messaging/opt_out.html", {"invalid": True}, status=404)
        done = True
    return render(request, "messaging/opt_out.html", {"done": done})

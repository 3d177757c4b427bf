"""The member's and the citizen's own Tillit: their cases followed to the end, their data, requests from the
service catalogue (with answers suggested first), bookings, ratings; and the staff pages that configure the
catalogue and write the knowledge base. Every personal page reads through portal.access."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Avg, Count, F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tillit.cases.access import may_edit_case
from tillit.cases.models import Case, CaseEvent, CaseType
from tillit.cases.services import record_event
from tillit.core import logins
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.jobs import new_token
from tillit.core.kept import kept_in
from tillit.core.limits import client_of
from tillit.core.present import url_maker
from tillit.core.scopes import EDIT
from tillit.core.services import AlreadySent, spend, spent_at
from tillit.core.text import as_version
from tillit.documents import access as document_access
from tillit.documents.models import Document
from tillit.documents.panels import case_document_titles
from tillit.dues.invoices import kroner, payment_instructions
from tillit.dues.ledger import statement
from tillit.portal import booking, knowledge, services
from tillit.portal.access import events_for, may_publish, own_case, own_cases, own_person, require_person
from tillit.portal.config import add_field, remove_field, save_service
from tillit.portal.export import export_json
from tillit.portal.models import LANGUAGES, Article, Booking, Consent, Deflection, FormField, Rating, Service
from tillit.registry.identity import format_phone
from tillit.registry.models import Role


def _lang() -> str:
    language = (get_language() or "nb")[:2]
    return language if language in LANGUAGES else "nb"


def _base_url(request) -> str:
    """Links in mail point to the configured site, never to the Host a request names (a forged Host header would
    otherwise mail a login link to another server)."""
    return settings.TILLIT_PUBLIC_URL


def _errors(exc: DomainError) -> dict:
    return {"errors": exc.lines(), "field_errors": exc.field_errors}


def _status(exc: DomainError) -> int:
    if isinstance(exc, services.TooMany):
        return 429
    return 409 if isinstance(exc, ConflictError) else 422


# --- home and own cases -----------------------------------------------------------------------------------

CLOSED_SHOWN = 50


@login_required
def home(request):
    """The person's open cases, then the latest closed ones: flat rows, the fields shown only."""
    person = require_person(request.user)
    fields = ("pk", "number", "title", "state__name", "responsible_unit__name", "due_on", "closed_at")
    mine = own_cases(request.user).order_by("-opened_at", "-pk")
    open_rows = list(mine.filter(closed_at__isnull=True).values(*fields)[:200])
    closed_rows = list(mine.filter(closed_at__isnull=False).values(*fields)[:CLOSED_SHOWN + 1])
    url = url_maker("portal_case")
    for row in open_rows + closed_rows:
        row["url"] = url(row["pk"])
        row["due"] = row["due_on"]
        row["closed"] = timezone.localdate(row["closed_at"]) if row["closed_at"] else None
    return render(request, "portal/home.html", {
        "person": person, "open": open_rows, "closed": closed_rows[:CLOSED_SHOWN],
        "more_closed": len(closed_rows) > CLOSED_SHOWN})


@login_required
@require_http_methods(["GET", "POST"])
def case_page(request, pk):
    person = require_person(request.user)
    case = own_case(request.user, pk)
    context, status = {}, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "reply":
                services.reply(case, person=person, user=request.user, body=request.POST.get("body", ""),
                               upload=request.FILES.get("file"))
                messages.success(request, _("Your answer is on the case."))
            elif action == "rate":
                services.rate(case, score=request.POST.get("score"), comment=request.POST.get("comment", ""),
                              user=request.user)
                messages.success(request, _("Thank you for your answer."))
            elif action in ("move", "cancel"):
                found = Booking.objects.filter(case=case, pk=as_version(request.POST.get("booking")) or 0).first()
                if found is None:
                    raise Http404
                if action == "cancel":
                    booking.cancel(found, user=request.user, base_url=_base_url(request))
                    messages.success(request, _("The booking is cancelled."))
                else:
                    at = booking.parse_slot(found.service, request.POST.get("slot", ""))
                    booking.move(found, at=at, user=request.user, base_url=_base_url(request))
                    messages.success(request, _("The booking is moved."))
            else:
                raise InvalidInput(_("Unknown action."), field_errors={"action": [_("Unknown action.")]})
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
        else:
            return redirect("portal_case", case.pk)
    events = events_for(request.user, case)
    bookings = list(Booking.objects.filter(case=case).select_related("service__case_type__default_unit"))
    active = next((b for b in bookings if b.state == Booking.State.BOOKED), None)
    return render(request, "portal/case.html", {
        "case": case, "events": events, "person": person, "bookings": bookings, "active": active,
        "slots": [s for s in booking.slots(active.service) if s["left"] > 0][:60] if active else [],
        "rating": Rating.objects.filter(case=case).first(), "scores": range(1, 6),
        "answers": case.answers.all(), **context}, status=status)


@login_required
def case_file(request, pk, document):
    """A file on the person's own case that is on its public timeline (what they sent, or what staff put
    there for them); anything else is a 404."""
    case = own_case(request.user, pk)
    if not any(e.kind == CaseEvent.Kind.DOCUMENT and e.data.get("document") == document
               for e in events_for(request.user, case)):
        raise Http404
    found = Document.objects.filter(pk=document, cases=case).select_related("current__blob").first()
    if found is None:
        raise Http404
    version = document_access.version_of(found, None)
    document_access.log_document_access(request.user, found, "document.download", channel="portal",
                                  version=version.number)
    return document_access.file_response(version)


# --- own data -----------------------------------------------------------------------------------------------

def _me_context(person):

    today = timezone.localdate()
    memberships = list(person.memberships.select_related("membership_type", "branch").prefetch_related("periods")
                       .order_by("-joined_on"))
    jobs = list(person.employments.select_related("workplace").order_by("-starts_on"))
    current = [e.workplace_id for e in jobs if e.starts_on <= today and (e.ends_on is None or e.ends_on >= today)]
    reps = list(Role.objects.current_on(today).filter(employer_id__in=current, role_type__grant_role="rep")
                .exclude(person=person).select_related("person", "role_type", "employer"))
    balance = None
    if person.dues_entries.exists():

        account = statement(person, today)
        balance = {"outstanding": kroner(account["outstanding"]), "in_arrears": account["in_arrears"],
                   **payment_instructions(person, today)}
    return {"person": person, "phone": format_phone(person.phone), "memberships": memberships, "jobs": jobs,
            "reps": reps, "balance": balance, "consents": services.consents_of(person),
            "consent_kinds": Consent.Kind.choices, "languages": settings.LANGUAGES,
            "change_kinds": [("workplace", _("Workplace")), ("percentage", _("Employment percentage")),
                             ("membership", _("Membership")), ("other", _("Other"))]}


@login_required
@require_http_methods(["GET", "POST"])
def me(request):
    person = require_person(request.user)
    context, status = {}, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "contact":
                services.update_contact(person, request.POST, user=request.user,
                                        expected_version=as_version(request.POST.get("version")))
                messages.success(request, _("Your contact details are saved."))
            elif action == "consents":
                changed = services.set_consents(person, {k: request.POST.get(k) == "on" for k in Consent.Kind.values},
                                                user=request.user)
                messages.success(request, _("Saved.") if changed else _("Nothing was changed."))
            elif action == "change":
                case = services.request_change(person, what=request.POST.get("what", ""),
                                               text=request.POST.get("text", ""), user=request.user)
                messages.success(request, _("Member service has your request: case %(n)s.") % {"n": case.number})
                return redirect("portal_case", case.pk)
            else:
                raise InvalidInput(_("Unknown action."), field_errors={"action": [_("Unknown action.")]})
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
            person = require_person(request.user)
            person.refresh_from_db()
        else:
            return redirect("portal_me")
    return render(request, "portal/me.html", {**_me_context(person), **context,
                                              "data": request.POST if status != 200 else {}}, status=status)


@login_required
def export(request):

    person = require_person(request.user)
    response = HttpResponse(export_json(request.user, person), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.localdate().isoformat()}.json"'
    return response


# --- the service catalogue ----------------------------------------------------------------------------------

def _offered(request):
    found = Service.objects.filter(active=True, case_type__active=True).select_related("case_type")
    if not own_person(request.user):
        found = found.filter(audience=Service.Audience.ANYONE)
    return found


def catalogue(request):
    language = _lang()
    shown = [{"s": s, "title": s.title(language), "intro": services.in_language(s.intros, language)}
             for s in _offered(request)]
    return render(request, "portal/services.html", {"services": shown, "person": own_person(request.user)})


def _service(request, pk) -> Service:
    found = _offered(request).filter(pk=pk).prefetch_related("fields").first()
    if found is None:
        raise Http404
    return found


def _fields(service, language):
    return [{"f": f, "name": f"f_{f.key}", "label": services.label(f, language),
             "help": services.in_language(f.helps, language),
             "choices": [(c["value"], services.in_language(c.get("labels", {}), language) or c["value"])
                         for c in f.choices]} for f in service.fields.all()]


@require_http_methods(["GET", "POST"])
def service_page(request, pk):
    service = _service(request, pk)
    language = _lang()
    person = own_person(request.user)
    context, status = {}, 200
    if request.method == "POST" and request.POST.get("action") != "suggest":
        try:
            with transaction.atomic():  # the form's one-time token is spent with what it made, or not at all
                submission = spend(request.POST.get("once", ""))
                answer = _submit(request, service, person, language)
                spent_at(submission, answer.get("Location", "") or request.get_full_path())
            return answer
        except AlreadySent as sent:
            messages.info(request, _("This request was sent already; here is what it made."))
            if sent.url and url_has_allowed_host_and_scheme(sent.url, allowed_hosts=None) and \
                    sent.url != request.get_full_path():
                return redirect(sent.url)
            return render(request, "portal/check_email.html", {"email": request.POST.get("email", "").strip()})
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
    title = (request.GET.get("title") or request.POST.get("f_title", ""))[:200]
    return render(request, "portal/service.html", {
        "service": service, "title": service.title(language), "intro": services.in_language(service.intros, language),
        "fields": _fields(service, language), "person": person, "data": request.POST,
        "suggestions": knowledge.search(title, language) if title else [],
        "slots": [s for s in booking.slots(service) if s["left"] > 0][:80] if service.bookable else [],
        "once": request.POST.get("once") if status != 200 and request.POST.get("once") else new_token(),
        **context}, status=status)


def _submit(request, service, person, language):
    """One request from the service's form: a booking, a member's case, or an anonymous request to confirm."""
    answers, uploads = services.clean_answers(service, request.POST, request.FILES if person else None, language)
    if service.bookable:
        if person is None:
            raise InvalidInput(_("Log in to book a time."), field_errors={"slot": [_("Log in first.")]})
        at = booking.parse_slot(service, request.POST.get("slot", ""))
        made = booking.book(service, person=person, at=at, user=request.user,
                            note="\n".join(f"{a['label']}: {a['value']}" for a in answers if a["value"]),
                            base_url=_base_url(request))
        messages.success(request, _("You are booked. Case number %(n)s.") % {"n": made.case.number})
        return redirect("portal_case", made.case_id)
    if person is not None:
        case = services.open_request(service, person=person, answers=answers, uploads=uploads,
                                     actor=request.user, language=language, base_url=_base_url(request))
        messages.success(request, _("Your request is sent. Case number %(n)s.") % {"n": case.number})
        return redirect("portal_case", case.pk)
    services.submit_anonymous(service, name=request.POST.get("name", ""), email=request.POST.get("email", ""),
                              answers=answers, language=language, base_url=_base_url(request),
                              client=client_of(request))
    return render(request, "portal/check_email.html", {"email": request.POST.get("email", "").strip()})


def suggest(request, pk):
    """Articles matching what the person is typing (the form asks this as they type; a fragment of HTML)."""
    service = _service(request, pk)
    found = knowledge.search((request.GET.get("q") or "")[:200], _lang())
    return render(request, "portal/_suggestions.html", {"suggestions": found, "service": service})


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    pending = services.pending_for(token)
    if pending is None or pending.confirmed_at:
        return render(request, "portal/confirm.html", {"invalid": True}, status=404)
    context, status = {}, 200
    if request.method == "POST":
        try:
            user, case = services.confirm(token, base_url=_base_url(request), name=request.POST.get("name", ""))
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
        else:
            if user is None:  # a login that signs in with its password: the request is taken all the same
                if case is not None:
                    messages.success(request, _("Your request is sent. Case number %(n)s. Log in with your "
                                                "username and password to follow it.") % {"n": case.number})
                return redirect("login")
            if case is not None:
                messages.success(request, _("Your request is sent. Case number %(n)s.") % {"n": case.number})
            else:
                messages.success(request, _("Your account is ready."))
            goal = reverse("portal_case", args=[case.pk]) if case is not None else reverse("portal_home")
            return redirect(logins.begin(request, user, next_url=goal, chose_password=False, method="link") or goal)
    return render(request, "portal/confirm.html", {"pending": pending, **context}, status=status)


# --- login by email -----------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def login_link(request):
    context, status = {}, 200
    if request.method == "POST":
        try:
            services.send_login_link(request.POST.get("email", ""), client=client_of(request),
                                     base_url=_base_url(request), language=_lang())
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
        else:
            return render(request, "portal/check_email.html", {"email": request.POST.get("email", "").strip(),
                                                               "login": True})
    return render(request, "portal/login_link.html", context, status=status)


@require_http_methods(["GET", "POST"])
def use_link(request, token):
    """The link from the email: a page with one button (a GET logs no one in, so a mail scanner that follows
    links does not use it up)."""
    if request.method == "POST":
        user = services.use_login_link(token)
        if user is None:
            return render(request, "portal/link.html", {"invalid": True}, status=404)
        home = reverse("home")
        return redirect(logins.begin(request, user, next_url=home, chose_password=False, method="link") or home)
    return render(request, "portal/link.html", {})


# --- answers before asking ----------------------------------------------------------------------------------

def help_page(request):
    language = _lang()
    q = (request.GET.get("q") or "").strip()[:200]
    if q:
        found = knowledge.search(q, language, limit=20)
    else:
        found = list(Article.objects.filter(state=Article.State.PUBLISHED, language=language).order_by(
            "category", "title")[:200])
    return render(request, "portal/help.html", {"articles": found, "q": q})


@require_http_methods(["GET", "POST"])
def article_page(request, pk):
    article = get_object_or_404(Article, pk=pk, state=Article.State.PUBLISHED)
    service = Service.objects.filter(pk=as_version(request.GET.get("service") or request.POST.get("service"))
                                     or 0).select_related("case_type").first()
    if request.method == "POST":
        with transaction.atomic():
            Article.objects.filter(pk=article.pk).update(helped=F("helped") + 1)
            Deflection.objects.create(article=article, service=service,
                                      unit=service.case_type.default_unit if service else None)
        messages.success(request, _("Good. Thank you for telling us."))
        return redirect("portal_article", article.pk)
    return render(request, "portal/article.html", {"article": article, "service": service})


# --- staff: the catalogue and the knowledge base ------------------------------------------------------------

def _may_configure(request):

    if not may_publish(request.user):
        raise Http404


@login_required
def manage_services(request):
    _may_configure(request)

    types = CaseType.objects.filter(active=True).select_related("service").order_by("name")
    return render(request, "portal/manage_services.html", {"types": types})


@login_required
@require_http_methods(["GET", "POST"])
def manage_service(request, pk):
    _may_configure(request)

    case_type = get_object_or_404(CaseType, pk=pk)
    service = Service.objects.filter(case_type=case_type).first()
    context, status = {}, 200
    if request.method == "POST":
        try:
            action = request.POST.get("action", "save")
            if action == "save":
                service = save_service(case_type, request.POST, actor=request.user)
            elif action == "add_field" and service:
                add_field(service, request.POST, actor=request.user)
            elif action == "remove_field" and service:
                remove_field(service, request.POST.get("field", ""), actor=request.user)
            else:
                raise InvalidInput(_("Save the service first."), field_errors={"action": [_("Unknown action.")]})
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("portal_manage_service", case_type.pk)
    return render(request, "portal/manage_service.html", {
        "case_type": case_type, "service": service, "languages": LANGUAGES, "kinds": FormField.Kind.choices,
        "audiences": Service.Audience.choices, "fields": service.fields.all() if service else [],
        "data": request.POST if status != 200 else {}, **context}, status=status)


@login_required
def manage_articles(request):
    _may_configure(request)
    return render(request, "portal/manage_articles.html", {"articles": Article.objects.order_by("language", "title")})


@login_required
@require_http_methods(["GET", "POST"])
def manage_article(request, pk=None):
    _may_configure(request)
    article = get_object_or_404(Article, pk=pk) if pk else Article()
    context, status = {}, 200
    if request.method == "POST":
        try:
            article = knowledge.save_article(article, request.POST, actor=request.user,
                                             expected_version=as_version(request.POST.get("version")))
        except DomainError as exc:
            context, status = _errors(exc), _status(exc)
        else:
            messages.success(request, _("The article is saved."))
            return redirect("portal_manage_article", article.pk)
    return render(request, "portal/manage_article.html", {
        "article": article, "languages": settings.LANGUAGES, "states": Article.State.choices,
        "data": request.POST if status != 200 else {}, **context}, status=status)


def measure_panel(request, period):
    """The measurement page's satisfaction and deflection for the unit's subtree and the period."""
    unit, start, end = period
    ratings = Rating.objects.filter(case__responsible_unit__path__startswith=unit.path, at__date__gte=start,
                                    at__date__lte=end).aggregate(n=Count("pk"), avg=Avg("score"))
    deflected = Deflection.objects.filter(unit__path__startswith=unit.path, at__date__gte=start,
                                          at__date__lte=end).count()
    return "portal/_measure.html", {"ratings": ratings, "deflected": deflected,
                                    "url": reverse("portal_help")}


def published_titles() -> list[tuple[int, str, str]]:
    """(id, title, language) of the published help articles, for the case page's "send an article": kept for
    five minutes, a new generation whenever an article is saved or deleted (portal.apps)."""
    return kept_in("articles", "published", 300, lambda: list(
        Article.objects.filter(state=Article.State.PUBLISHED).order_by("language", "title")
        .values_list("pk", "title", "language")[:300]))


def case_for_the_person(request, case):
    """A section of the staff's case page: what the person sees of the case's documents (and a button to show
    one on their timeline), and a help article to send them. For those who may write on the case only."""
    if not case.case_type.subject_can_see or not may_edit_case(request.user, case):
        return None
    shown = set(CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DOCUMENT, public=True)
                .values_list("data__document", flat=True))
    documents = [{"pk": pk, "title": title, "shown": pk in shown} for pk, title in case_document_titles(request, case)]
    articles = published_titles()
    if not documents and not articles:
        return None
    base = request.build_absolute_uri(reverse("portal_help"))
    return "portal/_case_for_the_person.html", {"case": case, "documents": documents, "articles": [
        {"text": f"{title}: {base}{pk}/", "title": title, "language": language} for pk, title, language in articles]}


@login_required
@require_http_methods(["POST"])
def share_document(request, pk):
    """Show one of the case's documents on the person's timeline (they can then download it in the portal)."""
    case = Case.objects.visible_to(request.user, EDIT).filter(pk=pk).select_related("case_type").first()
    if case is None or not case.case_type.subject_can_see:
        raise Http404
    document = Document.objects.linked_to_visible(request.user, case=case).filter(
        pk=as_version(request.POST.get("document")) or 0).first()
    if document is None:
        messages.error(request, _("Choose one of the case's documents."))
        return redirect("case", pk=case.pk)
    with transaction.atomic():
        if not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.DOCUMENT, public=True,
                                        data__document=document.pk).exists():
            record_event(case, CaseEvent.Kind.DOCUMENT, actor=request.user, public=True, body=document.title,
                         data={"document": document.pk})
    messages.success(request, _("The person can now see “%(t)s” on their case.") % {"t": document.title})
    return redirect("case", pk=case.pk)

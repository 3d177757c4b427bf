"""Self-service operations: requests from the catalogue (with or without a login), login links by email, the
person's own contact data, consents, replies and ratings on their cases, and the export of their data."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from tillit.cases import services as case_services
from tillit.cases.models import Case, CaseEvent, CaseType
from tillit.core import audit
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.limits import count
from tillit.core.services import hold
from tillit.documents.services import create_document
from tillit.messaging.outbox import queue_email
from tillit.portal.access import may_log_in_by_link
from tillit.portal.models import Answer, Consent, FormField, LoginLink, PendingRequest, Rating, Service, in_language
from tillit.registry import fields as person_fields
from tillit.registry.erasure import scrub_rows
from tillit.registry.identity import parse_national_id
from tillit.registry.models import OrgUnit, Person
from tillit.registry.services import create_person, link_user, update_person
from tillit.registry.validation import Errors, clean_line, parse_date

LINK_MINUTES = 15
CONFIRM_HOURS = 48
LINKS_PER_ADDRESS = 3  # per hour
LINKS_PER_CLIENT = 20
REQUESTS_PER_ADDRESS = 5  # per hour, requests from someone without a login
REQUESTS_PER_CLIENT = 20


class TooMany(InvalidInput):
    """A limit on what anyone may send without a login was reached (answered 429)."""
TEXT_MAX = 10_000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token() -> str:
    return secrets.token_urlsafe(32)


def public_url(base_url: str, name: str, *args) -> str:
    return base_url.rstrip("/") + reverse(name, args=args)


# --- forms ---------------------------------------------------------------------------------------------------

def label(field: FormField, language: str) -> str:
    return in_language(field.labels, language) or field.key


def clean_answers(service: Service, post, files, language: str) -> tuple[list[dict], list]:
    """The form's answers, checked by each field's kind; errors name the field by its key."""
    errors = Errors()
    answers, uploads = [], []
    for field in service.fields.all():
        name = f"f_{field.key}"
        if field.kind == FormField.Kind.FILE:
            upload = files.get(name) if files else None
            if upload is None and field.required:
                errors.add(name, _("Add a file."))
            if upload is not None:
                uploads.append((field, upload))
            continue
        raw = post.get(name, "")
        value = ""
        if field.kind == FormField.Kind.LONG:
            value = (raw or "").replace("\r\n", "\n").strip()
            if len(value) > TEXT_MAX:
                errors.add(name, _("At most %(n)s characters.") % {"n": TEXT_MAX})
        elif field.kind == FormField.Kind.YES_NO:
            value = {"yes": _("yes"), "no": _("no")}.get(raw, "")
            if raw and not value:
                errors.add(name, _("Answer yes or no."))
        elif field.kind == FormField.Kind.CHOICE:
            offered = {c["value"]: in_language(c.get("labels", {}), language) or c["value"] for c in field.choices}
            if raw and raw not in offered:
                errors.add(name, _("Choose one of the options."))
            value = offered.get(raw, "")
        elif field.kind == FormField.Kind.DATE:
            day = parse_date(raw, name, errors) if (raw or "").strip() else None
            value = day.isoformat() if day else ""
        elif field.kind == FormField.Kind.NUMBER:
            text = (raw or "").strip().replace(",", ".")
            if text:
                try:
                    number = float(text)
                    if not abs(number) < 1e12:
                        raise ValueError
                    value = text
                except ValueError:
                    errors.add(name, _("Write a number."))
        elif field.kind == FormField.Kind.NATIONAL_ID:
            text = (raw or "").strip()
            if text:
                try:
                    value = parse_national_id(text)[0]
                except ValueError as exc:
                    errors.add(name, str(exc))
        else:
            value = clean_line(raw, name, errors, max_length=500)
        if field.required and not value and name not in errors.by_field:
            errors.add(name, _("This field is required."))
        answers.append({"key": field.key, "label": label(field, language), "value": value})
    errors.raise_if_any()
    return answers, uploads


def _title(service: Service, answers: list[dict], language: str) -> str:
    first = next((a["value"] for a in answers if a["key"] == "title" and a["value"]), "")
    return (first or service.title(language))[:200]


def home_unit(case_type: CaseType, person: Person):
    """Where a person's booking goes: the branch of their membership in force, when it belongs to the case type's
    organisation (under the same root as the type's unit) and the type is offered in the branch's country, so a
    member meets someone near them; otherwise None, the type's own unit (a municipality's department for its
    residents)."""
    default = case_type.default_unit
    membership = (person.memberships.member_on(timezone.localdate()).select_related("branch")
                  .order_by("-joined_on").first())
    if membership and default and membership.branch.path[:OrgUnit.steplen] == default.path[:OrgUnit.steplen] \
            and case_type.offered_in(membership.branch.country):
        return membership.branch
    return None


@transaction.atomic
def open_request(service: Service, *, person: Person, answers: list[dict], uploads=(), actor, language: str,
                 base_url: str) -> Case:
    """Open a case of the service's type in its default unit, about the person, with the answers on it, the
    files as documents, and a receipt by email."""
    if not service.active:
        raise DomainError(_("This service is not offered any more."))
    body = "\n".join(f"{a['label']}: {a['value']}" for a in answers if a["value"])
    case = case_services.open_case(service.case_type, title=_title(service, answers, language), actor=actor,
                                   channel="portal", subjects=[person], body=body)
    Answer.objects.bulk_create([Answer(case=case, key=a["key"], label=a["label"][:200], value=a["value"])
                                for a in answers])
    for _key, upload in uploads:
        document = create_document(file=upload, filename=upload.name, unit=case.responsible_unit, actor=actor,
                                   channel="portal", cases=[case], persons=[person],
                                   description=_("Sent with the request %(n)s.") % {"n": case.number})
        case_services.record_event(case, CaseEvent.Kind.DOCUMENT, actor=actor, public=True,
                                   body=document.title, data={"document": document.pk, "from_subject": True})
    if person.email:
        with override(person.preferred_language or language):
            queue_email(address=person.email, person=person,
                        subject=_("Received: your request %(n)s") % {"n": case.number},
                        body=_("We have received your request “%(s)s”. Its case number is %(n)s.\n\nFollow it, "
                               "answer and add files here: %(url)s\n") % {
                            "s": service.title(person.preferred_language or language), "n": case.number,
                            "url": public_url(base_url, "portal_case", case.pk)})
    return case


def submit_anonymous(service: Service, *, name: str, email: str, answers: list[dict], language: str,
                     base_url: str, client: str = "") -> PendingRequest:
    """Keep a request from someone without a login and send a link to confirm the email; the case opens on
    confirmation (so no one opens cases in another person's name). At most REQUESTS_PER_ADDRESS an hour to one
    address and REQUESTS_PER_CLIENT from one client: a flood is refused, naming the limit."""
    errors = Errors()
    name = clean_line(name, "name", errors, max_length=200, required=True)
    email = _clean_email(email, errors)
    errors.raise_if_any()
    if count("request-address", email, 3600) > REQUESTS_PER_ADDRESS or \
            count("request-client", client, 3600) > REQUESTS_PER_CLIENT:
        raise TooMany(_("Too many requests from here or to this address within an hour. Try again later."),
                      field_errors={"email": [_("Too many requests within an hour.")]})
    token = _token()
    with transaction.atomic():
        pending = PendingRequest.objects.create(service=service, email=email, name=name, language=language,
                                                data={"answers": answers}, token_hash=_hash(token))
        with override(language):
            queue_email(address=email, subject=_("Confirm your email to send your request"),
                        body=_("Someone (we hope you) asked “%(s)s” with this address. Confirm it to send the "
                               "request; the link works for %(h)s hours:\n\n%(url)s\n\nIf it was not you, do "
                               "nothing.") % {"s": service.title(language), "h": CONFIRM_HOURS,
                                              "url": public_url(base_url, "portal_confirm", token)})
    return pending


def _clean_email(value, errors: Errors) -> str:

    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.add("email", _("Enter a valid email address."))
    if len(email) > 254:
        errors.add("email", _("At most 254 characters."))
    return email


def pending_for(token: str) -> PendingRequest | None:
    found = PendingRequest.objects.select_related("service__case_type").filter(token_hash=_hash(token or "")).first()
    if found is None or found.created_at < timezone.now() - datetime.timedelta(hours=CONFIRM_HOURS):
        return None
    return found


@transaction.atomic
def confirm(token: str, *, base_url: str, name: str = ""):
    """The email is confirmed: the person is found by it (or made), gets a login if they had none, and the
    request's case opens. Returns (user to log in or None, case or None): None where the person's login is not one
    an address may open (portal.access.may_log_in_by_link). A second confirmation of the same link is refused."""
    pending = pending_for(token)
    if pending is None:
        raise InvalidInput(_("This link is not valid or has expired."), field_errors={"token": [_("Not valid.")]})
    locked = PendingRequest.objects.select_for_update().get(pk=pending.pk)
    if locked.confirmed_at:
        raise ConflictError(_("This request has already been confirmed."))
    hold(f"portal.email.{_hash(pending.email.strip().lower())[:40]}")  # one person per address, also at once
    person = person_for_email(pending.email, pending.name or clean_line(name, "name", Errors(), max_length=200),
                              pending.language)
    user = login_for(person)
    case = None
    if pending.service_id:
        case = open_request(pending.service, person=person, answers=pending.data.get("answers", []), actor=user,
                            language=pending.language, base_url=base_url)
    if not may_log_in_by_link(user, pending.email):
        user = None  # the request is taken, but proving this address logs no one into a stronger login
    PendingRequest.objects.filter(pk=pending.pk).update(confirmed_at=timezone.now(), case=case)
    return user, case


def person_for_email(email: str, name: str, language: str) -> Person:
    """The one person with this email (never a second one for the same address), or a new person without
    membership."""
    found = Person.objects.current().filter(email__iexact=email, anonymised_at__isnull=True).order_by("pk").first()
    if found is not None:
        return found
    first, _sep, last = (name or email.split("@")[0]).strip().rpartition(" ")
    if not first:
        first, last = last, "–"
    return create_person({"first_name": first[:100], "last_name": last[:100] or "–", "email": email,
                          "preferred_language": language if language in dict(settings.LANGUAGES) else "nb"},
                         actor=None, channel="portal", allow_duplicate=True)


def login_for(person: Person):
    """The person's login, made (without a password: they log in by email links) if they had none."""
    if person.user_id:
        return person.user
    User = get_user_model()
    base = (person.email.split("@")[0] or "person")[:100]
    username = f"{base}-{secrets.token_hex(3)}"
    user = User.objects.create_user(username=username, email=person.email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    link_user(person, user, actor=None, channel="portal")
    return user


def send_login_link(email: str, *, client: str, base_url: str, language: str) -> None:
    """Email a one-time login link to the person with this address, if there is one with a login; an unknown
    address gets a link to make an account. The caller answers the same either way; a flood is dropped."""
    errors = Errors()
    email = _clean_email(email, errors)
    errors.raise_if_any()
    if count("link-address", email, 3600) > LINKS_PER_ADDRESS or count("link-client", client, 3600) > LINKS_PER_CLIENT:
        return
    person = Person.objects.current().filter(email__iexact=email, anonymised_at__isnull=True).select_related(
        "user").order_by("pk").first()
    token = _token()
    with transaction.atomic(), override(language):
        if person is not None and person.user_id and not may_log_in_by_link(person.user, email):
            # a login that signs in with its password (or whose own address is another): no link, a pointer
            queue_email(address=email, person=person, subject=_("About logging in to Tillit"),
                        body=_("Someone asked for a login link to this address. Your login signs in with its "
                               "username and password; if you have lost it, your local administrator can set a new "
                               "one.\n\nIf you did not ask, do nothing."))
        elif person is not None and person.user_id:
            LoginLink.objects.create(user=person.user, token_hash=_hash(token),
                                     expires_at=timezone.now() + datetime.timedelta(minutes=LINK_MINUTES))
            queue_email(address=email, person=person, subject=_("Your login link"),
                        body=_("Log in to Tillit with this link; it works once, for %(m)s minutes:\n\n%(url)s\n\n"
                               "If you did not ask for it, do nothing.") % {
                            "m": LINK_MINUTES, "url": public_url(base_url, "portal_link", token)})
        else:
            PendingRequest.objects.create(service=None, email=email, name="", language=language,
                                          token_hash=_hash(token))
            queue_email(address=email, subject=_("Make your account"),
                        body=_("There is no account with this address yet. Make one with this link (it works for "
                               "%(h)s hours):\n\n%(url)s\n\nIf you did not ask for it, do nothing.") % {
                            "h": CONFIRM_HOURS, "url": public_url(base_url, "portal_confirm", token)})


@transaction.atomic
def use_login_link(token: str):
    """The user a valid, unused, unexpired link is for, marking it used; None for anything else."""
    found = LoginLink.objects.select_for_update().filter(token_hash=_hash(token or "")).select_related("user").first()
    if found is None or found.used_at or found.expires_at < timezone.now() or \
            not may_log_in_by_link(found.user, found.user.email):  # access may have been given since
        return None
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    return found.user


# --- own data ------------------------------------------------------------------------------------------------

CONTACT_FIELDS = person_fields.CONTACT


@transaction.atomic
def update_contact(person: Person, data: dict, *, user, expected_version) -> Person:
    """The person's own contact details; a new email is also their login's address (they are logged in: it is
    theirs to change), so login links follow it."""
    person = update_person(person, {k: data.get(k, "") for k in CONTACT_FIELDS if k in data}, actor=user,
                           channel="portal", expected_version=expected_version)
    if person.user_id == user.pk and user.email != person.email and may_log_in_by_link(user, user.email):
        old = user.email
        user.email = person.email
        user.save(update_fields=["email"])
        audit.record("core.user.email_changed", user, actor=user, channel="portal", person_id=person.pk)
        if old:  # the old address is told: a change it did not make can be stopped there
            queue_email(address=old, person=person, subject=_("Your login's email address is changed"),
                        body=_("The email address of your Tillit login was changed to %(new)s. Login links go "
                               "there from now on.\n\nIf you did not change it, contact member service at once.")
                        % {"new": person.email or "–"})
    return person


@transaction.atomic
def request_change(person: Person, *, what: str, text: str, user) -> Case:
    """A change the member cannot make themselves (workplace, employment percentage, membership): a case for
    member service in the member's own branch, which they follow like any other."""
    kinds = {"workplace": _("Workplace"), "percentage": _("Employment percentage"), "membership": _("Membership"),
             "other": _("Other")}
    errors = Errors()
    if what not in kinds:
        errors.add("what", _("Choose what should change."))
    text = (text or "").strip()
    if not text:
        errors.add("text", _("This field is required."))
    elif len(text) > TEXT_MAX:
        errors.add("text", _("At most %(n)s characters.") % {"n": TEXT_MAX})
    errors.raise_if_any()
    case_type = CaseType.objects.filter(active=True, is_intake=True).order_by("pk").first()
    if case_type is None:
        raise DomainError(_("Member service takes no requests here yet; write to them by email."))
    membership = person.memberships.select_related("branch").order_by("-joined_on").first()
    case = case_services.open_case(case_type, title=_("Change of my data: %(w)s") % {"w": kinds[what]}, actor=user,
                                   channel="portal", subjects=[person], body=text,
                                   unit=membership.branch if membership else None)
    audit.record("portal.change_requested", person, actor=user, channel="portal", person_id=person.pk,
                 changes={"what": [None, what], "case": [None, case.number]})
    return case


def consents_of(person: Person) -> dict[str, Consent | None]:
    latest = {}
    for consent in Consent.objects.filter(person=person).order_by("at", "pk"):
        latest[consent.kind] = consent
    return {kind: latest.get(kind) for kind in Consent.Kind.values}


@transaction.atomic
def set_consents(person: Person, wanted: dict[str, bool], *, user) -> list[str]:
    """Record each consent that changes (given or withdrawn, with the time); returns the kinds changed."""
    changed = []
    for kind, current in consents_of(person).items():
        given = bool(wanted.get(kind))
        if (current.given if current else False) != given:
            Consent.objects.create(person=person, kind=kind, given=given)
            audit.record("portal.consent", person, actor=user, channel="portal", person_id=person.pk,
                         changes={kind: [current.given if current else None, given]})
            changed.append(kind)
    return changed


# --- own cases -----------------------------------------------------------------------------------------------

@transaction.atomic
def reply(case: Case, *, person: Person, user, body: str, upload=None) -> CaseEvent:
    """The person's answer on their case: a message in on the public timeline, files as documents; the handler
    is notified (cases.notify), by email too if they chose so (without the text); a case waiting for the person
    moves on to work."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body and upload is None:
        raise InvalidInput(_("Write something or add a file."), field_errors={"body": [_("This field is required.")]})
    if len(body) > TEXT_MAX:
        raise InvalidInput(_("At most %(n)s characters.") % {"n": TEXT_MAX}, field_errors={"body": [
            _("Too long.")]})
    event = None
    if body:
        event = case_services.record_event(case, CaseEvent.Kind.MESSAGE_IN, actor=user, body=body, public=True,
                                           data={"channel": "portal"})
    if upload is not None:
        document = create_document(file=upload, filename=upload.name, unit=case.responsible_unit, actor=user,
                                   channel="portal", cases=[case], persons=[person],
                                   description=_("Added by the person the case is about."))
        event = case_services.record_event(case, CaseEvent.Kind.DOCUMENT, actor=user, public=True,
                                           body=document.title, data={"document": document.pk, "from_subject": True})
    case_services.answered(case)  # a case waiting for the person moves on
    return event


@transaction.atomic
def rate(case: Case, *, score, comment: str, user) -> Rating:
    if not case.closed_at:
        raise DomainError(_("A case is rated when it is closed."))
    text = str(score or "").strip()
    if text not in {"1", "2", "3", "4", "5"}:
        raise InvalidInput(_("Choose from 1 to 5."), field_errors={"score": [_("Choose from 1 to 5.")]})
    comment = (comment or "").strip()[:TEXT_MAX]
    try:
        with transaction.atomic():
            rating = Rating.objects.create(case=case, score=int(text), comment=comment)
    except IntegrityError:
        raise ConflictError(_("This case has been rated already.")) from None
    audit.record("portal.case_rated", case, actor=user, channel="portal", changes={"score": [None, int(text)]})
    return rating


def erase_person(person, scrub) -> None:
    """Erasure (registry.erasure): the person's requests waiting for confirmation, their answers to the service
    forms and their ratings lose the person's values; their login links go."""
    addresses = [v for v in scrub.values if "@" in v]
    cases = Case.objects.filter(subjects=person)
    scrub_rows(PendingRequest.objects.filter(email__in=addresses), ["email", "name", "data"], scrub)
    scrub_rows(Answer.objects.filter(case__in=cases), ["label", "value"], scrub)
    scrub_rows(Rating.objects.filter(case__in=cases), ["comment"], scrub)
    if person.user_id:
        LoginLink.objects.filter(user_id=person.user_id).delete()

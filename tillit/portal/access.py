"""The portal's one gate: what a logged-in member or citizen sees is their own record and the cases about them
whose case type lets the subject follow it, and nothing else. Every portal page and export reads through here."""

from django.http import Http404
from django.utils.translation import gettext_lazy

from tillit.cases.models import Case, CaseEvent
from tillit.core.memo import per_request
from tillit.core.models import Grant
from tillit.core.policy import declare
from tillit.core.scopes import CONFIGURE, organisation_wide
from tillit.messaging.models import Message
from tillit.registry.models import Person

PUBLISH = declare("portal.publish", gettext_lazy("Publish the service catalogue and the public help articles"),
                  CONFIGURE, note=gettext_lazy("a grant over the whole organisation"))


def may_publish(user) -> bool:
    """What the public reads (services, help articles) is the organisation's: a configure grant over it all."""
    return organisation_wide(user, CONFIGURE)

def own_person(user) -> Person | None:
    """The person record linked to the login (kept for the request)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return per_request(("portal-person", user.pk), lambda: Person.objects.current().filter(
        user_id=user.pk, anonymised_at__isnull=True).first())


def require_person(user) -> Person:
    person = own_person(user)
    if person is None:
        raise Http404
    return person


def own_cases(user):
    """The cases about the user's own person that the subject may follow."""
    person = own_person(user)
    if person is None:
        return Case.objects.none()
    return Case.objects.filter(subjects=person, case_type__subject_can_see=True)


def may_log_in_by_link(user, address: str) -> bool:
    """Whether proving `address` (a login link, a request's confirmation) may log in as `user`: only a self-service
    login (no grant ever, not staff, no password of its own) and only at the address that login itself proved. A
    changed email on a person (by a rep's correction, say) is not the login's address, and a login with access to
    other people's data always needs its password."""
    return bool(user is not None and user.is_active and not user.is_staff and not user.is_superuser
                and not user.has_usable_password()
                and (user.email or "").strip().lower() == (address or "").strip().lower()
                and not Grant.objects.filter(user=user).exists())


def events_for(user, case) -> list:
    """The entries of a case's timeline meant for this login: the public ones, except what another person the case
    is about sent in (a reply, a file, a mail from another address) or was sent (a message to them). A case about
    two people shows each only their own side of the conversation."""
    person = own_person(user)
    email = (person.email if person else "").strip().lower()
    events = list(case.events.filter(public=True).select_related("actor").order_by("at", "pk"))
    sent_to_me = set(Message.objects.filter(case=case, person=person).values_list("pk", flat=True)) if person \
        else set()
    shown = []
    for event in events:
        sent_in = event.kind == CaseEvent.Kind.MESSAGE_IN or (
            event.kind == CaseEvent.Kind.DOCUMENT and event.data.get("from_subject"))
        if sent_in and event.actor_id is not None and event.actor_id != user.pk:
            continue
        if sent_in and event.actor_id is None and str(event.data.get("from") or "").strip().lower() != email:
            continue
        if event.kind == CaseEvent.Kind.MESSAGE_OUT and event.data.get("message") and \
                event.data["message"] not in sent_to_me:
            continue
        shown.append(event)
    return shown


def own_case(user, pk) -> Case:
    found = own_cases(user).select_related("state", "responsible_unit", "case_type").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found

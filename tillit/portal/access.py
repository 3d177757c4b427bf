"""The portal's one gate: what a logged-in member or citizen sees is their own record and the cases about them
whose case type lets the subject follow it, and nothing else. Every portal page and export reads through here."""

from django.http import Http404
from django.utils.translation import gettext_lazy

from tillit.cases.models import Case
from tillit.core.policy import declare
from tillit.core.scopes import CONFIGURE
from tillit.registry.models import Person

PUBLISH = declare("portal.publish", gettext_lazy("Publish the service catalogue and the public help articles"),
                  CONFIGURE, note=gettext_lazy("a grant over the whole organisation"))


def may_publish(user) -> bool:
    """What the public reads (services, help articles) is the organisation's: a configure grant over it all."""
    from tillit.dues.access import organisation_wide

    return organisation_wide(user, CONFIGURE)

_UNSET = object()


def own_person(user) -> Person | None:
    """The person record linked to the login (kept on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return None
    found = getattr(user, "_tillit_portal_person", _UNSET)  # getattr: request.user is a lazy proxy
    if found is _UNSET:
        found = user._tillit_portal_person = Person.objects.current().filter(user=user,
                                                                          anonymised_at__isnull=True).first()
    return found


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


def own_case(user, pk) -> Case:
    found = own_cases(user).select_related("state", "responsible_unit", "case_type").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found

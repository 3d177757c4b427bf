"""The person page's list of messages to a selection the person was among (with the text where the organisation
keeps it on the person page, TILLIT_MAILING_TEXT_ON_PERSON_PAGE)."""

from tillit.messaging.models import Recipient


def person_mailings(request, person):
    found = list(Recipient.objects.filter(person=person).select_related("mailing__template").order_by("-pk")[:10])
    if not found:
        return None
    return "messaging/_person_panel.html", {"received": found}

"""The portal's own rule, crawled: two members and a citizen, each with cases, a document and a booking; every
portal page, file and email of one shows nothing of the others, and the others' objects answer 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tillit.cases import services as case_services
from tillit.core.services import create_token
from tillit.messaging.models import Message
from tillit.portal import booking

pytestmark = pytest.mark.django_db
OWN_PAGES = ["portal_home", "portal_me", "portal_export", "portal_services", "portal_help"]


def test_no_member_or_citizen_sees_anothers_data_anywhere(client, portal, django_capture_on_commit_callbacks):
    people = [*portal.members_users, (portal.citizen, portal.citizen_person)]
    cases = {}
    with django_capture_on_commit_callbacks(execute=True):
        for user, person in people:
            case = case_services.open_case(portal.cat_type, title=f"Cat of {person.last_name}{person.pk}",
                                           actor=None, channel="system", subjects=[person])
            client.force_login(user)
            client.post(reverse("portal_case", args=[case.pk]), {
                "action": "reply", "body": f"Reply of {person.last_name}{person.pk}",
                "file": SimpleUploadedFile(f"file{person.pk}.txt", b"private", "text/plain")})
            case_services.transfer_case(case, portal.a.branch, actor=portal.a.staff, reason="to the branch")
            at = booking.slots(portal.talk)[len(cases)]["at"]
            booking.book(portal.talk, person=person, at=at, user=user, base_url="http://testserver/")
            cases[person.pk] = case
    secrets = {person.pk: [person.email, person.last_name + str(person.pk), cases[person.pk].number]
               for _user, person in people}
    for user, person in people:
        client.force_login(user)
        others = [s for pk, items in secrets.items() if pk != person.pk for s in items]
        pages = [reverse(name) for name in OWN_PAGES] + [reverse("portal_case", args=[cases[person.pk].pk])]
        pages += [reverse("portal_case", args=[b.case_id]) for b in portal.talk.bookings.filter(person=person)]
        own_files = [reverse("portal_file", args=[cases[person.pk].pk, d.pk]) for d in cases[person.pk].documents.all()]
        assert own_files
        for url in own_files:
            response = client.get(url)
            assert response.status_code == 200 and b"".join(response.streaming_content) == b"private"
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            assert not [s for s in others if s in body], url
        for pk, case in cases.items():
            if pk != person.pk:
                assert client.get(reverse("portal_case", args=[case.pk])).status_code == 404
                for d in case.documents.all():  # another's file: not through their case, nor through one's own
                    assert client.get(reverse("portal_file", args=[case.pk, d.pk])).status_code == 404
                    assert client.get(reverse("portal_file", args=[cases[person.pk].pk, d.pk])).status_code == 404
                for b in portal.talk.bookings.filter(person_id=pk):
                    assert client.post(reverse("portal_case", args=[cases[person.pk].pk]), {
                        "action": "cancel", "booking": b.pk}).status_code == 404
        _token, raw = create_token(user)
        for path in ("/api/v1/persons", "/api/v1/cases", "/api/v1/documents"):
            body = client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}").content.decode()
            assert not [s for s in others if s in body], path
        mails = " ".join(m.subject + m.body for m in Message.objects.filter(address=person.email))
        assert mails and not [s for s in others if s in mails]
    assert portal.talk.bookings.count() == 3

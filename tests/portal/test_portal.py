"""Self-service: a member's and a citizen's own Tillit, on the staff's own cases, people and documents; every
page shows only the logged-in person's own records."""

import datetime
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tillit.cases import services as case_services
from tillit.cases.models import Case, CaseEvent
from tillit.core.models import AuditEntry
from tillit.core.services import grant_access
from tillit.messaging.models import Message
from tillit.portal import booking, knowledge
from tillit.portal.models import Answer, Article, Consent, PendingRequest, Rating

pytestmark = pytest.mark.django_db


def _open_for(world, person, title="My question"):
    return case_services.open_case(world.cat_type, title=title, actor=None, channel="system", subjects=[person])


def _last_link(address, pattern):
    body = Message.objects.filter(address=address).latest("pk").body
    found = re.search(pattern + r"([\w\-]+)/", body)
    assert found, body
    return found.group(0)


def test_a_member_lands_on_their_portal_and_sees_only_their_own_cases(client, portal):
    (user, person), (_other_user, other) = portal.members_users
    mine, theirs = _open_for(portal, person, "Mine"), _open_for(portal, other, "Theirs")
    client.force_login(user)
    assert client.get("/").url == reverse("portal_home")
    home = client.get(reverse("portal_home")).content.decode()
    assert "Mine" in home and "Theirs" not in home
    assert client.get(reverse("portal_case", args=[mine.pk])).status_code == 200
    assert client.get(reverse("portal_case", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("portal_case", args=[theirs.pk]), {"action": "reply", "body": "x"}).status_code == 404
    assert client.get(reverse("person", args=[person.pk])).url == "/"  # their own record: self-service, not staff
    me = client.get(reverse("portal_me")).content.decode()
    assert person.email in me and other.email not in me
    # no staff page shows a member anyone else, and the API shows nothing
    for url in ("/people/", f"/people/{other.pk}/", "/cases/", f"/cases/{theirs.pk}/"):
        response = client.get(url)
        assert response.status_code in (200, 404) and other.email not in response.content.decode(), url
        assert "Theirs" not in response.content.decode(), url
    from tillit.core.services import create_token

    _token, raw = create_token(user)
    people = client.get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert [p["id"] for p in people["items"]] == [person.pk]  # their own record, no one else's


def test_the_public_timeline_only_and_moves_in_plain_words(client, portal, django_capture_on_commit_callbacks):
    user, person = portal.members_users[0]
    case = _open_for(portal, person)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.add_note(case, "Internal: check the file", actor=portal.a.staff)
        case_services.transfer_case(case, portal.a.branch, actor=portal.a.staff, reason="Internal reason")
    client.force_login(user)
    page = client.get(reverse("portal_case", args=[case.pk])).content.decode()
    assert "Internal" not in page and f"Moved to {portal.a.branch.name}" in page
    # the subject was told by email that something happened, with a link and without the content
    told = Message.objects.filter(address=person.email).latest("pk")
    assert case.number in told.subject and "Internal" not in told.body and "/portal/cases/" in told.body


def test_reply_with_a_file_lands_on_the_timeline_and_tells_the_handler(client, portal):
    user, person = portal.members_users[0]
    case = _open_for(portal, person)
    portal.a.staff.email = "handler@example.no"
    portal.a.staff.save()
    case_services.assign_case(case, portal.a.staff, actor=portal.a.staff)
    client.force_login(user)
    response = client.post(reverse("portal_case", args=[case.pk]), {
        "action": "reply", "body": "Here is the photo", "file": SimpleUploadedFile("cat.txt", b"a cat", "text/plain")})
    assert response.status_code == 302
    kinds = list(case.events.filter(public=True).values_list("kind", flat=True))
    assert CaseEvent.Kind.MESSAGE_IN in kinds and CaseEvent.Kind.DOCUMENT in kinds
    assert case.documents.count() == 1
    mine = case.documents.get()
    assert client.get(reverse("portal_file", args=[case.pk, mine.pk])).status_code == 200
    internal = factories.document(portal.a, content=b"staff only", cases=[case], persons=[person])
    assert client.get(reverse("portal_file", args=[case.pk, internal.pk])).status_code == 404
    from tillit.messaging.notifications import email_round

    assert email_round() == 1  # one email for the answer and its file, batched
    note = Message.objects.get(address="handler@example.no")
    assert case.number in note.body and "photo" not in note.body and case.title not in note.body
    events = case.events.count()
    empty = client.post(reverse("portal_case", args=[case.pk]), {"action": "reply", "body": " "})
    assert empty.status_code == 422 and case.events.count() == events


def test_a_closed_case_is_rated_once(client, portal):
    user, person = portal.members_users[0]
    case = _open_for(portal, person)
    client.force_login(user)
    early = client.post(reverse("portal_case", args=[case.pk]), {"action": "rate", "score": "5"})
    assert early.status_code == 422 and not Rating.objects.exists()
    case_services.transition_case(case, "start", actor=portal.a.staff)
    case_services.transition_case(case, "close", actor=portal.a.staff)
    assert client.post(reverse("portal_case", args=[case.pk]), {"action": "rate", "score": "9"}).status_code == 422
    assert client.post(reverse("portal_case", args=[case.pk]), {"action": "rate", "score": "4",
                                                                "comment": "Quick"}).status_code == 302
    again = client.post(reverse("portal_case", args=[case.pk]), {"action": "rate", "score": "1"})
    assert again.status_code == 409 and Rating.objects.get(case=case).score == 4


def test_contact_details_are_corrected_directly_and_audited_as_the_portal(client, portal):
    user, person = portal.members_users[0]
    client.force_login(user)
    data = {"action": "contact", "version": person.version, "email": person.email, "phone": "+47 912 34 567",
            "address_line": "Storgata 1", "postal_code": "0155", "city": "Oslo", "preferred_language": "nb"}
    assert client.post(reverse("portal_me"), data).status_code == 302
    person.refresh_from_db()
    assert person.phone == "+4791234567" and person.city == "Oslo"
    entry = AuditEntry.objects.filter(person_id=person.pk, action="registry.person.changed").latest("pk")
    assert entry.channel == "portal" and entry.actor == user
    stale = client.post(reverse("portal_me"), {**data, "city": "Bergen"})
    assert stale.status_code == 409
    person.refresh_from_db()
    assert person.city == "Oslo"
    bad = client.post(reverse("portal_me"), {**data, "version": person.version, "email": "not-an-address"})
    assert bad.status_code == 422 and "email" in bad.content.decode()


def test_consents_are_given_and_withdrawn_with_the_time(client, portal):
    user, person = portal.members_users[0]
    client.force_login(user)
    client.post(reverse("portal_me"), {"action": "consents", "newsletter": "on"})
    client.post(reverse("portal_me"), {"action": "consents"})
    assert list(Consent.objects.filter(person=person).order_by("at", "pk").values_list("kind", "given")) == [
        ("newsletter", True), ("newsletter", False)]


def test_download_my_data_is_complete_own_and_audited(client, portal):
    user, person = portal.members_users[0]
    other = portal.members_users[1][1]
    case = _open_for(portal, person, "My cat")
    case_services.add_note(case, "Internal working note", actor=portal.a.staff)
    _open_for(portal, other, "Their cat")
    client.force_login(user)
    response = client.get(reverse("portal_export"))
    data = json.loads(response.content)
    assert data["person"]["email"] == person.email and data["memberships"]
    assert [c["title"] for c in data["cases"]] == ["My cat"]
    text = response.content.decode()
    assert other.email not in text and "Their cat" not in text and "Internal working note" not in text
    assert AuditEntry.objects.filter(action="portal.data_exported", person_id=person.pk, actor=user).exists()


def test_a_citizen_without_an_account_sends_a_request_after_confirming_the_email(client, portal):
    url = reverse("portal_service", args=[portal.cat.pk])
    missing = client.post(url, {"f_title": "Cat", "name": "Ola", "email": "ola@example.no"})
    assert missing.status_code == 422 and "f_where" in missing.content.decode() and not PendingRequest.objects.exists()
    assert client.post(url, {"f_title": "Cat in the stairs", "f_where": "Storgata 2", "f_collar": "yes",
                             "name": "Ola Finner", "email": "Ola@Example.no"}).status_code == 200
    assert not Case.objects.filter(title="Cat in the stairs").exists()  # nothing opens before the email is confirmed
    link = _last_link("ola@example.no", r"/services/confirm/")
    assert client.get(link).status_code == 200
    done = client.post(link)
    case = Case.objects.get(title="Cat in the stairs")
    assert done.url == reverse("portal_case", args=[case.pk])
    assert {a.key: a.value for a in Answer.objects.filter(case=case)}["where"] == "Storgata 2"
    person = case.subjects.get()
    assert person.email == "ola@example.no" and not person.memberships.exists() and person.user_id
    receipt = Message.objects.filter(address="ola@example.no", subject__contains=case.number).get()
    assert "/portal/cases/" in receipt.body
    assert client.post(link).status_code == 404  # once
    # the same address again finds the same person, never a second one
    client.logout()
    client.post(url, {"f_title": "Another cat", "f_where": "Parken", "name": "Ola F.", "email": "ola@example.no"})
    client.post(_last_link("ola@example.no", r"/services/confirm/"))
    assert Case.objects.get(title="Another cat").subjects.get() == person


def test_a_login_link_answers_alike_works_once_and_is_rate_limited(client, portal, empty_cache):
    user, person = portal.members_users[0]
    known = client.post(reverse("portal_login_link"), {"email": person.email})
    unknown = client.post(reverse("portal_login_link"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    def plain(response, address):
        return re.sub(r'value="[^"]*"', "", response.content.decode().replace(address, "X"))

    assert plain(known, person.email) == plain(unknown, "nobody@example.org")
    link = _last_link(person.email, r"/login/link/")
    assert client.get(link).status_code == 200 and "_auth_user_id" not in client.session  # a GET logs no one in
    assert client.post(link).status_code == 302 and int(client.session["_auth_user_id"]) == user.pk
    client.logout()
    assert client.post(link).status_code == 404
    before = Message.objects.filter(address=person.email).count()
    for _ in range(5):
        client.post(reverse("portal_login_link"), {"email": person.email})
    assert Message.objects.filter(address=person.email).count() - before == 2  # three an hour per address
    assert client.post(reverse("portal_login_link"), {"email": "@@"}).status_code == 422


def test_a_member_books_a_time_no_more_than_its_capacity(client, portal):
    (user, person), (other_user, other) = portal.members_users
    free = booking.slots(portal.talk)
    assert free and all(s["at"].weekday() < 5 for s in free)
    at = free[0]["at"]
    client.force_login(user)
    response = client.post(reverse("portal_service", args=[portal.talk.pk]), {"slot": at.isoformat()})
    made = portal.talk.bookings.get()
    assert response.url == reverse("portal_case", args=[made.case_id])
    assert made.case.due_on == at.date() and made.case.responsible_unit == portal.a.branch
    mail = Message.objects.filter(address=person.email, attachments__filename="booking.ics").latest("pk")
    assert at.astimezone(timezone.get_current_timezone()).strftime("%H:%M") in mail.subject
    booking.book(portal.talk, person=other, at=at, user=other_user, base_url="http://t/")
    from tillit.core.errors import ConflictError

    with pytest.raises(ConflictError):
        booking.book(portal.talk, person=portal.citizen_person, at=at, user=portal.citizen, base_url="http://t/")
    # moved, then cancelled: the place is free again
    later = free[1]["at"]
    client.post(reverse("portal_case", args=[made.case_id]), {"action": "move", "booking": made.pk,
                                                              "slot": later.isoformat()})
    made.refresh_from_db()
    assert made.starts_at == later
    client.post(reverse("portal_case", args=[made.case_id]), {"action": "cancel", "booking": made.pk})
    assert next(s for s in booking.slots(portal.talk) if s["at"] == later)["left"] == 2
    bad = client.post(reverse("portal_service", args=[portal.talk.pk]), {"slot": "2020-01-01T03:00"})
    assert bad.status_code == 422


def test_articles_are_suggested_while_typing_and_a_deflection_is_counted(client, portal):
    article = Article.objects.create(title="What happens to a found cat?", body="The shelter takes it.",
                                     language="en", state=Article.State.PUBLISHED)
    knowledge.index(article)
    draft = Article.objects.create(title="Cat secrets", body="draft", language="en")
    knowledge.index(draft)
    assert knowledge.search("found ca", "en") == [article]
    fragment = client.get(reverse("portal_suggest", args=[portal.cat.pk]) + "?q=happens to a cat")
    shown = fragment.content.decode()
    assert "What happens to a found cat?" in shown and "Cat secrets" not in shown
    client.post(reverse("portal_article", args=[article.pk]), {"service": portal.cat.pk})
    article.refresh_from_db()
    assert article.helped == 1
    client.force_login(portal.a.staff)
    measured = client.get(reverse("case_measure") + f"?unit={portal.a.region.pk}")
    assert measured.context["panels"][0][1]["deflected"] == 1


def test_a_members_only_service_is_not_offered_to_the_public(client, portal):
    assert client.get(reverse("portal_service", args=[portal.talk.pk])).status_code == 404
    catalogue = client.get(reverse("portal_services")).content.decode()
    assert "Report a found cat" in catalogue and "Book a talk" not in catalogue


def test_the_system_owner_configures_a_service_and_its_form(client, portal):
    client.force_login(portal.admin)
    url = reverse("portal_manage_service", args=[portal.talk_type.pk])
    page = client.get(url)
    version = page.context["service"].version
    assert client.post(url, {"action": "add_field", "key": "topic", "kind": "choice", "label_en": "Topic",
                             "choices": "pay | Lønn | Lön | Pay\nother"}).status_code == 302
    field = portal.talk.fields.get(key="topic")
    assert field.choices[0] == {"value": "pay", "labels": {"nb": "Lønn", "sv": "Lön", "en": "Pay"}}
    bad = client.post(url, {"action": "add_field", "key": "topic", "kind": "nope"})
    assert bad.status_code == 422 and "kind" in bad.content.decode()
    saved = client.post(url, {"action": "save", "version": version, "title_en": "Talk to us", "audience": "members",
                              "active": "on", "bookable": "on", "opens": "10:00", "closes": "09:00"})
    assert saved.status_code == 422 and "closes" in saved.content.decode()
    client.force_login(portal.a.staff)
    assert client.get(url).status_code == 404


def test_a_request_after_logging_in_opens_at_once_with_files(client, portal):
    user, person = portal.members_users[0]
    client.force_login(user)
    response = client.post(reverse("portal_service", args=[portal.cat.pk]), {
        "f_title": "Black cat", "f_where": "Garden", "f_photo": SimpleUploadedFile("cat.txt", b"meow", "text/plain")})
    case = Case.objects.get(title="Black cat")
    assert response.url == reverse("portal_case", args=[case.pk]) and case.documents.count() == 1
    assert case.subjects.get() == person and case.responsible_unit == portal.a.region
    assert datetime.date.today() <= case.due_on


def test_a_handler_sends_a_help_article_from_the_case_page(client, portal):
    user, person = portal.members_users[0]
    case = _open_for(portal, person)
    article = Article.objects.create(title="Found cats", body="What we do.", language="en",
                                     state=Article.State.PUBLISHED)
    client.force_login(portal.a.staff)
    page = client.get(reverse("case", args=[case.pk]))
    option = re.search(r'<option value="([^"]+)">Found cats', page.content.decode()).group(1)
    client.post(reverse("case_message", args=[case.pk]), {"subject": case.title, "body": option})
    sent = Message.objects.filter(case=case).latest("pk")
    assert sent.address == person.email and f"/help/{article.pk}/" in sent.body
    # a staff document shown to the person becomes downloadable on their case
    letter = factories.document(portal.a, content=b"Our answer", cases=[case], persons=[person])
    section = client.get(reverse("case", args=[case.pk])).content.decode().split('id="for-person-h"')[1]
    assert re.search(rf'<td>{letter.title}</td><td><form[^>]*>.*?value="{letter.pk}"><button>', section)
    client.post(reverse("portal_share_document", args=[case.pk]), {"document": letter.pk})
    assert case.events.filter(kind="document", public=True, data__document=letter.pk).count() == 1
    section = client.get(reverse("case", args=[case.pk])).content.decode().split('id="for-person-h"')[1]
    assert f"<td>{letter.title}</td><td>shown</td>" in section
    client.post(reverse("portal_share_document", args=[case.pk]), {"document": letter.pk})  # once only
    assert case.events.filter(kind="document", public=True, data__document=letter.pk).count() == 1
    client.force_login(user)
    got = client.get(reverse("portal_file", args=[case.pk, letter.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"Our answer"
    client.force_login(portal.b.staff)
    assert client.post(reverse("portal_share_document", args=[case.pk]), {"document": letter.pk}).status_code == 404
    viewer = factories.user("viewer_alfa")
    grant_access(viewer, "viewer", "org", portal.a.region, actor=None, channel="system")
    client.force_login(viewer)
    assert "Send a help article" not in client.get(reverse("case", args=[case.pk])).content.decode()


def test_odd_numbers_in_addresses_and_forms_are_refused_not_errors(client, portal):
    user, person = portal.members_users[0]
    case = _open_for(portal, person)
    client.force_login(user)
    huge = "9" * 30
    assert client.get(f"/portal/cases/{case.pk}/files/{huge}/").status_code == 404
    assert client.post(reverse("portal_case", args=[case.pk]), {"action": "move", "booking": huge}).status_code == 404
    client.force_login(portal.admin)
    url = reverse("portal_manage_service", args=[portal.talk_type.pk])
    stale = client.post(url, {"action": "save", "version": huge, "title_en": "Talk", "audience": "members"})
    assert stale.status_code == 409


def test_a_booking_is_reminded_once_and_its_deadline_is_audited(portal):
    import datetime as dt

    import time_machine

    from tillit.portal.models import Booking

    user, person = portal.members_users[0]
    at = booking.slots(portal.talk)[0]["at"]
    made = booking.book(portal.talk, person=person, at=at, user=user, base_url="http://t/")
    assert AuditEntry.objects.filter(action__endswith="deadline_changed", object_id=made.case_id).exists()
    with time_machine.travel(at - dt.timedelta(hours=3), tick=False):
        assert booking.remind() == 1
        assert booking.remind() == 0
    reminder = Message.objects.filter(address=person.email, attachments__filename="booking.ics").latest("pk")
    assert reminder.pk and Booking.objects.get(pk=made.pk).reminded_at is not None


def test_a_login_link_expires(client, portal, empty_cache):
    import datetime as dt

    import time_machine

    user, person = portal.members_users[0]
    client.post(reverse("portal_login_link"), {"email": person.email})
    link = _last_link(person.email, r"/login/link/")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert client.post(link).status_code == 404
    assert "_auth_user_id" not in client.session


def test_a_change_the_member_cannot_make_goes_to_member_service_as_a_case(client, portal):
    factories.case_type(portal.a.region, name="Intake", is_intake=True)
    user, person = portal.members_users[0]
    client.force_login(user)
    missing = client.post(reverse("portal_me"), {"action": "change", "what": "workplace", "text": ""})
    assert missing.status_code == 422
    response = client.post(reverse("portal_me"), {"action": "change", "what": "workplace",
                                                  "text": "I work at the new branch since May."})
    case = Case.objects.get(subjects=person, title__contains="Workplace")
    assert response.url == reverse("portal_case", args=[case.pk])
    assert AuditEntry.objects.filter(action="portal.change_requested", person_id=person.pk, channel="portal").exists()


def test_links_in_mail_point_to_the_configured_site_whatever_host_the_request_names(client, portal, settings,
                                                                                   empty_cache):
    """A forged Host (any port on an allowed name) must not put another server into a login link, a request's
    confirmation or a reply's notice: every link in mail starts with TILLIT_PUBLIC_URL."""
    settings.TILLIT_PUBLIC_URL = "https://tillit.example.org"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    _user, person = portal.members_users[0]
    client.post(reverse("portal_login_link"), {"email": person.email}, HTTP_HOST="localhost:6666")
    client.post(reverse("portal_service", args=[portal.cat.pk]), {
        "f_title": "Cat", "f_where": "Parken", "name": "Ola F.", "email": "ola.forged@example.no"},
        HTTP_HOST="localhost:6666")
    sent = [m for m in Message.objects.filter(address__in=[person.email, "ola.forged@example.no"])]
    assert len(sent) == 2
    for message in sent:
        links = re.findall(r"https?://[^\s]+", message.body)
        assert links and all(link.startswith("https://tillit.example.org/") for link in links), message.body


def test_an_answer_moves_a_case_out_of_waiting_by_portal_and_by_email(client, portal, settings):
    from tillit.cases.models import Case
    from tillit.messaging.inbound import ingest_email

    user, person = portal.members_users[0]
    for how in ("portal", "email"):
        case = _open_for(portal, person)
        for code in ("start", "wait"):
            case = case_services.transition_case(case, code, actor=portal.a.staff)
        assert case.state.category == "waiting"
        if how == "portal":
            client.force_login(user)
            client.post(reverse("portal_case", args=[case.pk]), {"action": "reply", "body": "Here it is"})
        else:
            ingest_email(f"From: {person.email}\r\nTo: {settings.DEFAULT_FROM_EMAIL}\r\nSubject: Re: [{case.number}]"
                         f" question\r\n\r\nHere it is\r\n".encode())
        case = Case.objects.get(pk=case.pk)
        assert case.state.code == "open", how
        moved = case.events.filter(kind="state").latest("pk")
        assert moved.actor is None and moved.data["transition"] == "resume"
    # A case that is not waiting stays where it is.
    case = case_services.transition_case(_open_for(portal, person), "start", actor=portal.a.staff)
    client.post(reverse("portal_case", args=[case.pk]), {"action": "reply", "body": "More"})
    assert Case.objects.get(pk=case.pk).state.code == "open"

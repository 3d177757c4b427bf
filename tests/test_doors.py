"""Doors found open from outside, each with an insider and an outsider: links to people stay inside the reader's
scope, and members see only what was shown to them."""

import pytest
from django.urls import reverse

from tests import factories
from tillit.core.services import create_token
from tillit.documents.models import Document

pytestmark = pytest.mark.django_db


def test_a_document_names_only_the_people_its_reader_may_see(client, world):
    mine, theirs = world.a.members[1][0], world.b.members[1][0]
    doc = factories.document(world.a, persons=[mine, theirs])
    client.force_login(world.a.staff)
    page = client.get(reverse("document", args=[doc.pk])).content.decode()
    assert mine.last_name in page and reverse("person", args=[mine.pk]) in page
    assert theirs.first_name not in page and reverse("person", args=[theirs.pk]) not in page
    _token, raw = create_token(world.a.staff, "t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(f"/api/v1/documents/{doc.pk}", **auth).json()["person_ids"] == [mine.pk]
    listed = client.get("/api/v1/documents", **auth).json()["items"]
    assert [d["person_ids"] for d in listed if d["id"] == doc.pk] == [[mine.pk]]
    _token, raw = create_token(world.admin, "t")  # the system owner sees both
    assert sorted(client.get(f"/api/v1/documents/{doc.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}").json()[
        "person_ids"]) == sorted([mine.pk, theirs.pk])


def test_a_member_opens_no_internal_document_about_them_and_no_staff_page(client, portal):
    (user, person), (_other_user, other) = portal.members_users
    doc = factories.document(portal.a, persons=[person, other])
    client.force_login(user)
    assert client.get(reverse("document", args=[doc.pk])).status_code == 404
    assert client.get(reverse("document_download", args=[doc.pk])).status_code == 404
    assert client.get(reverse("person_history", args=[person.pk])).status_code == 404
    response = client.get(reverse("person", args=[person.pk]))
    assert response.status_code == 302 and not response.url.startswith("/people/")
    assert not Document.objects.visible_to(user).exists()
    client.force_login(portal.a.staff)  # member service sees it
    assert client.get(reverse("document", args=[doc.pk])).status_code == 200


def test_on_a_case_about_two_people_each_sees_only_their_own_side(client, portal):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tillit.cases import services as case_services
    from tillit.portal.services import reply

    (user, person), (other_user, other) = portal.members_users
    case = case_services.open_case(portal.cat_type, title="Shared matter", actor=None, channel="system",
                                   subjects=[person, other])
    reply(case, person=person, user=user, body="Mine: my salary is 512000")
    reply(case, person=other, user=other_user, body="Theirs: my diagnosis",
          upload=SimpleUploadedFile("theirs.txt", b"private"))
    case_services.add_note(case, "To both of you: we meet on Monday", actor=portal.a.staff, public=True)
    theirs_file = Document.objects.get(title__icontains="theirs")
    client.force_login(user)
    page = client.get(reverse("portal_case", args=[case.pk])).content.decode()
    assert "Mine: my salary" in page and "we meet on Monday" in page
    assert "Theirs: my diagnosis" not in page and "theirs.txt" not in page
    assert client.get(reverse("portal_file", args=[case.pk, theirs_file.pk])).status_code == 404
    data = client.get(reverse("portal_export")).content.decode()
    assert "Mine: my salary" in data and "Theirs: my diagnosis" not in data and "theirs" not in data
    client.force_login(other_user)  # the other side sees its own
    page = client.get(reverse("portal_case", args=[case.pk])).content.decode()
    assert "Theirs: my diagnosis" in page and "Mine: my salary" not in page
    assert client.get(reverse("portal_file", args=[case.pk, theirs_file.pk])).status_code == 200


def test_an_email_change_and_a_login_link_take_over_no_one(client, portal):
    """A login link (or a request's confirmation) opens only a self-service login, and only at the address that
    login proved: not a rep's login, not a member's login whose email someone else changed."""
    import re

    from tillit.messaging.models import Message
    from tillit.portal.models import LoginLink
    from tillit.registry.services import update_person

    user, person = portal.members_users[0]
    client.post(reverse("portal_login_link"), {"email": person.email})  # the insider: their own address
    assert LoginLink.objects.filter(user=user).count() == 1
    # member service changes the member's email to one an attacker reads: no link goes there
    update_person(person, {"email": "attacker@example.org"}, actor=portal.a.staff)
    client.post(reverse("portal_login_link"), {"email": "attacker@example.org"})
    assert LoginLink.objects.filter(user=user).count() == 1
    rep, rep_person = portal.a.rep, portal.a.rep_person  # a login with access to members' data
    rep.email = rep_person.email
    rep.save(update_fields=["email"])
    client.post(reverse("portal_login_link"), {"email": rep_person.email})
    assert not LoginLink.objects.filter(user=rep).exists()
    notice = Message.objects.filter(address=rep_person.email).latest("pk")
    assert "password" in notice.body and not re.search(r"https?://", notice.body)
    # a service request confirmed at the rep's address opens the case but logs no one in
    client.post(reverse("portal_service", args=[portal.cat.pk]), {
        "f_title": "Cat", "f_where": "Parken", "name": "Rep", "email": rep_person.email})
    link = re.search(r"/services/confirm/[\w\-]+/", Message.objects.filter(address=rep_person.email).latest(
        "pk").body).group(0)
    response = client.post(link)
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_every_person_a_list_shows_is_in_the_access_log(client, world):
    """The reps' list of reps, the reps' deduction notices and member service's deviation queue each log every
    person shown (they logged one entry with no person, or none)."""
    import datetime

    from tillit.core.models import AccessLogEntry
    from tillit.dues.models import Deviation
    from tillit.registry.services import assign_role

    factories.dues_month(world)
    colleague = world.a.members[1][0]
    assign_role(colleague, factories.role_type(), world.a.workplace, starts_on=datetime.date(2024, 1, 1), actor=None)
    client.force_login(world.a.rep)
    assert client.get(reverse("reps_reps")).status_code == 200
    listed = set(AccessLogEntry.objects.filter(user=world.a.rep, action="reps.reps.listed").values_list(
        "person_id", flat=True))
    assert listed == {colleague.pk}  # their own record is not a view of someone else
    assert client.get(reverse("reps_notices")).status_code == 200
    on_notice = set(AccessLogEntry.objects.filter(user=world.a.rep, action="reps.notices.viewed").values_list(
        "person_id", flat=True))
    assert world.a.members[1][0].pk in on_notice and not on_notice & {p.pk for p, _m in world.b.members}
    client.force_login(world.a.staff)
    assert client.get(reverse("dues_deviations")).status_code == 200
    deviation = Deviation.objects.get(payroll_unit=world.a.company)
    assert AccessLogEntry.objects.filter(user=world.a.staff, action="dues.deviation.listed",
                                         person_id=deviation.person_id).exists()
    client.force_login(world.b.rep)  # another rep's list: A's rep is a person shown to B's rep only if in B's sight
    client.get(reverse("reps_reps"))
    assert not AccessLogEntry.objects.filter(user=world.b.rep, person_id=world.a.rep_person.pk).exists()


def test_the_same_service_request_sent_twice_makes_one_case(client, portal):
    from tillit.cases.models import Case
    from tillit.messaging.models import Message
    from tillit.portal.models import PendingRequest

    user, person = portal.members_users[0]
    url = reverse("portal_service", args=[portal.cat.pk])
    client.force_login(user)
    once = client.get(url).context["once"]
    data = {"f_title": "Cat twice", "f_where": "Parken", "once": once}
    first, second = client.post(url, data), client.post(url, data)
    assert Case.objects.filter(title__contains="Cat twice").count() == 1
    assert first.status_code == second.status_code == 302 and first.url == second.url
    client.logout()
    once = client.get(url).context["once"]
    data = {"f_title": "Cat anon", "f_where": "Parken", "name": "Ola", "email": "ola.twice@example.no",
            "once": once}
    assert client.post(url, data).status_code == client.post(url, data).status_code == 200
    assert PendingRequest.objects.filter(email="ola.twice@example.no").count() == 1
    assert Message.objects.filter(address="ola.twice@example.no").count() == 1
    # a form refused for its content keeps its token: corrected, it is taken once
    once = client.get(url).context["once"]
    bad = client.post(url, {**data, "once": once, "email": "not an address"})
    assert bad.status_code == 422 and bad.context["once"] == once
    client.post(url, {**data, "once": once, "email": "ola.fixed@example.no"})
    assert PendingRequest.objects.filter(email="ola.fixed@example.no").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_of_one_new_address_at_once_make_one_person(portal):
    """Check, then create, without a lock made two people and two logins on PostgreSQL."""
    import threading

    from django.db import connection

    from tillit.portal import services
    from tillit.registry.models import Person

    tokens = []
    for _ in range(2):
        services.submit_anonymous(portal.cat, name="Nye Person", email="nye@example.no", answers=[],
                                  language="en", base_url="http://testserver/")
    import re

    from tillit.messaging.models import Message

    for body in Message.objects.filter(address="nye@example.no").values_list("body", flat=True):
        tokens.append(re.search(r"/services/confirm/([\w\-]+)/", body).group(1))
    barrier, errors = threading.Barrier(2), []

    def run(token):
        try:
            barrier.wait()
            services.confirm(token, base_url="http://testserver/")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Person.objects.filter(email="nye@example.no").count() == 1


def test_anonymous_requests_are_limited_per_address_and_per_client(client, portal, empty_cache):
    """25 posts with one email in 6 s stored 25 requests and queued 25 confirmation mails."""
    from tillit.portal.models import PendingRequest
    from tillit.portal.services import REQUESTS_PER_ADDRESS, REQUESTS_PER_CLIENT

    url = reverse("portal_service", args=[portal.cat.pk])
    data = {"f_title": "Cat", "f_where": "Parken", "name": "Ola", "email": "flood@example.no"}
    codes = [client.post(url, data, REMOTE_ADDR="192.0.2.1").status_code for _ in range(REQUESTS_PER_ADDRESS + 2)]
    assert codes == [200] * REQUESTS_PER_ADDRESS + [429, 429]
    assert PendingRequest.objects.filter(email="flood@example.no").count() == REQUESTS_PER_ADDRESS
    for i in range(REQUESTS_PER_CLIENT + 1):
        last = client.post(url, {**data, "email": f"flood{i}@example.no"}, REMOTE_ADDR="192.0.2.2")
    assert last.status_code == 429 and "Too many requests" in last.content.decode()
    assert client.post(url, {**data, "email": "other@example.no"}, REMOTE_ADDR="192.0.2.3").status_code == 200

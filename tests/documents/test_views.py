"""The staff pages for documents, and their place on the person page and the case page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tillit.core.services import grant_access
from tillit.documents import services
from tillit.documents.models import Document, ShareLink

pytestmark = pytest.mark.django_db


def test_the_person_page_and_the_case_page_list_their_documents(client, world):
    person = world.a.members[1][0]
    case = factories.case(world.a, subjects=[person])
    doc = factories.document(world.a, title="Lønnsslipp mars", persons=[person], cases=[case])
    client.force_login(world.a.staff)
    for url in (reverse("person", args=[person.pk]), reverse("case", args=[case.pk])):
        body = client.get(url).content.decode()
        assert "Lønnsslipp mars" in body and reverse("document", args=[doc.pk]) in body
    assert 'class="event document' in client.get(reverse("case", args=[case.pk])).content.decode()  # on the timeline


def test_a_new_document_starts_linked_to_where_it_was_added_from(client, world):
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    response = client.post(reverse("document_new") + f"?case={case.pk}", {
        "file": SimpleUploadedFile("Referat.md", "# Referat\n\nMøte med leder".encode()), "title": "",
        "unit": world.a.branch.pk, "case": case.pk})
    doc = Document.objects.get()
    assert response.url == reverse("document", args=[doc.pk])
    assert doc.title == "Referat" and list(doc.cases.all()) == [case] and doc.current.media_type == "text/markdown"


def test_a_refused_upload_shows_the_reason_beside_the_field(client, world, settings):
    client.force_login(world.a.staff)
    response = client.post(reverse("document_new"), {"file": SimpleUploadedFile("tom.pdf", b"x"),
                                                     "unit": world.a.branch.pk})
    assert response.status_code == 200
    assert "its content is" in str(response.context["form"].errors["file"])
    settings.TILLIT_DOCUMENT_MAX_BYTES = 10
    response = client.post(reverse("document_new"), {"file": SimpleUploadedFile("big.txt", b"x" * 100_000),
                                                     "unit": world.a.branch.pk}, follow=True)
    assert "larger than the limit of 10" in response.content.decode()
    assert not Document.objects.exists()


def test_the_lock_is_shown_to_others_and_a_unit_administrator_can_break_it(client, world):
    doc = factories.document(world.a)
    services.check_out(doc, actor=world.a.staff)
    colleague = factories.user()
    grant_access(colleague, "case_handler", "org", world.a.region, actor=None, channel="system")
    client.force_login(colleague)
    body = client.get(reverse("document", args=[doc.pk])).content.decode()
    assert f"Checked out by {world.a.staff.username}" in body and 'name="release"' not in body
    client.post(reverse("document_release", args=[doc.pk]))
    doc.refresh_from_db()
    assert doc.checked_out_by == world.a.staff
    lead = factories.user()
    grant_access(lead, "local_admin", "org", world.a.region, actor=None, channel="system")
    client.force_login(lead)
    assert 'name="release"' in client.get(reverse("document", args=[doc.pk])).content.decode()
    response = client.post(reverse("document_release", args=[doc.pk]), {"reason": "Sick leave"}, follow=True)
    assert "The check-out is released." in response.content.decode()
    doc.refresh_from_db()
    assert doc.checked_out_by is None


def test_editing_with_a_stale_form_is_refused(client, world):
    doc = factories.document(world.a)
    client.force_login(world.a.staff)
    client.post(reverse("document_edit", args=[doc.pk]), {"title": "First", "version": doc.version})
    response = client.post(reverse("document_edit", args=[doc.pk]), {"title": "Second", "version": doc.version},
                           follow=True)
    assert "Someone else changed this record meanwhile" in response.content.decode()
    doc.refresh_from_db()
    assert doc.title == "First"


def test_a_share_link_is_shown_once_and_can_be_revoked(client, world, settings):
    settings.TILLIT_PUBLIC_URL = "https://tillit.example.org"  # the address people outside reach, whatever the Host
    doc = factories.document(world.a)
    client.force_login(world.a.staff)
    page = client.post(reverse("document_share", args=[doc.pk]), {"max_downloads": "3", "note": "Advokat"},
                       follow=True).content.decode()
    link = ShareLink.objects.get()
    assert "https://tillit.example.org/shared/" in page and link.prefix in page and "testserver/shared" not in page
    assert "/shared/" not in client.get(reverse("document", args=[doc.pk])).content.decode()
    client.post(reverse("document_share_revoke", args=[doc.pk, link.pk]))
    link.refresh_from_db()
    assert link.state() == "revoked"


def test_links_are_added_by_member_number_or_case_number_and_removed(client, world):
    doc = factories.document(world.a)
    person, membership = world.a.members[2]
    case = factories.case(world.a)
    client.force_login(world.a.staff)
    client.post(reverse("document_link", args=[doc.pk]), {"kind": "person", "ref": membership.member_number})
    client.post(reverse("document_link", args=[doc.pk]), {"kind": "case", "ref": case.number})
    assert list(doc.persons.all()) == [person] and list(doc.cases.all()) == [case]
    missing = client.post(reverse("document_link", args=[doc.pk]), {"kind": "case", "ref": "1999/00001"}, follow=True)
    assert "Nothing found for “1999/00001”" in missing.content.decode()
    client.post(reverse("document_unlink", args=[doc.pk]), {"kind": "person", "id": person.pk})
    assert not doc.persons.exists()


def test_an_employers_page_and_a_units_page_list_their_documents(client, world):
    agreement = factories.document(world.a, title="Særavtale Verksted", employers=[world.a.workplace])
    client.force_login(world.a.staff)
    body = client.get(reverse("employer", args=[world.a.workplace.pk])).content.decode()
    assert "Særavtale Verksted" in body and f"?employer={world.a.workplace.pk}" in body
    assert "Særavtale Verksted" in client.get(reverse("org_unit", args=[world.a.branch.pk])).content.decode()
    client.force_login(world.b.staff)
    assert client.get(reverse("employer", args=[world.a.workplace.pk])).status_code == 404
    assert agreement.title not in client.get(reverse("employers")).content.decode()


def test_member_service_adds_a_document_for_a_member_and_a_rep_does_not(client, world):
    """Filing documents on a member is member service's work; a rep's rights on a member are corrections only."""
    member = world.a.members[2][0]  # employed at the rep's workplace
    client.force_login(world.a.rep)
    page = client.get(reverse("person", args=[member.pk])).content.decode()
    assert f"{reverse('document_new')}?person={member.pk}" not in page
    assert client.get(reverse("document_new") + f"?person={member.pk}").status_code == 404
    client.post(reverse("document_new") + f"?person={member.pk}", {
        "file": SimpleUploadedFile("Referat.txt", b"Samtale med leder"), "unit": world.a.branch.pk,
        "person": member.pk})
    assert not Document.objects.exists()
    client.force_login(world.a.staff)
    assert f"{reverse('document_new')}?person={member.pk}" in client.get(reverse("person", args=[member.pk])
                                                                          ).content.decode()
    client.post(reverse("document_new") + f"?person={member.pk}", {
        "file": SimpleUploadedFile("Referat.txt", b"Samtale med leder"), "unit": world.a.branch.pk,
        "person": member.pk})
    doc = Document.objects.get()
    assert doc.responsible_unit == world.a.branch and list(doc.persons.all()) == [member]
    outsider = world.b.members[2][0]
    assert client.get(reverse("document_new") + f"?person={outsider.pk}").status_code == 404


def test_an_over_size_new_version_is_refused_before_it_is_read(client, world, settings):
    doc = factories.document(world.a)
    settings.TILLIT_DOCUMENT_MAX_BYTES = 10
    client.force_login(world.a.staff)
    page = client.post(reverse("document_upload", args=[doc.pk]), {
        "file": SimpleUploadedFile("n.txt", b"x" * 100_000), "base_version": 1}, follow=True).content.decode()
    assert "larger than the limit of 10" in page and doc.versions.count() == 1

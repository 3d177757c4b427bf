"""Versions, check-out/check-in, force release, links, scope and downloads."""

import datetime
import hashlib

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests import factories
from tillit.core.errors import ConflictError, DomainError
from tillit.core.models import AccessLogEntry, AuditEntry
from tillit.core.services import grant_access
from tillit.documents import services
from tillit.documents.models import Document, ShareDownload

pytestmark = pytest.mark.django_db


def _file(text: str):
    return ContentFile(text.encode())


def test_every_upload_is_a_new_immutable_version(world):
    doc = factories.document(world.a, content=b"first", actor=world.a.staff)
    v2 = services.add_version(doc, file=_file("second"), filename="notes.txt", actor=world.a.staff, base_version=1,
                              comment="Fixed a typo")
    doc.refresh_from_db()
    assert doc.current == v2 and v2.number == 2 and v2.comment == "Fixed a typo"
    assert [v.number for v in doc.versions.all()] == [2, 1]
    first = doc.versions.get(number=1)
    assert first.sha256 == hashlib.sha256(b"first").hexdigest() and first.size == 5
    assert first.media_type == "text/plain" and first.author == v2.author == world.a.staff
    assert AuditEntry.objects.filter(action="documents.document.version", object_id=doc.pk).exists()


def test_a_version_made_from_an_old_one_is_refused(world):
    from tillit.core.services import grant_access

    doc = factories.document(world.a, content=b"first")
    colleague = factories.user()
    grant_access(colleague, "case_handler", "org", world.a.region, actor=None)
    services.add_version(doc, file=_file("second"), filename="n.txt", actor=world.a.staff, base_version=1)
    with pytest.raises(ConflictError) as refused:
        services.add_version(doc, file=_file("third"), filename="n.txt", actor=colleague, base_version=1)
    assert "Version 1 is no longer the latest" in refused.value.message
    assert "version 2" in refused.value.message
    assert doc.versions.count() == 2


def test_check_out_locks_the_document_for_one_user(world):
    other = factories.user()
    grant_access(other, "case_handler", "org", world.a.region, actor=None, channel="system")
    doc = factories.document(world.a, content=b"draft")
    services.check_out(doc, actor=world.a.staff)
    doc.refresh_from_db()
    assert doc.checked_out_by == world.a.staff and doc.checked_out_at is not None
    with pytest.raises(ConflictError, match="has already checked this document out"):
        services.check_out(doc, actor=other)
    with pytest.raises(ConflictError, match="only they can add a new version"):
        services.add_version(doc, file=_file("mine"), filename="n.txt", actor=other, base_version=1)
    with pytest.raises(DomainError, match="Only the person who checked the document out"):
        services.check_in(doc, actor=other)
    services.check_in(doc, actor=world.a.staff, file=_file("final"), filename="final.txt", base_version=1,
                      comment="Ready")
    doc.refresh_from_db()
    assert doc.checked_out_by is None and doc.current.number == 2 and doc.current.filename == "final.txt"
    services.add_version(doc, file=_file("after"), filename="n.txt", actor=other, base_version=2)


def test_only_a_units_administrator_can_force_a_release_and_it_is_audited(world):
    doc = factories.document(world.a, content=b"draft")
    services.check_out(doc, actor=world.a.staff)
    with pytest.raises(DomainError, match="Only an administrator"):
        services.force_release(doc, actor=world.a.rep)
    lead = factories.user()
    grant_access(lead, "local_admin", "org", world.a.region, actor=None, channel="system")
    services.force_release(doc, actor=lead, reason="On leave")
    doc.refresh_from_db()
    assert doc.checked_out_by is None
    entry = AuditEntry.objects.get(action="documents.document.force_release", object_id=doc.pk)
    assert entry.actor == lead and entry.changes["checked_out_by"] == [world.a.staff.pk, None]
    assert entry.changes["reason"] == [None, "On leave"]


def test_a_document_is_visible_through_its_links_or_its_unit(world):
    doc = factories.document(world.b, content=b"about a member")
    assert not Document.objects.visible_to(world.a.staff).filter(pk=doc.pk).exists()
    services.link(doc, world.a.members[0][0], actor=None)
    assert Document.objects.visible_to(world.a.staff).filter(pk=doc.pk).exists()
    services.unlink(doc, world.a.members[0][0], actor=None)
    case = factories.case(world.a)
    services.link(doc, case, actor=None)
    assert Document.objects.visible_to(world.a.staff).filter(pk=doc.pk).exists()
    assert case.events.filter(kind="document", data__document=doc.pk).exists()
    services.unlink(doc, case, actor=None)
    services.link(doc, world.a.workplace, actor=None)
    assert Document.objects.visible_to(world.a.rep).filter(pk=doc.pk).exists()
    services.unlink(doc, world.a.workplace, actor=None)
    assert not Document.objects.visible_to(world.a.staff).filter(pk=doc.pk).exists()
    assert Document.objects.visible_to(world.b.staff).filter(pk=doc.pk).exists()  # its unit's


def test_the_download_streams_the_exact_bytes_with_safe_headers(client, world):
    doc = factories.document(world.a, content=b"plain text first", filename="page.txt")
    services.add_version(doc, file=_file("<b>second</b>"), filename="page.txt", actor=None, base_version=1)
    client.force_login(world.a.staff)
    response = client.get(reverse("document_download", args=[doc.pk]) + "?inline=1")
    assert response.streaming
    assert b"".join(response.streaming_content) == b"<b>second</b>"
    assert response["Content-Disposition"].startswith("attachment")  # text is never shown inline
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == "13"
    first = client.get(reverse("document_version_download", args=[doc.pk, 1]))
    assert b"".join(first.streaming_content) == b"plain text first"
    assert first["ETag"] == f'"{hashlib.sha256(b"plain text first").hexdigest()}"'
    assert AccessLogEntry.objects.filter(action="document.download").count() == 0  # linked to nobody


def test_images_and_pdfs_preview_inline_only_when_asked(client, world):
    doc = factories.document(world.a, content=factories.tiny_pdf("Hello"), filename="a.pdf")
    services.link(doc, world.a.members[0][0], actor=None)
    client.force_login(world.a.staff)
    inline = client.get(reverse("document_download", args=[doc.pk]) + "?inline=1")
    assert inline["Content-Type"] == "application/pdf" and inline["Content-Disposition"].startswith("inline")
    attached = client.get(reverse("document_download", args=[doc.pk]))
    assert attached["Content-Disposition"].startswith("attachment")
    assert AccessLogEntry.objects.filter(action="document.download", person_id=world.a.members[0][0].pk).count() == 2


def test_another_scopes_document_is_a_404_everywhere(client, world):
    doc = factories.document(world.b)
    client.force_login(world.a.staff)
    for name in ("document", "document_download"):
        assert client.get(reverse(name, args=[doc.pk])).status_code == 404
    assert client.get(reverse("document_version_download", args=[doc.pk, 1])).status_code == 404
    assert client.post(reverse("document_checkout", args=[doc.pk])).status_code == 404
    doc.refresh_from_db()
    assert doc.checked_out_by is None


def test_share_links_count_expire_revoke_and_log(client, world):
    doc = factories.document(world.a, content=b"for the lawyer")
    link, raw = services.create_share_link(doc, actor=world.a.staff, max_downloads=2, note="Advokat")
    url = reverse("shared", args=[raw])
    assert b"".join(client.get(url).streaming_content) == b"for the lawyer"
    services.add_version(doc, file=_file("newer"), filename="n.txt", actor=None, base_version=1)
    assert b"".join(client.get(url).streaming_content) == b"newer"  # not pinned: the latest
    used_up = client.get(url)
    assert used_up.status_code == 410 and b"used as many times" in used_up.content
    assert list(ShareDownload.objects.filter(link=link).values_list("refused", flat=True)) == ["used up", "", ""]

    pinned, raw2 = services.create_share_link(doc, actor=world.a.staff, version=doc.versions.get(number=1),
                                              expires=datetime.date.today() + datetime.timedelta(days=1))
    assert b"".join(client.get(reverse("shared", args=[raw2])).streaming_content) == b"for the lawyer"
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)):
        expired = client.get(reverse("shared", args=[raw2]))
    assert expired.status_code == 410 and ShareDownload.objects.filter(link=pinned, refused="expired").exists()

    live, raw3 = services.create_share_link(doc, actor=world.a.staff)
    services.revoke_share_link(live, actor=world.a.staff)
    assert client.get(reverse("shared", args=[raw3])).status_code == 410
    assert client.get(reverse("shared", args=["not-a-token"])).status_code == 404
    assert AuditEntry.objects.filter(action="documents.document.revoke_share_link").count() == 1


def test_share_link_input_is_checked(world):
    doc = factories.document(world.a)
    with pytest.raises(DomainError, match="in the future"):
        services.create_share_link(doc, actor=world.a.staff, expires="2001-01-01")
    with pytest.raises(DomainError, match="at most"):
        services.create_share_link(doc, actor=world.a.staff, expires=datetime.date.today() + datetime.timedelta(
            days=800))
    with pytest.raises(DomainError, match="at least 1"):
        services.create_share_link(doc, actor=world.a.staff, max_downloads=0)
    with pytest.raises(DomainError, match="YYYY-MM-DD"):
        services.create_share_link(doc, actor=world.a.staff, expires="tomorrow")


def test_the_token_is_kept_only_as_a_hash(world):
    doc = factories.document(world.a)
    link, raw = services.create_share_link(doc, actor=world.a.staff)
    assert raw not in link.token_hash and link.token_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_verify_reports_missing_and_corrupt_files(world, media, capsys):
    one = factories.document(world.a, content=b"one")
    two = factories.document(world.a, content=b"two")
    call_command("documents", "verify")
    assert "2 files checked: 2 ok" in capsys.readouterr().out
    (media / one.current.blob.stored_name).write_bytes(b"changed")
    (media / two.current.blob.stored_name).unlink()
    (media / "documents" / "zz").mkdir()
    (media / "documents" / "zz" / "stray").write_bytes(b"?")
    with pytest.raises(CommandError, match="2 stored files are missing or corrupt"):
        call_command("documents", "verify")
    out = capsys.readouterr().out
    assert f"corrupt: {one.current.blob.stored_name} (document {one.pk} version 1)" in out
    assert f"missing: {two.current.blob.stored_name}" in out
    assert "unreferenced: documents/zz/stray" in out


def test_a_unit_administrator_deletes_a_document_for_good_and_it_is_audited(client, world, media,
                                                                            django_capture_on_commit_callbacks):
    case = factories.case(world.a)
    doc = factories.document(world.a, content=b"filed on the wrong person", cases=[case],
                             persons=[world.a.members[0][0]])
    services.add_version(doc, file=_file("second"), filename="n.txt", actor=None, base_version=1)
    kept = factories.document(world.a, content=b"second", filename="same.txt")  # shares version 2's content
    services.create_share_link(doc, actor=world.a.staff)
    paths = [media / v.blob.stored_name for v in doc.versions.select_related("blob").order_by("number")]
    with pytest.raises(DomainError, match="Only an administrator"):
        services.delete_document(doc, actor=world.a.staff, reason="wrong person")
    lead = factories.user()
    grant_access(lead, "local_admin", "org", world.a.region, actor=None, channel="system")
    with pytest.raises(DomainError, match="Say why"):
        services.delete_document(doc, actor=lead, reason=" ")
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("document_delete", args=[doc.pk]), {"reason": "Filed on the wrong member"},
                           follow=True).content.decode()
    assert "is deleted" in page and not Document.objects.filter(pk=doc.pk).exists()
    entry = AuditEntry.objects.get(action="documents.document.delete", object_id=doc.pk)
    assert entry.actor == lead and entry.changes["reason"] == [None, "Filed on the wrong member"]
    assert [v["number"] for v in entry.changes["versions"][0]] == [1, 2]
    assert not paths[0].exists()  # the first version's content is gone
    assert paths[1].exists() and kept.current.blob.stored_name in str(paths[1])  # still used by another document
    assert case.events.filter(kind="document", data__what="deleted").exists()
    from tillit.documents import search

    assert list(search.search(Document.objects.all(), "wrong")) == []


def test_check_in_without_a_new_version_just_releases(world):
    doc = factories.document(world.a)
    services.check_out(doc, actor=world.a.staff)
    services.check_in(doc, actor=world.a.staff)
    doc.refresh_from_db()
    assert doc.checked_out_by is None and doc.versions.count() == 1
    assert AuditEntry.objects.filter(action="documents.document.check_in", object_id=doc.pk).exists()


def test_a_persons_view_of_their_own_document_is_not_logged_as_access(client, world):
    rep_person = world.a.rep_person  # a member with a login
    other = world.a.members[1][0]
    doc = factories.document(world.a, persons=[rep_person, other])
    client.force_login(world.a.rep)
    assert client.get(reverse("document", args=[doc.pk])).status_code == 200
    logged = set(AccessLogEntry.objects.filter(action="document.view").values_list("person_id", flat=True))
    assert logged == {other.pk}

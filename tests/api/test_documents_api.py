import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tillit.core.services import create_token, grant_access
from tillit.documents.models import Document
from tillit.documents.text import extract_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client):
    tokens = {}

    def call(user, method, path, data=None, multipart=None):
        if user.pk not in tokens:
            tokens[user.pk] = create_token(user)[1]
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {tokens[user.pk]}"}
        if multipart is not None:
            return client.post(f"/api/v1{path}", multipart, **kwargs)
        if data is not None:
            return getattr(client, method)(f"/api/v1{path}", data, content_type="application/json", **kwargs)
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


def _file(content: bytes, name="notes.txt"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_a_document_is_created_versioned_locked_and_shared_through_the_api(call, world, client):
    person, case = world.a.members[1][0], factories.case(world.a)
    created = call(world.a.staff, "post", "/documents", multipart={
        "file": _file(b"Avtale om permisjon"), "unit_id": world.a.branch.pk, "title": "Permisjonsavtale",
        "person_ids": str(person.pk), "case_ids": str(case.pk)})
    assert created.status_code == 201, created.content
    doc = created.json()
    assert doc["person_ids"] == [person.pk] and doc["case_ids"] == [case.pk]
    assert doc["latest"]["number"] == 1
    assert doc["latest"]["sha256"] == hashlib.sha256(b"Avtale om permisjon").hexdigest()
    path = f"/documents/{doc['id']}"

    other = factories.user()
    grant_access(other, "case_handler", "org", world.a.region, actor=None, channel="system")
    assert call(world.a.staff, "post", f"{path}/checkout").json()["checked_out"]["user"] == world.a.staff.username
    refused = call(other, "post", f"{path}/versions", multipart={"file": _file(b"mine"), "base_version": 1})
    assert refused.status_code == 409 and "only they can add a new version" in refused.json()["message"]
    assert call(other, "post", f"{path}/checkout").status_code == 409
    checked_in = call(world.a.staff, "post", f"{path}/checkin", multipart={
        "file": _file(b"Avtale om permisjon, signert"), "base_version": 1, "comment": "Signert"})
    assert checked_in.status_code == 200 and checked_in.json()["checked_out"] is None
    assert checked_in.json()["latest"]["number"] == 2

    stale = call(other, "post", f"{path}/versions", multipart={"file": _file(b"from v1"), "base_version": 1})
    assert stale.status_code == 409 and stale.json()["errors"] == {"base_version": ["Not the latest version."]}
    versions = call(other, "get", f"{path}/versions").json()
    assert [v["number"] for v in versions] == [2, 1] and versions[0]["comment"] == "Signert"
    for v in versions:
        download = call(other, "get", v["download"].removeprefix("/api/v1"))
        assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == v["sha256"]
    latest = call(other, "get", f"{path}/download")
    assert b"".join(latest.streaming_content) == b"Avtale om permisjon, signert"

    share = call(world.a.staff, "post", f"{path}/share-links", {"max_downloads": 1, "note": "Advokat"})
    assert share.status_code == 201 and share.json()["url"].startswith("http://testserver/shared/")
    url = share.json()["url"].removeprefix("http://testserver")
    assert b"".join(client.get(url).streaming_content) == b"Avtale om permisjon, signert"
    assert client.get(url).status_code == 410
    listed = call(world.a.staff, "get", f"{path}/share-links").json()
    assert listed[0]["state"] == "used up" and listed[0]["downloads"] == 1
    assert listed[0]["url"] is None  # the token is shown only when the link is made
    revoked = call(world.a.staff, "delete", f"{path}/share-links/{listed[0]['id']}")
    assert revoked.json()["state"] == "revoked"

    patched = call(world.a.staff, "patch", path, {"version": 1, "title": "Permisjon 2026"})
    assert patched.json()["title"] == "Permisjon 2026"
    conflict = call(other, "patch", path, {"version": 1, "title": "Late"})
    assert conflict.status_code == 409


def test_bad_uploads_and_requests_name_the_field(call, world):
    empty = call(world.a.staff, "post", "/documents", multipart={"file": _file(b""), "unit_id": world.a.branch.pk})
    assert empty.status_code == 422 and empty.json()["errors"] == {"file": ["The file is empty."]}
    liar = call(world.a.staff, "post", "/documents", multipart={
        "file": SimpleUploadedFile("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 20), "unit_id": world.a.branch.pk})
    assert liar.status_code == 422 and "its content is .png" in liar.json()["errors"]["file"][0]
    foreign = call(world.a.staff, "post", "/documents", multipart={"file": _file(b"x"), "unit_id": world.b.branch.pk})
    assert foreign.status_code == 422 and "unit_id" in foreign.json()["errors"]
    other_person = call(world.a.staff, "post", "/documents", multipart={
        "file": _file(b"x"), "unit_id": world.a.branch.pk, "person_ids": str(world.b.members[0][0].pk)})
    assert other_person.status_code == 422 and "person_ids" in other_person.json()["errors"]
    missing = call(world.a.staff, "post", "/documents", multipart={"unit_id": world.a.branch.pk})
    assert missing.status_code == 422 and "file" in missing.json()["errors"]
    assert not Document.objects.exists()


def test_search_and_filters_through_the_api(call, world):
    doc = factories.document(world.a, content=b"Permisjon ved fodsel", cases=[factories.case(world.a)])
    extract_text.call(doc.current_id)
    theirs = factories.document(world.b, content=b"Permisjon ved fodsel")
    extract_text.call(theirs.current_id)
    found = call(world.a.staff, "get", "/documents?q=fodsel").json()["items"]
    assert [d["id"] for d in found] == [doc.pk] and "**fodsel**" in found[0]["snippet"]
    by_case = call(world.a.staff, "get", f"/documents?case_id={doc.cases.get().pk}").json()["items"]
    assert [d["id"] for d in by_case] == [doc.pk]
    assert call(world.a.staff, "get", f"/documents/{theirs.pk}").status_code == 404
    assert call(world.a.staff, "post", f"/documents/{theirs.pk}/checkout").status_code == 404


def test_deleting_through_the_api_needs_a_unit_administrator_and_a_reason(call, world):
    doc = factories.document(world.a)
    refused = call(world.a.staff, "delete", f"/documents/{doc.pk}?reason=wrong")
    assert refused.status_code == 403 and "Only an administrator" in refused.json()["message"]
    no_reason = call(world.admin, "delete", f"/documents/{doc.pk}")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    assert call(world.admin, "delete", f"/documents/{doc.pk}?reason=wrong%20member").status_code == 204
    assert not Document.objects.filter(pk=doc.pk).exists()

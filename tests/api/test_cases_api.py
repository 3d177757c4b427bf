import pytest

from tests import factories
from tillit.cases.models import Case
from tillit.core.services import create_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client, world):
    tokens = {}

    def call(user, method, path, data=None):
        if user.pk not in tokens:
            tokens[user.pk] = create_token(user)[1]
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {tokens[user.pk]}"}
        if data is not None:
            kwargs["content_type"] = "application/json"
            return getattr(client, method)(f"/api/v1{path}", data, **kwargs)
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


def test_a_case_goes_from_opening_to_closing_through_the_api(call, world):
    ctype = factories.case_type(world.a.branch)
    types = call(world.a.staff, "get", "/case-types").json()
    assert [s["code"] for s in types[0]["states"]] == ["new", "open", "waiting", "closed"]
    person = world.a.members[1][0]
    response = call(world.a.staff, "post", "/cases", {"case_type_id": ctype.pk, "title": "Overtime",
                                                       "subject_ids": [person.pk], "body": "Unpaid overtime"})
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["number"].endswith("/00001") and case["state"] == "new" and case["subject_ids"] == [person.pk]
    moved = call(world.a.staff, "post", f"/cases/{case['id']}/transitions", {"transition": "start",
                                                                             "version": case["version"]})
    assert moved.status_code == 200 and moved.json()["state"] == "open"
    stale = call(world.a.staff, "post", f"/cases/{case['id']}/transitions", {"transition": "close",
                                                                             "version": case["version"]})
    assert stale.status_code == 409
    wrong = call(world.a.staff, "post", f"/cases/{case['id']}/transitions", {"transition": "resume",
                                                                             "version": moved.json()["version"]})
    assert wrong.status_code == 422 and "transition" in wrong.json()["errors"]
    note = call(world.a.staff, "post", f"/cases/{case['id']}/events", {"body": "Asked payroll"})
    assert note.status_code == 201
    events = call(world.a.staff, "get", f"/cases/{case['id']}/events").json()
    assert [e["kind"] for e in events] == ["opened", "state", "note"]
    patched = call(world.a.staff, "patch", f"/cases/{case['id']}", {"priority": 4, "tags": ["overtime"],
                                                                     "handler_id": world.a.staff.pk,
                                                                     "version": moved.json()["version"]})
    assert patched.status_code == 200 and patched.json()["handler_id"] == world.a.staff.pk
    transferred = call(world.a.staff, "post", f"/cases/{case['id']}/transfer", {
        "unit_id": world.b.branch.pk, "reason": "Other region", "version": patched.json()["version"]})
    assert transferred.status_code == 200
    assert call(world.a.staff, "get", f"/cases/{case['id']}").status_code == 404
    assert call(world.b.staff, "get", f"/cases/{case['id']}").json()["responsible_unit_id"] == world.b.branch.pk


def test_opening_validates_with_messages_per_field(call, world):
    ctype = factories.case_type(world.a.branch, required_fields=["subject"])
    response = call(world.a.staff, "post", "/cases", {"case_type_id": ctype.pk, "title": ""})
    assert response.status_code == 422 and {"title", "subjects"} <= set(response.json()["errors"])
    theirs = world.b.members[1][0]
    response = call(world.a.staff, "post", "/cases", {"case_type_id": ctype.pk, "title": "x",
                                                       "subject_ids": [theirs.pk]})
    assert response.status_code == 422 and "subject_ids" in response.json()["errors"]
    assert not Case.objects.exists()


def test_no_write_reaches_a_case_of_another_scope(call, world):
    theirs = factories.case(world.b)
    for method, path, data in [
        ("post", f"/cases/{theirs.pk}/transitions", {"transition": "start", "version": 1}),
        ("post", f"/cases/{theirs.pk}/transfer", {"unit_id": world.a.branch.pk, "reason": "x", "version": 1}),
        ("post", f"/cases/{theirs.pk}/events", {"body": "x"}),
        ("patch", f"/cases/{theirs.pk}", {"title": "x", "version": 1}),
    ]:
        assert call(world.a.staff, method, path, data).status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.state.code == "new" and theirs.events.count() == 1


def test_related_cases_are_linked_both_ways_within_scope(call, world):
    ctype = factories.case_type(world.a.branch)
    one = factories.case(world.a, case_type=ctype)
    two = factories.case(world.a, case_type=ctype)
    theirs = factories.case(world.b, case_type=ctype, unit=world.b.branch)
    refused = call(world.a.staff, "patch", f"/cases/{one.pk}", {"related_ids": [theirs.pk], "version": 1})
    assert refused.status_code == 422 and "related_ids" in refused.json()["errors"]
    response = call(world.a.staff, "patch", f"/cases/{one.pk}", {"related_ids": [two.pk], "version": 1})
    assert response.status_code == 200 and response.json()["related_ids"] == [two.pk]
    assert call(world.a.staff, "get", f"/cases/{two.pk}").json()["related_ids"] == [one.pk]
    assert two.events.filter(kind="link", data__number=one.number).exists()

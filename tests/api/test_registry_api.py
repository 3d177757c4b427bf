import datetime

import pytest

from tests import factories
from tillit.core.models import AccessLogEntry, ApiToken, AuditEntry
from tillit.core.services import create_token
from tillit.registry import services
from tillit.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, world):
    _token, raw = create_token(world.a.staff, "test")

    class Api:
        user = world.a.staff

        def __getattr__(self, method):
            def call(path, data=None, **kwargs):
                fn = getattr(client, method)
                if data is None:
                    return fn(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {raw}", **kwargs)
                if not kwargs.pop("multipart", False):
                    kwargs.setdefault("content_type", "application/json")
                return fn(f"/api/v1{path}", data, HTTP_AUTHORIZATION=f"Bearer {raw}", **kwargs)
            return call

    return Api()


def test_it_answers_401_without_a_valid_token(client, world):
    assert client.get("/api/v1/persons").status_code == 401
    response = client.get("/api/v1/persons", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and "token" in response.json()["message"]


def test_only_the_hash_of_a_token_is_stored(world):
    token, raw = create_token(world.admin)
    assert raw not in {token.token_hash, token.prefix} and len(token.token_hash) == 64
    assert not ApiToken.objects.filter(token_hash=raw).exists()


def test_it_serves_its_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/persons", "/api/v1/memberships", "/api/v1/employments", "/api/v1/roles", "/api/v1/org-units",
            "/api/v1/employers", "/api/v1/imports"} <= set(schema["paths"])


def test_it_lists_and_pages_people_in_scope(api, world):
    response = api.get("/persons?page_size=2")
    data = response.json()
    assert response.status_code == 200 and len(data["items"]) == 2 and data["has_next"] is True
    assert api.get("/persons?page_size=1000").status_code == 422


def test_detail_is_in_the_access_log_and_out_of_scope_is_404(api, world):
    mine = world.a.members[1][0]
    assert api.get(f"/persons/{mine.pk}").json()["email"] == mine.email
    assert AccessLogEntry.objects.filter(user=world.a.staff, person_id=mine.pk, channel="api").count() == 1
    theirs = world.b.members[1][0]
    response = api.get(f"/persons/{theirs.pk}")
    assert response.status_code == 404 and response.json()["message"]


def test_create_validates_each_field_with_422(api, world):
    response = api.post("/persons", {"first_name": "Eva", "last_name": "", "national_id": "01010112345",
                                     "email": "x"})
    assert response.status_code == 422
    assert {"last_name", "national_id", "email"} <= set(response.json()["errors"])
    assert api.post("/persons", {"first_name": 5}).status_code == 422  # wrong type


def test_create_refuses_a_duplicate_with_409_until_forced(api, world):
    existing = world.a.members[1][0]
    response = api.post("/persons", {"first_name": "New", "last_name": "Person", "email": existing.email})
    assert response.status_code == 409 and response.json()["matches"] == [existing.pk]
    response = api.post("/persons?force=true", {"first_name": "New", "last_name": "Person",
                                                "email": existing.email})
    assert response.status_code == 201
    assert AuditEntry.objects.filter(object_id=response.json()["id"], channel="api").exists()


def test_update_needs_the_current_version_and_refuses_a_stale_one_with_409(api, world):
    person = world.a.members[1][0]
    version = api.get(f"/persons/{person.pk}").json()["version"]
    ok = api.patch(f"/persons/{person.pk}", {"city": "Molde", "version": version})
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    stale = api.patch(f"/persons/{person.pk}", {"city": "Ålesund", "version": version})
    assert stale.status_code == 409
    assert Person.objects.get(pk=person.pk).city == "Molde"
    assert api.patch(f"/persons/{person.pk}", {"city": "Molde"}).status_code == 422  # version missing


def test_memberships_employments_and_roles_go_through_the_services(api, world):
    person = factories.person(first_name="Api", last_name="Member")
    person.unit = world.a.branch
    person.save(update_fields=["unit"])
    factories.membership_type("student")
    response = api.post("/memberships", {"person_id": person.pk, "membership_type": "student",
                                         "branch_id": world.a.branch.pk, "joined_on": "2025-01-01"})
    assert response.status_code == 201, response.content
    membership = response.json()
    bad = api.post(f"/memberships/{membership['id']}/status", {"status": "exempt", "on": "2025-02-01",
                                                                "version": membership["version"]})
    assert bad.status_code == 422 and "reason" in bad.json()["errors"]
    response = api.post(f"/memberships/{membership['id']}/status", {"status": "exempt", "on": "2025-02-01",
                                                                     "reason": "student", "version": 1})
    assert response.status_code == 200 and response.json()["status"] == "exempt"
    response = api.post("/employments", {"person_id": person.pk, "workplace_id": world.b.workplace.pk,
                                         "starts_on": "2025-01-01"})
    assert response.status_code == 422 and "workplace_id" in response.json()["errors"]
    response = api.post("/employments", {"person_id": person.pk, "workplace_id": world.a.workplace.pk,
                                         "starts_on": "2025-01-01", "percentage": "80,5"})
    assert response.status_code == 201 and response.json()["percentage"] == 80.5
    # A role that gives access is a grant: a case handler (no right to give access) is refused and nothing is made.
    response = api.post("/roles", {"person_id": person.pk, "role_type": "workplace_rep",
                                   "employer_id": world.a.workplace.pk, "starts_on": "2025-03-01"})
    assert response.status_code == 403 and not person.roles.exists()
    factories.role_type("safety_deputy", grant_role="")
    response = api.post("/roles", {"person_id": person.pk, "role_type": "safety_deputy",
                                   "employer_id": world.a.workplace.pk, "starts_on": "2025-03-01"})
    assert response.status_code == 201, response.content
    assert api.get(f"/roles?person_id={person.pk}").json()["items"][0]["role_type"] == "safety_deputy"


def test_trees_show_the_users_part_and_validate_org_numbers(api, world):
    units = [u["id"] for u in api.get("/org-units").json()["items"]]
    assert world.a.branch.pk in units and world.b.branch.pk not in units
    response = api.post("/employers", {"name": "X", "kind": "company", "org_number": "123456789"})
    assert response.status_code == 404  # a case handler of one region cannot add a top-level employer


def test_import_endpoint_reports_errors_per_row_and_changes_nothing(api, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"first_name,last_name,email\nOla,Nordmann,ola@example.no\n,Mangler,bad\n"
    before = Person.objects.count()
    response = api.post("/imports", {"file": SimpleUploadedFile("people.csv", content)}, multipart=True)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(3, "first_name"), (3, "email")}
    assert Person.objects.count() == before


def test_every_resource_can_be_updated_and_each_update_is_audited(api, world):
    _person, membership = world.a.members[1]
    factories.membership_type("student")
    response = api.patch(f"/memberships/{membership.pk}", {"membership_type": "student",
                                                           "version": membership.version})
    assert response.status_code == 200 and response.json()["membership_type"] == "student"
    stale = api.patch(f"/memberships/{membership.pk}", {"membership_type": "ordinary",
                                                        "version": membership.version})
    assert stale.status_code == 409
    role = world.a.rep_person.roles.get()
    assert api.patch(f"/roles/{role.pk}", {"ends_on": "2030-12-31"}).status_code == 403  # it gives access
    role = services.assign_role(world.a.rep_person, factories.role_type("safety_deputy", grant_role=""),
                                world.a.workplace, starts_on=datetime.date(2022, 1, 1), actor=None)
    response = api.patch(f"/roles/{role.pk}", {"ends_on": "2020-01-01"})
    assert response.status_code == 422 and "ends_on" in response.json()["errors"]  # before it started
    response = api.patch(f"/roles/{role.pk}", {"ends_on": "2030-12-31"})
    assert response.status_code == 200 and response.json()["ends_on"] == "2030-12-31"
    response = api.patch(f"/org-units/{world.a.branch.pk}", {"name": "Ny avdeling"})
    assert response.status_code == 200 and response.json()["name"] == "Ny avdeling"
    assert api.patch(f"/org-units/{world.b.branch.pk}", {"name": "X"}).status_code == 404
    response = api.patch(f"/employers/{world.a.workplace.pk}", {"address": "Storgata 1"})
    assert response.status_code == 200
    assert api.patch(f"/employers/{world.a.workplace.pk}", {"name": ""}).status_code == 422
    actions = set(AuditEntry.objects.filter(channel="api").values_list("action", flat=True))
    assert {"registry.membership.changed", "registry.role.ended", "registry.orgunit.changed",
            "registry.employer.changed"} <= actions


def test_lists_show_national_ids_whole_only_to_roles_that_may_see_them(client, world):
    person = world.a.members[1][0]
    for user, shown in [(world.a.staff, person.national_id), (world.a.rep, person.national_id[:6] + "*****")]:
        raw = create_token(user)[1]
        items = client.get("/api/v1/persons?page_size=200", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["items"]
        assert {i["id"]: i["national_id"] for i in items}[person.pk] == shown

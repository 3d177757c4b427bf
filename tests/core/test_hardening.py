"""The deployment around the pages: headers on every answer, sessions that end, control characters
refused before any view runs, and `tillit check --deploy` in the documented production settings."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_every_html_page_has_a_content_security_policy_without_inline_script(client, world):
    client.force_login(world.a.staff)
    for name in ("people", "cases", "documents"):
        response = client.get(reverse(name))
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert "onchange=" not in response.content.decode() and "<script>" not in response.content.decode()
    assert "Content-Security-Policy" in client.get(reverse("login")).headers


def test_answers_with_personal_data_are_never_cached(client, world):
    client.force_login(world.a.staff)
    person = world.a.members[1][0]
    assert client.get(reverse("person", args=[person.pk]))["Cache-Control"] == "no-store"
    assert client.get("/api/v1/persons")["Cache-Control"] == "no-store"  # even the 401


def test_a_session_ends_after_a_working_day_without_use(client, world, settings):
    assert settings.SESSION_COOKIE_AGE == 9 * 3600
    client.force_login(world.a.staff)
    response = client.get(reverse("people"))
    assert response.status_code == 200
    session = client.session
    assert 0 < session.get_expiry_age() <= 9 * 3600


@pytest.mark.parametrize("query", ["?q=a%00b", "?unit=%00", "?q=%01x"])
def test_a_control_character_in_a_query_is_refused_naming_the_parameter(client, world, query):
    client.force_login(world.a.staff)
    response = client.get(reverse("people") + query)
    assert response.status_code == 400 and b"Contains a control character" in response.content
    api = client.get("/api/v1/persons" + query)
    assert api.status_code == 422 and list(api.json()["errors"]) == [query[1:].split("=")[0]]


def test_line_breaks_in_a_name_are_refused_naming_the_field_in_the_form_and_the_api(client, world):
    from tillit.core.services import create_token

    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    response = client.post(reverse("person_edit", args=[person.pk]), {
        "first_name": "Kari\r\nBcc: x@example.org", "last_name": person.last_name, "country": "NO",
        "preferred_language": "nb", "version": person.version})
    assert response.status_code == 200 and "first_name" in response.context["form"].errors
    _token, raw = create_token(world.a.staff)
    api = client.patch(f"/api/v1/persons/{person.pk}", {"last_name": "Nord\nmann", "version": person.version},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 422 and "last_name" in api.json()["errors"]
    unit = client.patch(f"/api/v1/org-units/{world.a.branch.pk}", {"name": "Avd\x00"},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert unit.status_code == 422 and "name" in unit.json()["errors"]
    person.refresh_from_db()
    assert "\n" not in person.first_name + person.last_name


def test_a_person_with_a_line_break_in_the_address_is_refused_by_the_service(world):
    from tillit.core.errors import InvalidInput
    from tillit.registry import services

    with pytest.raises(InvalidInput) as refused:
        services.create_person({"first_name": "A", "last_name": "B", "city": "Oslo\x0bX"}, actor=None)
    assert "city" in refused.value.field_errors
    factories.person(first_name="Fine", last_name="Name")  # and plain input still goes in


PRODUCTION = {"TILLIT_HTTPS": "1", "TILLIT_BEHIND_PROXY": "1", "TILLIT_ALLOWED_HOSTS": "tillit.example.org",
              "TILLIT_SECRET_KEY": "k" * 20 + "-production-key-from-the-secret-store-0123456789",
              "TILLIT_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "TILLIT_DEBUG": ""}


@pytest.mark.own_database
@pytest.mark.django_db(transaction=True)
def test_check_deploy_passes_in_the_documented_production_settings_and_fails_without(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the browser tests set it
    env |= {"TILLIT_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite3'}"}
    subprocess.run([sys.executable, "-m", "tillit.cli", "migrate", "-v0"], env=env, check=True)
    done = subprocess.run([sys.executable, "-m", "tillit.cli", "check", "--deploy"], env={**env, **PRODUCTION},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    plain = subprocess.run([sys.executable, "-m", "tillit.cli", "check", "--deploy"], env=env, capture_output=True,
                           text=True)
    assert plain.returncode != 0 and "tillit.E002" in plain.stderr + plain.stdout


def test_a_control_character_in_a_multipart_form_is_refused_and_nothing_is_stored(client, portal):
    """The public service form is multipart: NUL in a long answer was stored on SQLite and a 500 on PostgreSQL."""
    from tillit.portal.models import PendingRequest

    url = reverse("portal_service", args=[portal.cat.pk])
    data = {"f_title": "Cat", "f_where": "Park\x00en", "name": "Ola", "email": "ola.nul@example.no"}
    response = client.post(url, data)  # the test client sends multipart
    assert response.status_code == 400 and "f_where" in response.content.decode()
    assert not PendingRequest.objects.filter(email="ola.nul@example.no").exists()


def test_a_body_the_server_cannot_read_gets_a_message_not_a_bare_bad_request(client, world, settings):
    from tillit.core.services import create_token

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(world.a.staff)
    response = client.post(reverse("people"), {"q": "x" * 5000})
    assert response.status_code == 413 and "larger than the server takes" in response.content.decode()
    _token, raw = create_token(world.a.staff)
    api = client.post("/api/v1/dues/returns", b"--x\r\n", content_type="multipart/form-data",
                      HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 422
    assert api.json()["errors"] == {"request": ["The request body cannot be read as a form."]}


@pytest.mark.parametrize("body", ["[null, null]", "[]", "null", "5", '"x"'])
def test_a_json_body_that_is_not_an_object_changes_nothing(client, world, body):
    from tillit.core.services import create_token

    _token, raw = create_token(world.admin)
    before = world.a.branch.name
    for path in (f"/api/v1/org-units/{world.a.branch.pk}", f"/api/v1/employers/{world.a.workplace.pk}"):
        response = client.patch(path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 422 and response.json()["errors"] == {"body": ["Not a JSON object."]}
    world.a.branch.refresh_from_db()
    assert world.a.branch.name == before


@pytest.mark.parametrize("content", [bytes(range(256)) * 40, b"\x00\x01;abc\r\x00", b"PK\x03\x04broken"])
def test_a_payroll_return_that_is_not_a_table_is_refused_naming_the_file(client, world, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tillit.core.services import create_token
    from tillit.dues.models import EmployerReturn

    _token, raw = create_token(world.admin)
    response = client.post("/api/v1/dues/returns", {"file": SimpleUploadedFile("r.csv", content),
                                                    "payroll_unit_id": world.a.company.pk},
                           HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 422 and "file" in response.json()["errors"]
    assert not EmployerReturn.objects.exists()

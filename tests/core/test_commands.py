import io

import pytest
from django.core.management import CommandError, call_command

from tillit.core.models import ApiToken, hash_token
from tillit.core.services import user_for_token

pytestmark = pytest.mark.django_db


def test_token_create_prints_the_token_once_and_keeps_only_its_hash(django_user_model):
    user = django_user_model.objects.create_user("ops", password="long-enough-pw")
    out = io.StringIO()
    call_command("token", "create", user="ops", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(user=user)
    assert token.token_hash == hash_token(raw) and raw not in (token.prefix, token.name)
    assert user_for_token(raw) == user
    assert user_for_token(raw + "x") is None
    with pytest.raises(CommandError, match="no user"):
        call_command("token", "create", user="nobody", stdout=io.StringIO())


def test_createuser_enforces_the_password_rules(django_user_model):
    with pytest.raises(CommandError):
        call_command("createuser", "weak", password="short", stdout=io.StringIO())
    call_command("createuser", "boss", password="a-long-passphrase-2026", superuser=True, stdout=io.StringIO())
    assert django_user_model.objects.get(username="boss").is_superuser


def test_check_reports_an_up_to_date_database():
    out = io.StringIO()
    call_command("tillit_check", stdout=out, stderr=io.StringIO())
    assert "migrations: up to date" in out.getvalue()


def test_the_cli_maps_check_to_the_wider_check(monkeypatch):
    from tillit import cli

    seen = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", lambda argv: seen.append(argv))
    cli.main(["check"])
    cli.main(["django-check"])
    assert seen == [["tillit", "tillit_check"], ["tillit", "check"]]


def test_health_and_static_files_are_served_by_the_app(client):
    assert client.get("/healthz").json() == {"database": "ok", "queue": "ok"}
    response = client.get("/static/tillit/tillit.css")
    assert response.status_code == 200 and b"--accent" in b"".join(response.streaming_content)


def test_the_admin_is_for_system_owners_and_holds_no_personal_data(client, django_user_model, settings):
    from django.contrib import admin

    settings.TILLIT_ADMIN_SITE = True
    staff = django_user_model.objects.create_user("clerk", password="long-enough-pw", is_staff=True)
    response = client.get("/admin/", follow=True)  # through the admin's login to Tillit's own
    assert response.redirect_chain[-1][0].startswith("/login/?next=")
    client.force_login(staff)
    assert client.get("/admin/", follow=True).status_code == 404  # staff flags alone open nothing
    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {"registry.Person", "registry.Membership", "registry.Employment", "registry.Role",
                             "core.AuditEntry", "core.AccessLogEntry"}


def test_a_grant_given_in_the_admin_is_audited(client, django_user_model, settings):
    from tillit.core.models import AuditEntry, Grant

    settings.TILLIT_ADMIN_SITE = True
    from tillit.registry.services import create_org_unit

    owner = django_user_model.objects.create_superuser("owner", password="long-enough-pw")
    clerk = django_user_model.objects.create_user("clerk2", password="long-enough-pw")
    unit = create_org_unit("Forbundet", "national", actor=None, channel="system")
    client.force_login(owner)
    response = client.post("/admin/core/grant/add/", {"user": clerk.pk, "role": "viewer", "tree": "org",
                                                      "node_id": unit.pk})
    assert response.status_code == 302
    grant = Grant.objects.get(user=clerk)
    entry = AuditEntry.objects.get(action="core.grant.created", object_id=grant.pk)
    assert entry.actor == owner and entry.changes["role"] == [None, "viewer"]


def test_erasure_is_an_explicit_recorded_command(django_user_model):
    from tillit.core.models import AuditEntry
    from tillit.registry.models import Person
    from tillit.registry.services import create_person

    owner = django_user_model.objects.create_superuser("dpo", password="long-enough-pw")
    person = create_person({"first_name": "Eva", "last_name": "Slett", "email": "eva@example.no"}, actor=owner)
    with pytest.raises(CommandError):
        call_command("anonymise", person.pk, user="dpo", reason=" ", stdout=io.StringIO())
    call_command("anonymise", person.pk, user="dpo", reason="request 2026-11-23", stdout=io.StringIO())
    person = Person.objects.get(pk=person.pk)
    assert person.email == "" and person.anonymised_at
    assert AuditEntry.objects.get(action="registry.person.anonymised", object_id=person.pk).actor == owner


def test_every_command_the_readme_names_is_one_tillit_runs():
    """`tillit recount-kpis` was refused as an unknown command while README.md and the user guide spelled it so."""
    import pathlib
    import re

    from django.core.management import get_commands

    from tillit.cli import ALIASES

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    named = set(re.findall(r"`tillit ([a-z][a-z0-9-]*)", readme))
    assert "recount-kpis" in named
    assert {n for n in named if ALIASES.get(n, n.replace("-", "_")) not in get_commands()} == set()

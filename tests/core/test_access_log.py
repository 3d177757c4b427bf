"""Every person shown to another user is in the access log, and the log can be read: on the person's
page (for those allowed), through the API and by `tillit access-log`."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from tillit.core.models import AccessLogEntry
from tillit.core.services import create_token, grant_access

pytestmark = pytest.mark.django_db


def _api(client, user, path):
    _token, raw = create_token(user, "t")
    return client.get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_an_api_search_leaves_one_row_per_person_it_returns(client, world):
    marker = world.a.marker
    response = _api(client, world.a.staff, f"/persons?q={marker}")
    returned = [p["id"] for p in response.json()["items"]]
    assert returned
    logged = list(AccessLogEntry.objects.filter(action="person.search", channel="api", user=world.a.staff)
                  .values_list("person_id", flat=True))
    assert sorted(logged) == sorted(returned)


def test_api_lists_of_memberships_and_a_case_log_the_people_on_them(client, world):
    from tests import factories

    _api(client, world.a.staff, "/memberships")
    assert set(AccessLogEntry.objects.filter(action="membership.list").values_list("person_id", flat=True)) == {
        p.pk for p, _m in world.a.members}
    case = factories.case(world.a)
    _api(client, world.a.staff, f"/cases/{case.pk}")
    assert AccessLogEntry.objects.filter(action="case.view", person_id=world.a.members[1][0].pk).count() == 1


def test_the_log_is_shown_to_an_administrator_and_not_to_a_handler(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    assert "Who looked" not in client.get(reverse("person", args=[person.pk])).content.decode()
    boss = world.admin
    grant_access(boss, "admin", "org", world.a.region, actor=None)
    client.force_login(boss)
    page = client.get(reverse("person", args=[person.pk])).content.decode()
    assert "Who looked" in page and world.a.staff.username in page and "opened the record" in page


def test_the_api_gives_the_log_to_those_allowed_and_404_to_others(client, world):
    person = world.a.members[1][0]
    _api(client, world.a.staff, f"/persons/{person.pk}")
    assert _api(client, world.a.staff, f"/persons/{person.pk}/access-log").status_code == 404
    entries = _api(client, world.admin, f"/persons/{person.pk}/access-log").json()
    assert any(e["user"] == world.a.staff.username and e["action"] == "person.view" for e in entries)


def test_the_command_prints_the_log_for_the_data_protection_officer(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    client.get(reverse("person", args=[person.pk]))
    out = io.StringIO()
    call_command("access_log", "--person", str(person.pk), "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows[0]["user"] == world.a.staff.username and rows[0]["action"] == "person.view"


def test_a_regions_administrator_reads_the_log_of_its_people_and_not_of_others(client, world):
    from tests import factories

    boss = factories.user("region_boss")
    grant_access(boss, "admin", "org", world.a.region, actor=None)
    assert _api(client, boss, f"/persons/{world.a.members[1][0].pk}/access-log").status_code == 200
    assert _api(client, boss, f"/persons/{world.b.members[1][0].pk}/access-log").status_code == 404


def test_the_case_page_logs_every_subject_but_the_viewers_own_record(client, world):
    from tests import factories
    from tillit.registry import services

    own, other = world.a.members[1][0], world.a.members[2][0]
    services.link_user(own, world.a.staff, actor=None)
    case = factories.case(world.a, subjects=[own, other])
    client.force_login(world.a.staff)
    assert client.get(reverse("case", args=[case.pk])).status_code == 200
    logged = set(AccessLogEntry.objects.filter(action="case.view", user=world.a.staff).values_list("person_id",
                                                                                                   flat=True))
    assert logged == {other.pk}

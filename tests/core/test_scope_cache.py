"""The grants kept in the shared cache never outlive a change: a revoked grant or an ended rep's role
closes the door on the very next request."""

import datetime

import pytest
from django.urls import reverse

from tillit.core.models import Grant
from tillit.core.services import revoke_grants
from tillit.registry import services

pytestmark = pytest.mark.django_db


def test_a_revoked_grant_is_gone_on_the_next_request(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    assert client.get(reverse("person", args=[person.pk])).status_code == 200
    revoke_grants(Grant.objects.filter(user=world.a.staff), actor=None)
    assert client.get(reverse("person", args=[person.pk])).status_code == 404


def test_an_ended_role_closes_the_reps_view_at_once(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.rep)
    assert client.get(reverse("person", args=[person.pk])).status_code == 200
    role = world.a.rep_person.roles.get()
    services.end_role(role, on=datetime.date.today() - datetime.timedelta(days=1), actor=None)
    assert client.get(reverse("person", args=[person.pk])).status_code == 404


def test_a_unit_added_under_a_handlers_region_is_in_their_scope_at_once(client, world):
    from tests import factories

    client.force_login(world.a.staff)
    assert client.get(reverse("cases")).status_code == 200  # the region's units are now remembered
    unit = services.create_org_unit("Ny avdeling", "branch", parent=world.a.region)
    case = factories.case(world.a, title="In the new unit", unit=unit)
    assert client.get(reverse("case", args=[case.pk])).status_code == 200


@pytest.fixture
def redis_cache(settings):
    import os

    import redis

    url = os.environ.get("TILLIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("TILLIT_REQUIRE_REDIS") == "1":
            raise
        pytest.skip("Redis is not running on this machine")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": "tillit-test"}, "fragments": settings.CACHES["fragments"]}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_with_the_redis_cache_a_revoked_grant_is_gone_on_the_next_request(client, world, redis_cache):
    test_a_revoked_grant_is_gone_on_the_next_request(client, world)


# The user, the unread count and the saved views every page reads are kept too; each change shows at once.

def test_a_deactivated_user_is_logged_out_on_the_next_request(client, world):
    client.force_login(world.a.staff)
    assert client.get(reverse("cases")).status_code == 200  # the session's user is now kept
    world.a.staff.is_active = False
    world.a.staff.save(update_fields=["is_active"])
    response = client.get(reverse("cases"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_changed_password_ends_the_other_sessions_at_once(client, world):
    client.force_login(world.a.staff)
    assert client.get(reverse("cases")).status_code == 200
    world.a.staff.set_password("a new long password 7")
    world.a.staff.save()
    assert client.get(reverse("cases")).status_code == 302


def test_a_renamed_user_shows_the_new_name_at_once(client, world):
    client.force_login(world.a.staff)
    assert world.a.staff.username in client.get(reverse("cases")).content.decode()
    world.a.staff.username = "renamed-handler"
    world.a.staff.save(update_fields=["username"])
    assert ">renamed-handler</a>" in client.get(reverse("cases")).content.decode()


def _unread(client) -> str:
    import re

    return re.search(r'data-unread="(\d+)"', client.get(reverse("cases")).content.decode()).group(1)


def test_the_unread_count_follows_new_and_read_notifications(client, world):
    from tests import factories
    from tillit.core.notify import notify

    case = factories.case(world.a, title="Kept count")
    client.force_login(world.a.staff)
    before = int(_unread(client))  # kept now
    assert notify([world.a.staff.pk], "assigned", object_type="case", object_id=case.pk, key=f"kept-{case.pk}") == 1
    assert int(_unread(client)) == before + 1
    assert client.get(reverse("case", args=[case.pk])).status_code == 200  # opening the case reads it
    assert int(_unread(client)) == before


def test_a_saved_view_shows_at_once_and_a_deleted_one_is_gone(client, world):
    from tillit.registry.models import SavedView

    client.force_login(world.a.staff)
    assert "Kept view" not in client.get(reverse("cases")).content.decode()  # the (empty) views are kept now
    client.post(reverse("saved_view_save"), {"page": "cases", "query": "queue=mine", "name": "Kept view",
                                             "next": reverse("cases")})
    assert 'data-view="Kept view"' in client.get(reverse("cases")).content.decode()
    view = SavedView.objects.get(name="Kept view")
    client.post(reverse("saved_view_delete", args=[view.pk]), {"next": reverse("cases")})
    assert 'data-view="Kept view"' not in client.get(reverse("cases")).content.decode()


def test_a_renamed_unit_shows_its_new_name_in_the_drop_downs_at_once(client, world):
    client.force_login(world.a.staff)
    assert world.a.branch.name in client.get(reverse("cases")).content.decode()  # the unit list is kept now
    world.a.branch.name = "Omdøpt avdeling"
    world.a.branch.save(update_fields=["name"])
    assert "Omdøpt avdeling" in client.get(reverse("cases")).content.decode()


def test_a_renamed_case_type_and_state_show_in_the_queue_at_once(client, world):
    from tests import factories

    case = factories.case(world.a, title="Kept names")
    client.force_login(world.a.staff)
    assert case.case_type.name in client.get(reverse("cases")).content.decode()  # the names are kept now
    case.case_type.name, case.state.name = "Omdøpt sakstype", "Omdøpt status"
    case.case_type.save(update_fields=["name"])
    case.state.save(update_fields=["name"])
    page = client.get(reverse("cases")).content.decode()
    assert "Omdøpt sakstype" in page and "Omdøpt status" in page


def test_a_kept_list_missing_an_id_that_is_asked_for_is_read_again(world):
    """A row the kept list lacks (a change made beside Tillit's code, or a race) makes it read the table again."""
    from django.core.cache import cache

    from tests import factories
    from tillit.cases.queues import configured_names
    from tillit.core.kept import generation
    from tillit.registry.models import all_unit_options

    case = factories.case(world.a, title="Stale names")
    units = all_unit_options()
    cache.set(f"tillit:units:{generation('units')}:options", [u for u in units if u[0] != world.a.branch.pk], 300)
    assert world.a.branch.pk in {pk for pk, _n, _p in all_unit_options({world.a.branch.pk})}
    names = configured_names()
    cache.set(f"tillit:case-config:{generation('case-config')}:names", {"types": {}, "states": names["states"]}, 300)
    assert case.case_type_id in configured_names({case.case_type_id}, ())["types"]

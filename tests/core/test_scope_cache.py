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

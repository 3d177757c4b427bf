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

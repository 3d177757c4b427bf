"""No link, button or menu entry leads to a 404 for the user who sees it: every role's links are followed."""

import pytest

from tests import factories
from tillit.core.services import grant_access

pytestmark = [pytest.mark.django_db, pytest.mark.once]


@pytest.mark.parametrize("who", ["admin", "staff", "rep", "local_admin", "regional", "member", "citizen",
                                 "anonymous"])
def test_every_link_shown_opens(client, world, who):
    from tests.factories import dues_month

    dues_month(world)
    if who == "admin":
        user = world.admin
    elif who == "local_admin":
        user = factories.user("local_admin_alfa")
        grant_access(user, "local_admin", "org", world.a.region, actor=None, channel="system")
    elif who == "regional":
        user = factories.user("regional_alfa")
        grant_access(user, "regional_rep", "org", world.a.region, actor=None, channel="system")
    elif who in ("member", "citizen"):
        from tillit.registry import services

        user = factories.user(f"{who}_alfa")
        person = world.a.members[2][0] if who == "member" else factories.person(first_name="Kim")
        services.link_user(person, user, actor=None, channel="system")
        factories.case(world.a, title="My own question", subjects=[person])
    else:
        user = getattr(world.a, who, None)
    if user is not None:
        client.force_login(user)
    start = "/" if user is not None else "/services/"
    assert len(factories.every_link_opens(client, start, limit=120)) >= 3

"""No link, button or menu entry leads to a 404 for the user who sees it: every role's links are followed."""

import pytest

from tests import factories
from tillit.core.services import grant_access

pytestmark = [pytest.mark.django_db, pytest.mark.once]


@pytest.mark.parametrize("who", ["admin", "staff", "rep", "local_admin", "regional", "member"])
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
    elif who == "member":
        from tillit.registry import services

        user = factories.user("member_alfa")
        services.link_user(world.a.members[2][0], user, actor=None, channel="system")
    else:
        user = getattr(world.a, who)
    client.force_login(user)
    assert len(factories.every_link_opens(client, "/", limit=120)) >= 3

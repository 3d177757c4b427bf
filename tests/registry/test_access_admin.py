"""A local administrator looks after the logins of their own part of the organisation, and no more."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from tests import factories
from tillit.core.models import AuditEntry, Grant
from tillit.core.policy import Refused
from tillit.core.scopes import scope_for
from tillit.core.services import grant_access

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_admin(world):
    admin = factories.user("local_admin_alfa")
    grant_access(admin, "local_admin", "org", world.a.region, actor=None, channel="system")
    return admin


def test_the_menu_offers_access_only_to_administrators(client, world, local_admin):
    client.force_login(world.a.staff)
    assert reverse("access_users") not in client.get(reverse("people")).content.decode()
    assert client.get(reverse("access_users")).status_code == 404
    client.force_login(local_admin)
    assert reverse("access_users") in client.get(reverse("people")).content.decode()


def test_a_role_is_given_within_the_administrators_rights_only(client, world, local_admin):
    newcomer = factories.user("newcomer")
    factories.services.link_user(world.a.members[2][0], newcomer, actor=None, channel="system")
    client.force_login(local_admin)
    assert newcomer.username in client.get(reverse("access_users")).content.decode()
    client.post(reverse("access_grant", args=[newcomer.pk]), {"role": "viewer", "unit": world.a.branch.pk})
    grant = Grant.objects.get(user=newcomer)
    assert (grant.role, grant.tree, grant.node_id) == ("viewer", "org", world.a.branch.pk)
    assert AuditEntry.objects.filter(action="core.grant.created", object_id=grant.pk, actor=local_admin).exists()
    # A case handler may export and import, which a local administrator may not: not on offer, refused beside the
    # field, and refused by the service whatever the form.
    response = client.post(reverse("access_grant", args=[newcomer.pk]), {"role": "case_handler",
                                                                         "unit": world.a.branch.pk})
    assert "role" in response.context["form"].errors
    from tillit.registry.access import give_role

    with pytest.raises(Refused, match="more than you have"):
        give_role(local_admin, newcomer, "case_handler", "org", world.a.branch)
    # A unit outside the administrator's region is not on offer.
    response = client.post(reverse("access_grant", args=[newcomer.pk]), {"role": "viewer", "unit": world.b.branch.pk})
    assert "unit" in response.context["form"].errors
    assert Grant.objects.filter(user=newcomer).count() == 1
    client.post(reverse("access_revoke", args=[newcomer.pk]), {"grant": grant.pk})
    assert not Grant.objects.filter(user=newcomer).exists()


def test_a_reps_access_follows_the_role_and_cannot_be_removed_here(client, world, local_admin):
    client.force_login(local_admin)
    grant = Grant.objects.get(user=world.a.rep)
    page = client.post(reverse("access_revoke", args=[world.a.rep.pk]), {"grant": grant.pk}, follow=True)
    assert "comes from a representative" in page.content.decode()
    assert Grant.objects.filter(pk=grant.pk).exists()


def test_a_stronger_login_is_not_the_local_administrators(client, world, local_admin):
    """The region's case handler holds rights a local administrator cannot give (export, import, dues): no reset,
    unlock or revoke, on the page or by posting."""
    from tillit.registry.access import may_reset

    handler = world.a.staff
    assert not may_reset(local_admin, handler)
    client.force_login(local_admin)
    before = handler.password
    client.post(reverse("access_password", args=[handler.pk]))
    handler.refresh_from_db()
    assert handler.password == before
    grant = Grant.objects.get(user=handler)
    client.post(reverse("access_revoke", args=[handler.pk]), {"grant": grant.pk})
    assert Grant.objects.filter(pk=grant.pk).exists()
    assert not AuditEntry.objects.filter(action="core.user.password_reset", object_id=handler.pk).exists()


def test_the_form_offers_only_the_roles_it_may_give_and_the_list_shows_who_is_locked_out(client, world, local_admin,
                                                                                          settings):
    client.force_login(local_admin)
    page = client.get(reverse("access_user", args=[world.a.staff.pk]))
    offered = [code for code, _label in page.context["form"].fields["role"].choices if code]
    # Not the administrator, case handler or payroll office; the reps' roles, so it looks after its reps' logins.
    assert offered == ["local_admin", "rep", "regional_rep", "viewer"]
    assert 'value="admin"' not in page.content.decode()
    request = RequestFactory().post("/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        authenticate(request, username=world.a.staff.username, password="wrong password")
    rows = client.get(reverse("access_users")).context["locked"]
    assert rows == {world.a.staff.username}


def test_unlock_and_temporary_password(client, world, local_admin, settings):
    user = factories.user("reader_alfa")
    grant_access(user, "viewer", "org", world.a.branch, actor=None, channel="system")
    request = RequestFactory().post("/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        authenticate(request, username=user.username, password="wrong password")
    client.force_login(local_admin)
    page = client.get(reverse("access_user", args=[user.pk])).content.decode()
    assert 'class="error">locked' in page
    client.post(reverse("access_unlock", args=[user.pk]))
    assert 'class="error">locked' not in client.get(reverse("access_user", args=[user.pk])).content.decode()
    page = client.post(reverse("access_password", args=[user.pk]), follow=True)
    password = page.context["temporary_password"]
    assert password and password in page.content.decode()
    assert authenticate(RequestFactory().post("/login/"), username=user.username, password=password) == user
    assert password not in client.get(reverse("access_user", args=[user.pk])).content.decode()  # shown once
    assert AuditEntry.objects.filter(action="core.user.password_reset", object_id=user.pk, actor=local_admin).exists()


def test_a_login_with_access_elsewhere_is_left_to_a_wider_administrator(client, world, local_admin):
    user = world.a.staff
    grant_access(user, "viewer", "org", world.b.region, actor=None, channel="system")
    before = user.password
    client.force_login(local_admin)
    page = client.post(reverse("access_password", args=[user.pk]), follow=True).content.decode()
    assert "Only an administrator over all of this user" in page
    user.refresh_from_db()
    assert user.password == before
    assert not scope_for(local_admin, "manage_grants").covers_node("org", world.b.region.path)


def test_the_rights_page_shows_the_table_the_services_check(client, world, local_admin):
    from tillit.core.policy import ACTIONS, roles_for

    client.force_login(local_admin)
    page = client.get(reverse("access_rights"))
    assert page.status_code == 200
    body = page.content.decode()
    from django.utils.html import escape

    assert all(escape(str(action.label)) in body for action in ACTIONS.values())
    row = next(r for r in page.context["rows"] if r["action"].code == "registry.correct")
    codes = [code for code, _label in page.context["roles"]]
    allowed = [code for code, yes in zip(codes, row["allowed"], strict=True) if yes]
    assert allowed == roles_for(ACTIONS["registry.correct"])
    assert reverse("access_rights") in client.get(reverse("access_users")).content.decode()
    client.force_login(world.a.staff)  # neither gives access nor configures: no page
    assert client.get(reverse("access_rights")).status_code == 404

"""Logins people trust: a second factor where the roles ask for one, passwords set by others that work once, tokens
that expire and are revoked, and the operator's checks. The browser's part (passkeys) is in
tests/browser/test_login_flow.py; single sign-on in tests/core/test_sign_on.py."""

import datetime
import io
import time

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tillit.core import logins
from tillit.core.models import ApiToken, AuditEntry, LoginRule
from tillit.core.policy import Refused
from tillit.core.services import create_token, grant_access
from tillit.registry import access

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def organisation_default(settings):
    settings.TILLIT_SECOND_FACTOR_ROLES = "grants"  # as shipped: every login with a grant shows a second factor
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code slows the next try by a second; tests type fast


@pytest.fixture
def local_admin(world):
    """Looks after side A: its region and its company (where the rep's workplace lies)."""
    admin = factories.user("local_admin_alfa")
    grant_access(admin, "local_admin", "org", world.a.region, actor=None, channel="system")
    grant_access(admin, "local_admin", "employer", world.a.company, actor=None, channel="system")
    return admin


def code_of(device, at=None) -> str:
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.time = at if at is not None else time.time()
    return f"{clock.token():06d}"


def password_step(client, user, password=factories.PASSWORD):
    return client.post(reverse("login"), {"username": user.username, "password": password})


def enrol(client, user) -> list[str]:
    """Through the enrolment step with an authenticator app; returns the recovery codes shown."""
    response = password_step(client, user)
    assert response.status_code == 302 and response.url == reverse("login_enrol")
    page = client.get(reverse("login_enrol"))
    device = page.context["device"]
    assert page.context["secret"].replace(" ", "") and "<svg" in page.content.decode()
    response = client.post(reverse("login_enrol"), {"device": device.pk, "code": code_of(device), "name": "phone"})
    assert response.status_code == 200
    return response.context["codes"]


def logged_in_as(client):
    return client.get(reverse("account")).context["user"] if client.get(reverse("account")).status_code == 200 \
        else None


def test_a_rep_who_must_have_a_factor_sets_one_up_before_anything_else(client, world):
    rep = world.a.rep
    response = password_step(client, rep)
    assert response.url == reverse("login_enrol")
    # Not logged in yet: every page sends the rep back to log in.
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("account")).url.startswith(reverse("login"))
    page = client.get(reverse("login_enrol"))
    wrong = client.post(reverse("login_enrol"), {"device": page.context["device"].pk, "code": "000000"})
    assert wrong.status_code == 400 and b"does not match" in wrong.content
    device = wrong.context["device"]
    done = client.post(reverse("login_enrol"), {"device": device.pk, "code": code_of(device), "name": "phone"})
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    assert client.get(reverse("account")).status_code == 200
    assert AuditEntry.objects.filter(action="core.factor.added", object_id=rep.pk).exists()


def test_a_member_is_offered_a_factor_not_made_to(client, world):
    member = factories.user("member_login")
    assert logins.roles_of(member) == {"self_service"}
    assert not logins.factor_required(member)
    assert password_step(client, member).url == reverse("home")


def test_the_next_login_asks_for_the_code_and_a_recovery_code_works_once(client, world):
    rep = world.a.rep
    codes = enrol(client, rep)
    client.logout()
    device = TOTPDevice.objects.get(user=rep, confirmed=True)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=False):
        assert password_step(client, rep).url == reverse("login_factor")
        assert client.get(reverse("home")).status_code == 302  # nothing before the factor
        assert client.post(reverse("login_factor"), {"code": "123456"}).status_code == 400
        response = client.post(reverse("login_factor"), {"code": code_of(device, time.time())})
        assert response.status_code == 302 and client.get(reverse("account")).status_code == 200
        client.logout()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10), tick=False):
        password_step(client, rep)
        assert client.post(reverse("login_factor"), {"code": codes[0]}).status_code == 302
        client.logout()
        password_step(client, rep)
        assert client.post(reverse("login_factor"), {"code": codes[0]}).status_code == 400  # used up
    assert AuditEntry.objects.filter(action="core.factor.recovery_code_used", object_id=rep.pk).count() == 1


def test_a_code_is_not_taken_twice_and_too_many_wrong_codes_start_over(client, world, settings):
    rep = world.a.rep
    enrol(client, rep)
    client.logout()
    device = TOTPDevice.objects.get(user=rep, confirmed=True)
    password_step(client, rep)
    # The code that confirmed the app cannot log in again in the same time step.
    assert client.post(reverse("login_factor"), {"code": code_of(device)}).status_code == 400
    settings.OTP_TOTP_THROTTLE_FACTOR = 1  # as shipped: after a wrong code even the right one waits a second
    assert client.post(reverse("login_factor"), {"code": code_of(device, time.time() + 30)}).status_code == 400
    for _ in range(3):
        client.post(reverse("login_factor"), {"code": "999999"})
    assert client.post(reverse("login_factor"), {"code": "999999"}).url == reverse("login")
    assert client.get(reverse("login_factor")).url == reverse("login")


def test_the_organisation_sets_the_rule_per_role(client, world):
    admin = world.admin
    client.force_login(admin)
    page = client.get(reverse("access_rights")).content.decode()
    assert 'name="factor_rep" aria-label' in page and 'name="factor_self_service"' in page
    form = {f"factor_{r['code']}": "on" for r in logins.rules() if r["code"] != "rep"}
    form["acr_self_service"] = "idporten-loa-high"
    assert client.post(reverse("access_login_rules"), form).status_code == 302
    assert not LoginRule.objects.get(role="rep").second_factor
    assert LoginRule.objects.get(role="self_service").min_acr == "idporten-loa-high"
    assert not logins.factor_required(world.a.rep)
    assert logins.factor_required(factories.user("a_member"))
    # A local administrator reads the rules and cannot change them.
    local = factories.user("local_beta")
    grant_access(local, "local_admin", "org", world.b.region, actor=None, channel="system")
    client.force_login(local)
    assert 'name="factor_rep"' not in client.get(reverse("access_rights")).content.decode()
    client.post(reverse("access_login_rules"), {"factor_rep": "on"})
    assert not LoginRule.objects.get(role="rep").second_factor


def test_a_local_administrator_resets_a_reps_factor_not_a_case_handlers(client, world, local_admin):
    for user in (world.a.rep, world.a.staff):
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(local_admin)
    page = client.get(reverse("access_user", args=[world.a.rep.pk])).content.decode()
    assert 'name="factors"' in page
    client.post(reverse("access_factors", args=[world.a.rep.pk]))
    assert not logins.has_factor(world.a.rep)
    assert AuditEntry.objects.filter(action="core.factor.reset", object_id=world.a.rep.pk, actor=local_admin).exists()
    # The case handler's grant is one a local administrator cannot give: no button, and the service refuses.
    page = client.get(reverse("access_user", args=[world.a.staff.pk])).content.decode()
    assert 'name="factors"' not in page
    client.post(reverse("access_factors", args=[world.a.staff.pk]))
    assert logins.has_factor(world.a.staff)
    with pytest.raises(Refused):
        access.reset_factors(local_admin, world.a.staff)
    # After the reset the rep's next login sets up a factor again.
    client.logout()
    assert password_step(client, world.a.rep).url == reverse("login_enrol")


def test_the_last_required_factor_stays_and_the_user_manages_their_own(client, world):
    rep = world.a.rep
    enrol(client, rep)
    device = TOTPDevice.objects.get(user=rep, confirmed=True)
    response = client.post(reverse("account_factor_remove"), {"kind": "totp", "pk": device.pk}, follow=True)
    assert b"must keep a second factor" in response.content and logins.has_factor(rep)
    # Another app, then the first one goes.
    page = client.get(reverse("account_factor"))
    second = page.context["device"]
    assert client.post(reverse("account_factor"), {"device": second.pk, "code": code_of(second)}).status_code == 302
    client.post(reverse("account_factor_remove"), {"kind": "totp", "pk": device.pk})
    assert list(TOTPDevice.objects.filter(user=rep, confirmed=True)) == [second]
    # Someone else's factor is not found through one's own page.
    other = TOTPDevice.objects.create(user=world.b.rep, name="x", confirmed=True)
    client.post(reverse("account_factor_remove"), {"kind": "totp", "pk": other.pk})
    assert TOTPDevice.objects.filter(pk=other.pk).exists()
    new = client.post(reverse("account_recovery_codes"))
    assert len(new.context["codes"]) == 10


def test_a_temporary_password_works_once_and_must_be_changed(client, world, local_admin, settings):
    settings.TILLIT_SECOND_FACTOR_ROLES = "none"
    user = factories.user("reader_alfa")
    grant_access(user, "viewer", "org", world.a.branch, actor=None, channel="system")
    _token, raw = create_token(user, "report")
    client.force_login(local_admin)
    temporary = client.post(reverse("access_password", args=[user.pk]), follow=True).context["temporary_password"]
    client.logout()
    assert not ApiToken.objects.get(user=user).usable  # a password reset by someone else revokes the tokens
    assert client.get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    response = password_step(client, user, temporary)
    assert response.url == reverse("login_password")
    assert client.get(reverse("home")).status_code == 302
    weak = client.post(reverse("login_password"), {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 400 and b"too short" in weak.content
    differ = client.post(reverse("login_password"), {"new_password1": "a-long-new-secret-1",
                                                     "new_password2": "a-long-new-secret-2"})
    assert differ.status_code == 400
    done = client.post(reverse("login_password"), {"new_password1": "a-long-new-secret-1",
                                                   "new_password2": "a-long-new-secret-1"})
    assert done.status_code == 302 and client.get(reverse("account")).status_code == 200
    client.logout()
    assert password_step(client, user, temporary).status_code == 200  # refused: the form again
    assert password_step(client, user, "a-long-new-secret-1").url == reverse("home")


def test_own_password_change_checks_the_present_one_and_the_validators(client, world):
    user = factories.user("changer")
    client.force_login(user)
    page = client.get(reverse("account")).content.decode()
    assert 'name="old_password"' in page
    wrong = client.post(reverse("account_password"), {"old_password": "nope", "new_password1": "another-long-one-9",
                                                      "new_password2": "another-long-one-9"})
    assert wrong.status_code == 400 and b"not your present password" in wrong.content
    common = client.post(reverse("account_password"), {"old_password": factories.PASSWORD,
                                                       "new_password1": "password123", "new_password2": "password123"})
    assert common.status_code == 400
    ok = client.post(reverse("account_password"), {"old_password": factories.PASSWORD,
                                                   "new_password1": "another-long-one-9",
                                                   "new_password2": "another-long-one-9"})
    assert ok.status_code == 302 and client.get(reverse("account")).status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password("another-long-one-9")
    assert AuditEntry.objects.filter(action="core.user.password_changed", object_id=user.pk).exists()


def test_a_session_ends_at_its_absolute_lifetime(client, world, settings):
    settings.TILLIT_SESSION_MAX_HOURS = 2
    user = factories.user("worker")
    client.force_login(user)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=100)):
        assert client.get(reverse("account")).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=130)):
        response = client.get(reverse("account"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert client.get(reverse("account")).status_code == 302  # logged out, not only redirected


def test_tokens_are_named_listed_expire_and_are_revoked(client, world):
    user = world.a.staff
    client.force_login(user)
    made = client.post(reverse("account_token"), {"name": "payroll sync", "days": 30})
    raw = made.context["raw"]
    token = made.context["token"]
    assert raw in made.content.decode() and token.expires_at.date() == (timezone.now() + datetime.timedelta(30)).date()
    assert client.post(reverse("account_token"), {"name": "x", "days": 5000}).status_code == 400
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/persons", **auth).status_code == 200
    page = client.get(reverse("account")).content.decode()
    assert "payroll sync" in page and token.prefix in page and raw not in page
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        assert client.get("/api/v1/persons", **auth).status_code == 401
    client.force_login(user)  # the session outlived its absolute lifetime on the way
    # Revoked on the user's page; someone else's token is not theirs to revoke.
    other, other_raw = create_token(world.b.staff, "theirs")
    client.post(reverse("account_token_revoke", args=[other.pk]))
    assert ApiToken.objects.get(pk=other.pk).usable
    client.post(reverse("account_token_revoke", args=[token.pk]))
    assert client.get("/api/v1/persons", **auth).status_code == 401
    assert AuditEntry.objects.filter(action="core.token.revoked", object_id=token.pk, actor=user).exists()
    assert AuditEntry.objects.filter(action="core.token.created", object_id=token.pk).exists()
    # The command line, and deactivating the login.
    call_command("token", "revoke", "--user", world.b.staff.username, "--prefix", other.prefix, stdout=io.StringIO())
    assert client.get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {other_raw}").status_code == 401
    _third, third_raw = create_token(world.b.staff, "third")
    world.b.staff.is_active = False
    world.b.staff.save()
    assert not ApiToken.objects.filter(user=world.b.staff, revoked_at__isnull=True).exists()
    out = io.StringIO()
    call_command("token", "list", "--user", world.b.staff.username, stdout=out)
    assert "theirs" in out.getvalue() and "revoked" in out.getvalue()


def test_check_deploy_fails_while_a_login_takes_the_demo_password(world, settings):
    from tillit.registry.demo import DEMO_PASSWORD

    for name, value in {"DEBUG": False, "HTTPS": True, "ALLOWED_HOSTS": ["tillit.example.org"],
                        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
                        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
                        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True,
                        "SECRET_KEY": "x" * 60 + "ABCDEFGHIJKLMNOP"}.items():
        setattr(settings, name, value)
    call_command("tillit_check", deploy=True, stdout=io.StringIO(), stderr=io.StringIO())  # passes as it is
    handler = factories.user("handler")
    handler.set_password(DEMO_PASSWORD)
    handler.save()
    with pytest.raises(Exception, match="tillit.E004"):
        call_command("tillit_check", deploy=True, stdout=io.StringIO(), stderr=io.StringIO())
    handler.set_password("a-real-secret-now")
    handler.save()
    call_command("tillit_check", deploy=True, stdout=io.StringIO(), stderr=io.StringIO())


def test_the_demo_refuses_a_production_configuration(settings):
    settings.TILLIT_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo", members=5, stdout=io.StringIO())


def test_the_django_admin_has_no_door_of_its_own_unless_turned_on(client, world):
    client.force_login(world.admin)
    assert client.get("/admin/").status_code == 404


def test_a_locked_out_login_is_told_whom_to_ask(client, world, settings):
    from tillit.registry.services import update_node

    settings.TILLIT_SUPPORT_CONTACT = "Member service, 815 00 000"
    update_node(world.a.region, {"support_contact": "Region Alfa's office, 815 11 111"}, actor=None, channel="system")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, world.a.staff, "wrong password")
    page = password_step(client, world.a.staff, "wrong password")
    assert page.status_code == 429 and "Region Alfa&#x27;s office, 815 11 111" in page.content.decode()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        page = password_step(client, world.b.staff, "wrong password")
    assert page.status_code == 429 and "Member service, 815 00 000" in page.content.decode()


def test_a_login_link_opens_only_a_login_without_a_password_and_the_old_address_hears_of_a_change(client, portal):
    from tillit.messaging.models import Message
    from tillit.portal.models import LoginLink
    from tillit.portal.services import update_contact

    user, person = portal.members_users[0]
    user.set_password("a-password-of-their-own")  # this member chose a password: it logs in with it, not a link
    user.save()
    client.post(reverse("portal_login_link"), {"email": person.email})
    assert not LoginLink.objects.filter(user=user).exists()
    other, other_person = portal.members_users[1]
    old = other_person.email
    update_contact(other_person, {"email": "new-address@example.org"}, user=other,
                   expected_version=other_person.version)
    other.refresh_from_db()
    assert other.email == "new-address@example.org"
    told = Message.objects.filter(address=old).latest("pk")
    assert "new-address@example.org" in told.body and "did not change it" in told.body
    assert AuditEntry.objects.filter(action="core.user.email_changed", object_id=other.pk).exists()


def test_a_local_administrator_lands_on_its_users(client, world, local_admin, settings):
    settings.TILLIT_SECOND_FACTOR_ROLES = "none"
    assert password_step(client, local_admin).url == reverse("home")
    assert client.get(reverse("home")).url == reverse("access_users")
    client.force_login(world.a.staff)
    assert client.get(reverse("home")).status_code == 200  # a case handler's own work


def test_a_malformed_passkey_answer_is_a_refusal_not_an_error(client, world):
    from tillit.core.models import Passkey

    rep = world.a.rep
    enrol(client, rep)
    client.logout()
    Passkey.objects.create(user=rep, name="key", credential_id="abc", public_key=b"x")
    password_step(client, rep)
    for answer in ("not json", "[1, 2]", '{"id": "abc", "response": {}}'):
        response = client.post(reverse("login_factor"), {"credential": answer})
        assert response.status_code == 400, answer
    assert client.get(reverse("account")).status_code == 302  # nobody logged in


def test_a_malformed_passkey_to_add_is_a_message_not_an_error(client, world):
    client.force_login(world.a.staff)
    client.get(reverse("account_factor"))
    for answer in ("not json", '{"id": "abc"}', '{"id": "abc", "rawId": "abc", "response": {}, "type": "x"}'):
        response = client.post(reverse("account_factor"), {"credential": answer, "name": "key"})
        assert response.status_code == 400 and b"could not be" in response.content, answer

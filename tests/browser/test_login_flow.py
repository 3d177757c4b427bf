"""A rep who must show a second factor, in Chromium: enrolment with an authenticator app, then logins with a code,
with a passkey (Chromium's virtual WebAuthn authenticator) and once with a recovery code."""

import base64
import time

import pytest
from django_otp.oath import TOTP

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for(secret: str, at: float) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    clock = TOTP(key)
    clock.time = at
    return f"{clock.token():06d}"


def password(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")


def log_out(page, base):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")


def test_a_rep_enrols_then_logs_in_with_a_code_a_passkey_and_a_recovery_code(live_server, page, world, settings,
                                                                              accessible):
    settings.TILLIT_SECOND_FACTOR_ROLES = "grants"
    settings.TILLIT_PUBLIC_URL = live_server.url  # the passkey's origin and relying party (localhost)
    base, rep = live_server.url, world.a.rep
    password(page, base, rep)
    page.wait_for_url(f"{base}/login/enrol/")
    accessible(page)
    secret = page.locator(".totp-secret").inner_text()
    page.fill("input[name=code]", code_for(secret, time.time()))
    page.click("text=Set up the app")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("text=I have kept them: continue")
    page.wait_for_url(f"{base}/reps/")

    # A passkey, added on the rep's own page with Chromium's virtual authenticator.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})
    page.goto(f"{base}/account/factor/")
    page.fill("form[data-passkey] input[name=name]", "laptop")
    page.click("text=Add a passkey")
    page.wait_for_url(f"{base}/account/")
    assert page.locator("tr[data-factor=passkey]").inner_text().startswith("Passkey")
    accessible(page)

    # The next login asks for the factor: a code from the app (the next time step: one code works once).
    log_out(page, base)
    password(page, base, rep)
    page.wait_for_url(f"{base}/login/factor/")
    accessible(page)
    page.fill("input[name=code]", code_for(secret, time.time() + 30))
    page.click("form:not([data-passkey]) button")
    page.wait_for_url(f"{base}/reps/")

    # With the passkey.
    log_out(page, base)
    password(page, base, rep)
    page.wait_for_url(f"{base}/login/factor/")
    page.click("text=Use a passkey or security key")
    page.wait_for_url(f"{base}/reps/")

    # With a recovery code, once; the same code again is refused.
    for attempt in range(2):
        log_out(page, base)
        password(page, base, rep)
        page.wait_for_url(f"{base}/login/factor/")
        page.fill("input[name=code]", codes[0])
        page.click("form:not([data-passkey]) button")
        if attempt == 0:
            page.wait_for_url(f"{base}/reps/")
        else:
            assert page.url == f"{base}/login/factor/"
            assert page.locator("p.error[role=alert]").first.is_visible()


@pytest.fixture(scope="module")
def provider_url():
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://127.0.0.1:{server.server_port}"


def test_staff_and_a_member_log_in_through_the_organisations_openid_provider(live_server, page, world, settings,
                                                                             provider_url, accessible):
    import requests

    from tillit.core.models import SignOnLink

    settings.TILLIT_PUBLIC_URL = live_server.url
    settings.TILLIT_SIGN_ON = {
        "entra": {"label": "Entra ID", "issuer": provider_url, "client_id": "tillit", "client_secret": "s",
                  "purpose": "staff"},
        "bankid": {"label": "BankID", "issuer": provider_url, "client_id": "tillit-people", "client_secret": "s",
                   "purpose": "people", "national_id_claim": "nin"}}
    base = live_server.url
    SignOnLink.objects.create(user=world.a.staff, issuer=provider_url, subject="oid-handler")
    requests.put(f"{provider_url}/users/oid-handler", json={"amr": ["mfa"]}, timeout=5)
    page.goto(f"{base}/login/")
    accessible(page)
    page.click("text=Log in with Entra ID")
    page.fill("input[name=sub]", "oid-handler")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{base}/")
    assert page.locator("header.top").inner_text()  # the staff workspace
    page.context.clear_cookies()

    member = next(p for p, _m in world.a.members if p.user_id is None and p.national_id)
    requests.put(f"{provider_url}/users/bankid-member", json={"nin": member.national_id}, timeout=5)
    page.goto(f"{base}/login/")
    page.click("text=Log in with BankID")
    page.fill("input[name=sub]", "bankid-member")
    page.click("button:has-text('Authorize')")
    page.wait_for_load_state()
    assert member.first_name in page.locator("main").inner_text()
    member.refresh_from_db()
    assert member.user is not None


def test_a_local_administrator_resets_a_reps_factor_and_not_a_case_handlers(live_server, page, world, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tillit.core.models import LoginRule
    from tillit.core.services import grant_access

    settings.TILLIT_SECOND_FACTOR_ROLES = "grants"
    admin = factories.user("local_admin_alfa")
    grant_access(admin, "local_admin", "org", world.a.region, actor=None, channel="system")
    grant_access(admin, "local_admin", "employer", world.a.company, actor=None, channel="system")
    LoginRule.objects.create(role="local_admin", second_factor=False)  # this organisation's choice, for brevity
    for user in (world.a.rep, world.a.staff):
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    base = live_server.url
    password(page, base, admin)
    page.wait_for_url(f"{base}/access/")  # a local administrator starts on its users
    page.goto(f"{base}/access/users/{world.a.rep.pk}/")
    page.click("button[name=factors]")
    assert "sets up a new one at the next login" in page.locator("p.flash").inner_text()
    assert not TOTPDevice.objects.filter(user=world.a.rep).exists()
    page.goto(f"{base}/access/users/{world.a.staff.pk}/")
    assert page.locator("button[name=factors]").count() == 0
    assert "looked after by an administrator over all of it" in page.locator("main").inner_text()
    assert TOTPDevice.objects.filter(user=world.a.staff).exists()

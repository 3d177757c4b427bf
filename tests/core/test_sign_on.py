"""Single sign-on against a real OpenID provider on 127.0.0.1 (oidc-provider-mock, an Authlib server): staff matched
by the link to their subject, members by the national id claim; and every refusal: wrong issuer, audience or nonce,
an expired or tampered token, too low an assurance level, a national id that matches nobody."""

import datetime
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import pytest
import requests
import time_machine
from django.urls import reverse
from django.utils import timezone

from tillit.core import sign_on
from tillit.core.models import AuditEntry, LoginRule, SignOnLink

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider_url():
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def providers(settings, provider_url):
    settings.TILLIT_SIGN_ON = {
        "entra": {"label": "Entra ID", "issuer": provider_url, "client_id": "tillit", "client_secret": "s3cret",
                  "purpose": "staff"},
        "bankid": {"label": "BankID", "issuer": provider_url, "client_id": "tillit-people", "client_secret": "s3cret",
                   "purpose": "people", "national_id_claim": "nin", "strong_acr": ("idporten-loa-high",)}}
    settings.TILLIT_SECOND_FACTOR_ROLES = "grants"
    return provider_url


def claims_for(provider_url, sub, **claims):
    assert requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=5).status_code == 204


def authorize(url: str, sub: str) -> str:
    """What a person does at the provider: chooses who they are. Returns where the provider sends the browser."""
    response = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]


def through_provider(client, name, sub, **query):
    """Start at Tillit, authorise at the provider, come back: Tillit's answer."""
    start = client.get(reverse("sign_on", args=[name]), query)
    assert start.status_code == 302
    back = urlsplit(authorize(start.url, sub))
    return client.get(back.path, parse_qs(back.query))


def test_the_request_carries_pkce_state_and_nonce(client, providers):
    start = client.get(reverse("sign_on", args=["entra"]))
    query = parse_qs(urlsplit(start.url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["tillit"]
    assert "Log in with Entra ID" in client.get(reverse("login")).content.decode()


def test_a_staff_user_links_the_account_then_logs_in_with_it(client, world, providers):
    staff = world.a.staff
    claims_for(providers, "staff-oid-1", email=staff.email or "x@example.org", amr=["pwd", "mfa"])
    # Unknown subject: refused (the organisation did not let sign-on create logins).
    refused = through_provider(client, "entra", "staff-oid-1")
    assert refused.status_code == 403 and b"not linked to a Tillit login" in refused.content
    client.force_login(staff)
    linked = through_provider(client, "entra", "staff-oid-1", link="1")
    assert linked.url == reverse("account")
    assert SignOnLink.objects.get(user=staff).subject == "staff-oid-1"
    assert AuditEntry.objects.filter(action="core.sign_on.linked", actor=staff).exists()
    client.logout()
    # The provider vouches for a second factor (amr "mfa"): straight in, without Tillit's own.
    done = through_provider(client, "entra", "staff-oid-1")
    assert done.status_code == 302 and client.get(reverse("account")).context["user"] == staff
    client.logout()
    # Without the provider's second factor, the staff login is taken through Tillit's own.
    claims_for(providers, "staff-oid-1", amr=["pwd"])
    assert through_provider(client, "entra", "staff-oid-1").url == reverse("login_enrol")
    # The same subject cannot be linked to a second login.
    client.force_login(world.b.staff)
    taken = through_provider(client, "entra", "staff-oid-1", link="1")
    assert taken.status_code == 403 and b"linked to another login" in taken.content
    # The owner sees the link on their page and removes it; then the subject opens nothing.
    client.force_login(staff)
    link = SignOnLink.objects.get(user=staff)
    assert "Entra ID" in client.get(reverse("account")).content.decode()
    client.post(reverse("account_sign_on_remove", args=[link.pk]))
    assert not SignOnLink.objects.filter(pk=link.pk).exists()
    assert AuditEntry.objects.filter(action="core.sign_on.unlinked", actor=staff).exists()


def test_unknown_subjects_may_be_given_a_login_without_grants(client, world, providers, settings):
    settings.TILLIT_SIGN_ON["entra"]["unknown"] = "create"
    claims_for(providers, "newcomer", preferred_username="newcomer@org.example")
    done = through_provider(client, "entra", "newcomer")
    assert done.status_code == 302
    user = SignOnLink.objects.get(subject="newcomer").user
    assert user.username == "newcomer@org.example" and not user.has_usable_password() and not user.grants.exists()


def test_a_member_logs_in_with_the_national_id_and_lands_on_their_own_page(client, world, providers):
    person = next(p for p, _m in world.a.members if p.user_id is None and p.national_id)
    claims_for(providers, "bankid-1", nin=person.national_id, acr="idporten-loa-high")
    done = through_provider(client, "bankid", "bankid-1")
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.user is not None and not person.user.has_usable_password()
    page = client.get(reverse("home"), follow=True)
    assert page.status_code == 200 and person.first_name in page.content.decode()
    # The next time the same login is used, not a second one.
    client.logout()
    through_provider(client, "bankid", "bankid-1")
    person.refresh_from_db()
    assert SignOnLink.objects.filter(user=person.user).count() == 1


def test_refusals_at_the_door(client, world, providers):
    person = next(p for p, _m in world.a.members if p.user_id is None and p.national_id)
    import random

    from tillit.registry.demo import norwegian_id

    unknown = norwegian_id(random.Random(5), datetime.date(1961, 3, 4))  # valid, and nobody's in the world
    claims_for(providers, "nobody", nin=unknown)
    assert b"no member or case of yours" in through_provider(client, "bankid", "nobody").content
    claims_for(providers, "no-id", email="x@example.org")
    assert b"no national identity number" in through_provider(client, "bankid", "no-id").content
    # Too low an assurance level for members, where the organisation asks for a high one.
    LoginRule.objects.create(role="self_service", second_factor=False, min_acr="idporten-loa-high")
    claims_for(providers, "low", nin=person.national_id, acr="idporten-loa-substantial")
    low = through_provider(client, "bankid", "low")
    assert low.status_code == 403 and b"stronger identification" in low.content
    assert client.get(reverse("account")).status_code == 302  # nobody logged in
    # A provider's answer that belongs to no flow of this browser (a replay, or another browser's).
    start = client.get(reverse("sign_on", args=["entra"]))
    back = urlsplit(authorize(start.url, "someone"))
    other = type(client)()
    replay = other.get(back.path, parse_qs(back.query))
    assert replay.status_code == 403 and b"does not belong to this browser" in replay.content
    # The provider refusing (the person pressed "deny").
    start = client.get(reverse("sign_on", args=["entra"]))
    denied = requests.post(start.url, data={"action": "deny"}, allow_redirects=False, timeout=5)
    back = urlsplit(denied.headers["Location"])
    assert b"did not log you in" in client.get(back.path, parse_qs(back.query)).content


def _real_id_token(client, providers, nonce_holder):
    """An ID token the provider really issued to Tillit's client, with the nonce Tillit sent."""
    claims_for(providers, "checked", email="c@example.org")
    start = client.get(reverse("sign_on", args=["entra"]))
    query = parse_qs(urlsplit(start.url).query)
    flow = client.session[sign_on.STATES][query["state"][0]]
    code = parse_qs(urlsplit(authorize(start.url, "checked")).query)["code"][0]
    p = sign_on.provider("entra")
    meta = sign_on.metadata(p)
    nonce_holder.append(flow["nonce"])
    return p, meta, sign_on.exchange(p, meta, code, flow["verifier"])["id_token"]


def test_the_id_token_is_checked_for_issuer_audience_nonce_time_and_signature(client, providers, settings):
    import dataclasses

    nonces = []
    p, meta, token = _real_id_token(client, providers, nonces)
    nonce = nonces[0]
    assert sign_on.verify_id_token(p, meta, token, nonce)["sub"] == "checked"
    cases = {
        "another issuer": (dataclasses.replace(p, issuer="https://login.example.org"), token, nonce),
        "another service": (dataclasses.replace(p, client_id="someone-else"), token, nonce),
        "this browser": (p, token, "another-nonce"),
        "not signed by it": (p, token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"), nonce),
    }
    header, payload, signature = token.split(".")
    cases["not signed by it (claims changed)"] = (p, ".".join([header, payload[:-4] + "abcd", signature]), nonce)
    for why, (provider, text, expected_nonce) in cases.items():
        with pytest.raises(sign_on.SignOnRefused) as refused:
            sign_on.verify_id_token(provider, meta, text, expected_nonce)
        assert why.split(" (")[0] in refused.value.message, why
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        with pytest.raises(sign_on.SignOnRefused, match="expired"):
            sign_on.verify_id_token(p, meta, token, nonce)


def test_a_provider_naming_another_issuer_is_refused(client, providers, settings):
    settings.TILLIT_SIGN_ON["entra"]["issuer"] = providers + "/"  # the provider says it is the issuer without the /
    refused = client.get(reverse("sign_on", args=["entra"]))
    assert refused.status_code == 502 and b"another issuer" in refused.content
    assert client.get(reverse("sign_on", args=["nosuch"])).status_code == 404  # no such provider at all


def test_private_key_jwt_signs_the_token_request(client, providers, settings, monkeypatch):
    """With a private key configured the client authenticates by a signed assertion, never a secret. The test
    provider knows no private_key_jwt clients (it answers invalid_client, and nobody is logged in), so what is
    checked is the request Tillit sends it: the assertion verifies with the public key and names the client and
    the token endpoint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    settings.TILLIT_SIGN_ON["entra"].update(client_secret="", private_key=pem, unknown="create")
    claims_for(providers, "with-key", preferred_username="keyed")
    sent = []
    original = requests.Session.send

    def watch(self, request, **kwargs):
        sent.append(request)
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", watch)  # watches what goes to the real provider
    refused = through_provider(client, "entra", "with-key")
    assert refused.status_code == 403 and client.get(reverse("account")).status_code == 302
    token_request = next(r for r in sent if r.url.endswith("/oauth2/token"))
    body = parse_qs(token_request.body if isinstance(token_request.body, str) else token_request.body.decode())
    assert body["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert "Authorization" not in token_request.headers and "client_secret" not in body
    public = RSAKey.import_key(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assertion = jwt.decode(body["client_assertion"][0], public).claims
    assert assertion["iss"] == assertion["sub"] == "tillit"
    assert assertion["aud"] == f"{providers}/oauth2/token" and assertion["jti"] and assertion["exp"] > assertion["iat"]
    assert body["code_verifier"][0]

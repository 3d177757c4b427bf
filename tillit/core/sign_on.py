"""Single sign-on through OpenID Connect: staff with the organisation's identity provider (Entra ID or any OIDC
provider), members and citizens through a broker for BankID or ID-porten.

Each provider is configured in settings (TILLIT_SIGN_ON, from TILLIT_OIDC_<NAME>_* variables) with what it is for:
- `staff`: a subject is matched to a Tillit login by the link (issuer, `sub`) made when the user linked it from
  their own page, never by a name or an email; an unknown subject is refused, or (`unknown: create`) given a new
  login without grants.
- `people`: the national id claim (`pid` for ID-porten, configurable) is matched to the one person with that id,
  whose own login is used (or made, without a password: a self-service login).

Every flow is the authorisation code flow with PKCE (S256), `state` and `nonce`; the ID token's signature (the
provider's published keys), issuer, audience, expiry and nonce are checked here. The client authenticates with
its secret, or with a signed assertion (`private_key_jwt`) where the provider asks for it. A provider may be required
to vouch for an assurance level (`acr`) per role (core.LoginRule.min_acr); an `acr` it lists as strong, or an `amr`
of "mfa", counts as the second factor.
"""

import dataclasses
import secrets
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tillit.core import audit
from tillit.core.errors import DomainError
from tillit.core.kept import kept
from tillit.core.logins import roles_of
from tillit.core.models import LoginRule, SignOnLink
from tillit.registry.identity import parse_national_id
from tillit.registry.models import Person

STATES = "tillit_sign_on"
STATE_SECONDS = 600
LEEWAY = 60  # seconds of clock difference allowed on exp/iat
TIMEOUT = 10


class SignOnRefused(DomainError):
    """The provider's answer does not log anyone in: the message says why, for the person at the browser."""


@dataclasses.dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = ""
    private_key: str = ""  # PEM: the client authenticates with private_key_jwt instead of the secret
    purpose: str = "staff"  # "staff" or "people"
    unknown: str = "refuse"  # staff: "refuse" or "create" a login without grants for an unknown subject
    national_id_claim: str = "pid"
    scope: str = "openid profile email"
    acr_values: str = ""  # asked of the provider in the request (e.g. "idporten-loa-high")
    strong_acr: tuple = ()  # acr values that count as a second factor


def providers() -> dict[str, Provider]:
    return {name: Provider(name=name, **config) for name, config in settings.TILLIT_SIGN_ON.items()}


def provider(name: str) -> Provider:
    found = providers().get(name)
    if found is None:
        raise SignOnRefused(_("No such sign-on."))
    return found


def metadata(p: Provider) -> dict:
    """The provider's discovery document, kept for an hour; its issuer must be the configured one."""
    def read():
        try:
            response = requests.get(p.issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=TIMEOUT)
            response.raise_for_status()
            found = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SignOnRefused(_("The identity provider does not answer. Try again later.")) from exc
        if not isinstance(found, dict) or found.get("issuer") != p.issuer:
            raise SignOnRefused(_("The identity provider names another issuer than the one configured."))
        return found

    return kept(f"tillit:oidc:{p.issuer}", 3600, read)


def _keys(meta: dict) -> KeySet:
    response = requests.get(meta["jwks_uri"], timeout=TIMEOUT)
    response.raise_for_status()
    return KeySet.import_key_set(response.json())


def redirect_uri() -> str:
    return settings.TILLIT_PUBLIC_URL.rstrip("/") + reverse("sign_on_return")


def start(request, name: str, *, next_url: str = "", link: bool = False) -> str:
    """The provider's authorisation URL for a new flow; its state, nonce and PKCE verifier stay in the session."""
    p = provider(name)
    meta = metadata(p)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    flows = {k: v for k, v in request.session.get(STATES, {}).items() if time.time() - v["at"] < STATE_SECONDS}
    flows[state] = {"provider": name, "nonce": nonce, "verifier": verifier, "next": next_url, "link": link,
                    "at": int(time.time())}
    request.session[STATES] = dict(list(flows.items())[-5:])  # a few tabs at once, no more
    params = {"response_type": "code", "client_id": p.client_id, "redirect_uri": redirect_uri(), "scope": p.scope,
              "state": state, "nonce": nonce, "code_challenge": create_s256_code_challenge(verifier),
              "code_challenge_method": "S256"}
    if p.acr_values:
        params["acr_values"] = p.acr_values
    return requests.Request("GET", meta["authorization_endpoint"], params=params).prepare().url


def exchange(p: Provider, meta: dict, code: str, verifier: str) -> dict:
    """The token response for an authorisation code (the client authenticated as the provider asks)."""
    endpoint = meta["token_endpoint"]
    if p.private_key:
        session = OAuth2Session(p.client_id, p.private_key, token_endpoint_auth_method="private_key_jwt")
        session.register_client_auth_method(PrivateKeyJWT(endpoint))
    else:
        session = OAuth2Session(p.client_id, p.client_secret)
    try:
        return session.fetch_token(endpoint, grant_type="authorization_code", code=code, redirect_uri=redirect_uri(),
                                   code_verifier=verifier, timeout=TIMEOUT)
    except Exception as exc:  # the provider refused the code or did not answer: the same to the user
        raise SignOnRefused(_("The identity provider did not accept the login. Try again.")) from exc


def verify_id_token(p: Provider, meta: dict, id_token: str, nonce: str, keys: KeySet | None = None) -> dict:
    """The ID token's claims, once its signature, issuer, audience, time and nonce hold."""
    try:
        token = jwt.decode(id_token, keys or _keys(meta))
    except (JoseError, ValueError, requests.RequestException) as exc:
        raise SignOnRefused(_("The identity provider's answer is not signed by it.")) from exc
    claims = token.claims
    checks = {"iss": (claims.get("iss") == p.issuer, _("The login comes from another issuer.")),
              "aud": (p.client_id in _audiences(claims), _("The login was meant for another service.")),
              "nonce": (bool(nonce) and claims.get("nonce") == nonce,
                        _("The login does not belong to this browser. Start again.")),
              "exp": (isinstance(claims.get("exp"), (int, float)) and claims["exp"] + LEEWAY > time.time(),
                      _("The login has expired. Start again.")),
              "iat": (isinstance(claims.get("iat"), (int, float)) and claims["iat"] - LEEWAY < time.time(),
                      _("The login is dated in the future.")),
              "sub": (bool(claims.get("sub")), _("The identity provider named nobody."))}
    for ok, message in checks.values():
        if not ok:
            raise SignOnRefused(message)
    if len(_audiences(claims)) > 1 and claims.get("azp") != p.client_id:
        raise SignOnRefused(_("The login was meant for another service."))
    return claims


def _audiences(claims) -> list:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else list(aud or [])


def finish(request, params) -> tuple:
    """The user the provider's answer names, whether it vouched for a second factor, where to go and whether the
    flow linked a logged-in user; or a refusal. `params`: the query the provider sent the browser back with."""
    flows = request.session.get(STATES, {})
    flow = flows.pop(params.get("state", ""), None)
    request.session[STATES] = flows
    if params.get("error"):  # the person said no at the provider, or it refused: nobody is logged in
        raise SignOnRefused(_("The identity provider did not log you in (%(error)s).")
                            % {"error": params["error"][:100]})
    if flow is None or time.time() - flow["at"] > STATE_SECONDS:
        raise SignOnRefused(_("The login does not belong to this browser, or took too long. Start again."))
    p = provider(flow["provider"])
    meta = metadata(p)
    tokens = exchange(p, meta, params.get("code", ""), flow["verifier"])
    claims = verify_id_token(p, meta, tokens.get("id_token", ""), flow["nonce"])
    if flow["link"]:
        user = link(request.user, p, claims)
    elif p.purpose == "people":
        user = person_login(p, claims)
    else:
        user = staff_login(p, claims)
    require_assurance(user, claims)
    strong = claims.get("acr") in p.strong_acr or "mfa" in (claims.get("amr") or [])
    return user, strong, flow["next"], flow["link"]


def require_assurance(user, claims) -> None:
    """Each role the login holds may ask for an assurance level; the login must carry one of those asked."""
    asked = [rule for rule in LoginRule.objects.filter(role__in=roles_of(user)).exclude(min_acr="")]
    for rule in asked:
        allowed = {value.strip() for value in rule.min_acr.split(",") if value.strip()}
        if claims.get("acr") not in allowed:
            raise SignOnRefused(_("This login needs a stronger identification (%(acr)s). Log in with that.")
                                % {"acr": ", ".join(sorted(allowed))})


@transaction.atomic
def link(user, p: Provider, claims) -> object:
    """Link the logged-in `user` to the provider's subject (from their own page)."""
    if not getattr(user, "is_authenticated", False):
        raise SignOnRefused(_("Log in first, then link your account."))
    found = SignOnLink.objects.filter(issuer=p.issuer, subject=claims["sub"]).first()
    if found is not None and found.user_id != user.pk:
        raise SignOnRefused(_("This account at the identity provider is linked to another login."))
    if found is None:
        try:
            with transaction.atomic():
                made = SignOnLink.objects.create(user=user, issuer=p.issuer, subject=claims["sub"])
        except IntegrityError as exc:
            raise SignOnRefused(_("This account at the identity provider is linked to another login.")) from exc
        audit.record("core.sign_on.linked", made, actor=user, channel="ui",
                     changes={"provider": [None, p.name], "user": [None, user.pk]})
    return user


def staff_login(p: Provider, claims):
    found = SignOnLink.objects.select_related("user").filter(issuer=p.issuer, subject=claims["sub"]).first()
    if found is not None:
        if not found.user.is_active:
            raise SignOnRefused(_("This login is closed."))
        SignOnLink.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        return found.user
    if p.unknown != "create":
        raise SignOnRefused(_("Your account at %(provider)s is not linked to a Tillit login. Log in with your "
                              "password once and link it from your own page, or ask your administrator.")
                            % {"provider": p.label})
    return _new_login(p, claims, person=None)


def person_login(p: Provider, claims):

    raw = str(claims.get(p.national_id_claim) or "")
    try:
        national_id, _country, _birth = parse_national_id(raw)
    except ValueError as exc:
        raise SignOnRefused(_("The identity provider gave no national identity number.")) from exc
    people = list(Person.objects.filter(national_id=national_id).select_related("user")[:2])
    if len(people) != 1:
        raise SignOnRefused(_("We find no member or case of yours under this identity. Contact member service."))
    person = people[0]
    if person.user is not None:
        if not person.user.is_active:
            raise SignOnRefused(_("This login is closed."))
        return person.user
    return _new_login(p, claims, person=person)


@transaction.atomic
def _new_login(p: Provider, claims, *, person):
    """A login without grants or password for a subject the provider vouches for (a person's own, or a staff
    login the organisation lets sign-on create), linked to the subject."""
    User = get_user_model()
    base = (claims.get("preferred_username") or claims.get("email") or f"{p.name}-{claims['sub']}")[:120]
    username = base
    while User.objects.filter(username=username).exists():
        username = f"{base[:110]}-{secrets.token_hex(3)}"
    user = User.objects.create_user(username=username, email=(person.email if person else claims.get("email")) or "")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    if person is not None:
        Person.objects.filter(pk=person.pk, user__isnull=True).update(user=user)
    made = SignOnLink.objects.create(user=user, issuer=p.issuer, subject=claims["sub"])
    audit.record("core.sign_on.login_made", made, actor=None, channel="system",
                 changes={"provider": [None, p.name], "user": [None, user.pk]},
                 person_id=person.pk if person else None)
    return user


@transaction.atomic
def unlink(user, pk: int) -> None:
    found = SignOnLink.objects.filter(pk=pk, user=user).first()
    if found is None:
        raise SignOnRefused(_("No such link."))
    audit.record("core.sign_on.unlinked", found, actor=user, channel="ui")
    found.delete()


def links_of(user) -> list[dict]:
    by_issuer = {p.issuer: p for p in providers().values()}
    return [{"pk": link.pk, "label": by_issuer[link.issuer].label if link.issuer in by_issuer else link.issuer,
             "created_at": link.created_at, "last_used_at": link.last_used_at}
            for link in SignOnLink.objects.filter(user=user).order_by("pk")]


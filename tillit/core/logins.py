"""Logging in, step by step: who must show a second factor, the factors a login holds, and the steps between a
password (or a sign-on, or a login link) and a session.

A login is not started until every step is done: the password (or identity provider) only names the user, kept
in the session as *pending* for a few minutes. The steps, in order:

- `factor`: show a factor the login holds (an authenticator code, a passkey, or a one-time recovery code);
- `password`: choose a new password, when someone else chose the current one (it opened this one login);
- `enrol`: set up a factor, when the login's roles require one and it has none yet.

The factors: authenticator apps (TOTP, django-otp's device), passkeys and security keys (WebAuthn, py_webauthn),
and ten recovery codes (django-otp's static device; each works once). Every factor added or removed is in the
audit trail.
"""

import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tillit.core import audit
from tillit.core.errors import DomainError, InvalidInput
from tillit.core.models import SELF_SERVICE, LoginRule, Passkey
from tillit.core.scopes import ROLES, held_roles

BACKEND = "tillit.core.backends.KeptUserBackend"
PENDING = "tillit_login"
PENDING_SECONDS = 600  # the steps after the password must be done within ten minutes
RECOVERY_CODES = 10
FACTOR, PASSWORD, ENROL = "factor", "password", "enrol"


# --- who must show a factor -------------------------------------------------------------------------------------

def default_rule(role: str) -> bool:
    chosen = settings.TILLIT_SECOND_FACTOR_ROLES.strip()
    if chosen in ("grants", "all", "none"):
        return chosen == "all" or (chosen == "grants" and role != SELF_SERVICE)
    return role in {r.strip() for r in chosen.split(",")}


def rules() -> list[dict]:
    """Each role (and self-service) with whether it must show a second factor and the least `acr`: the
    organisation's rule where it set one, else the default."""
    kept = {r.role: r for r in LoginRule.objects.all()}
    out = []
    for code, label in [*((c, lbl) for c, (lbl, _perms) in ROLES.items()), (SELF_SERVICE, _("Members and citizens"))]:
        rule = kept.get(code)
        out.append({"code": code, "label": label, "set": rule is not None,
                    "second_factor": rule.second_factor if rule else default_rule(code),
                    "min_acr": rule.min_acr if rule else ""})
    return out


def roles_of(user) -> set[str]:
    roles = set(held_roles(user))
    if user.is_superuser:
        roles.add("admin")
    return roles or {SELF_SERVICE}


def factor_required(user) -> bool:
    roles = roles_of(user)
    kept = dict(LoginRule.objects.filter(role__in=roles).values_list("role", "second_factor"))
    return any(kept.get(role, default_rule(role)) for role in roles)


@transaction.atomic
def set_rule(role: str, *, second_factor: bool, min_acr: str = "", actor) -> LoginRule:
    from tillit.core.policy import require
    from tillit.registry.access import may_configure

    require(may_configure(actor), _("Only the system owner sets what logins must show."))
    if role not in ROLES and role != SELF_SERVICE:
        raise InvalidInput(_("No such role."), field_errors={"role": [_("No such role.")]})
    rule, _created = LoginRule.objects.get_or_create(role=role, defaults={"second_factor": second_factor})
    changes = audit.diff(rule, {"second_factor": second_factor, "min_acr": min_acr.strip()})
    rule.save()
    audit.record("core.login_rule.changed", rule, actor=actor, channel="ui", changes=changes)
    return rule


# --- the factors a login holds ----------------------------------------------------------------------------------

def factors_of(user) -> dict:
    return {"totp": list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")),
            "passkeys": list(Passkey.objects.filter(user=user).order_by("pk")),
            "recovery_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count()}


def has_factor(user) -> bool:
    return (TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            or Passkey.objects.filter(user=user).exists())


def new_totp(user) -> TOTPDevice:
    """An authenticator to set up: unconfirmed until the user types its first code (replacing any earlier one
    left unconfirmed)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


def totp_qr_svg(device: TOTPDevice) -> str:
    import segno

    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    import base64

    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


@transaction.atomic
def confirm_totp(user, device_id, code: str, name: str = "") -> list[str] | None:
    """Confirm the authenticator being set up with its first code. Returns new recovery codes when the login had
    none yet (shown once), else None."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        raise InvalidInput(_("Start the setup again."), field_errors={"code": [_("Start the setup again.")]})
    if not device.verify_token(_digits(code)):
        raise InvalidInput(_("The code does not match. Check the time on your phone and type the newest code."),
                           field_errors={"code": [_("The code does not match.")]})
    device.confirmed = True
    device.name = (name or "").strip()[:64] or _("Authenticator app")
    device.save(update_fields=["confirmed", "name"])
    audit.record("core.factor.added", user, actor=user, channel="ui", changes={"factor": [None, "totp"]})
    return None if _recovery_device(user) else new_recovery_codes(user)


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code or "") if ch.isdigit())[:10]


def _recovery_device(user):
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Ten new one-time recovery codes; the earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit.record("core.factor.recovery_codes", user, actor=user, channel="ui")
    return codes


def verify_code(user, code: str) -> str | None:
    """Which factor `code` proves ("totp" or "recovery"), or None. A recovery code is used up; a TOTP code is not
    accepted twice (django-otp keeps the last time step), and repeated failures slow the device down."""
    code = (code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    digits = _digits(code)
    if digits == code:
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(digits):
                return "totp"
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None and device.verify_token(code):
            audit.record("core.factor.recovery_code_used", user, actor=user, channel="ui")
            return "recovery"
    return None


@transaction.atomic
def remove_factor(user, kind: str, pk: int, *, actor) -> None:
    """The user removes one of their own factors; not the last one where their roles require a factor."""
    model = {"totp": TOTPDevice, "passkey": Passkey}.get(kind)
    found = model.objects.filter(pk=pk, user=user).first() if model else None
    if found is None:
        raise InvalidInput(_("No such factor."), field_errors={"factor": [_("No such factor.")]})
    others = factors_of(user)
    count = len(others["totp"]) + len(others["passkeys"])
    if count <= 1 and factor_required(user):
        raise DomainError(_("Your login must keep a second factor: add another one before you remove this."))
    found.delete()
    audit.record("core.factor.removed", user, actor=actor, channel="ui", changes={"factor": [kind, None]})


@transaction.atomic
def reset_factors(user, *, actor) -> int:
    """Remove every factor of `user` (a lost phone): the next login sets one up again. The caller checks the
    actor's right (registry.access.reset_factors)."""
    removed = (TOTPDevice.objects.filter(user=user).delete()[0] + Passkey.objects.filter(user=user).delete()[0]
               + StaticDevice.objects.filter(user=user).delete()[0])
    audit.record("core.factor.reset", user, actor=actor, channel="ui")
    return removed


# --- passkeys (WebAuthn) ------------------------------------------------------------------------------------------

def _origin() -> str:
    return settings.TILLIT_PUBLIC_URL.rstrip("/")


def _rp_id() -> str:
    return settings.TILLIT_WEBAUTHN_RP_ID or urlsplit(settings.TILLIT_PUBLIC_URL).hostname or "localhost"


def passkey_registration(request, user) -> str:
    """The options for the browser's `navigator.credentials.create`, as JSON; the challenge stays in the session."""
    options = generate_registration_options(
        rp_id=_rp_id(), rp_name="Tillit", user_name=user.get_username(),
        user_id=str(user.pk).encode(), user_display_name=user.get_full_name() or user.get_username(),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in Passkey.objects.filter(user=user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED))
    request.session["tillit_passkey_challenge"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


@transaction.atomic
def add_passkey(request, user, credential: str, name: str) -> list[str] | None:
    """Verify the browser's new credential against the challenge given; keep its public key. Returns new recovery
    codes when the login had none yet."""
    challenge = request.session.pop("tillit_passkey_challenge", "")
    try:
        verified = verify_registration_response(
            credential=_json(credential), expected_challenge=base64url_to_bytes(challenge),
            expected_origin=_origin(), expected_rp_id=_rp_id())
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:  # any malformed or wrong answer
        raise InvalidInput(_("The passkey could not be added: %(why)s") % {"why": exc},
                           field_errors={"credential": [_("Try again.")]}) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise InvalidInput(_("This passkey is already added."), field_errors={"credential": [_("Already added.")]})
    Passkey.objects.create(user=user, name=(name or "").strip()[:100] or _("Passkey"), credential_id=credential_id,
                           public_key=verified.credential_public_key, sign_count=verified.sign_count)
    audit.record("core.factor.added", user, actor=user, channel="ui", changes={"factor": [None, "passkey"]})
    return None if _recovery_device(user) else new_recovery_codes(user)


def passkey_authentication(request, user) -> str:
    options = generate_authentication_options(
        rp_id=_rp_id(), user_verification=UserVerificationRequirement.PREFERRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                           for p in Passkey.objects.filter(user=user)])
    request.session["tillit_passkey_challenge"] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


@transaction.atomic
def verify_passkey(request, user, credential: str) -> bool:
    challenge = request.session.pop("tillit_passkey_challenge", "")
    try:
        data = _json(credential)
    except InvalidInput:  # not the browser's answer: no passkey shown
        return False
    passkey = Passkey.objects.select_for_update().filter(user=user, credential_id=str(data.get("id", ""))).first()
    if passkey is None or not challenge:
        return False
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=base64url_to_bytes(challenge), expected_origin=_origin(),
            expected_rp_id=_rp_id(), credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError):  # any malformed or wrong answer
        return False
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return True


def _json(text) -> dict:
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvalidInput(_("The browser's answer could not be read."), field_errors={"credential": [_("Invalid.")]})
    return data


# --- the steps between naming the user and the session ----------------------------------------------------------

def steps_for(user, *, factor_shown: bool = False, chose_password: bool = True) -> list[str]:
    """What the login must still do. `factor_shown`: the identity provider vouched for a second factor.
    `chose_password`: the user named themselves by password (a password set by someone else must be replaced)."""
    steps = []
    holds = has_factor(user)
    if holds and not factor_shown:
        steps.append(FACTOR)
    if chose_password and user.must_change_password:
        steps.append(PASSWORD)
    if not holds and not factor_shown and factor_required(user):
        steps.append(ENROL)
    return steps


def begin(request, user, *, next_url: str = "", factor_shown: bool = False, chose_password: bool = True,
          method: str = "password") -> str | None:
    """Start logging `user` in. Returns None when the session is started; else the URL of the first step left."""
    steps = steps_for(user, factor_shown=factor_shown, chose_password=chose_password)
    if not steps:
        finish(request, user, method)
        return None
    request.session[PENDING] = {"user": user.pk, "steps": steps, "at": int(time.time()), "next": next_url,
                                "method": method}
    return step_url(steps[0])


def step_url(step: str) -> str:
    from django.urls import reverse

    return reverse({FACTOR: "login_factor", PASSWORD: "login_password", ENROL: "login_enrol"}[step])


def pending(request):
    """(user, state) of the login in progress, or (None, None) when there is none or it took too long."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict) or time.time() - state.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=state.get("user"), is_active=True).first()
    return (user, state) if user is not None else (None, None)


def done(request, user, step: str) -> str:
    """Mark `step` done; returns where to go next (the next step, or the page asked for once logged in)."""
    from django.urls import reverse

    state = request.session.get(PENDING) or {}
    steps = [s for s in state.get("steps", []) if s != step]
    if step == FACTOR:  # a login that holds a factor is not asked to set one up
        steps = [s for s in steps if s != ENROL]
    if steps:
        request.session[PENDING] = {**state, "steps": steps}
        request.session.modified = True
        return step_url(steps[0])
    next_url = state.get("next") or reverse(settings.LOGIN_REDIRECT_URL)
    finish(request, user, state.get("method", "password"))
    return next_url


def finish(request, user, method: str) -> None:
    request.session.pop(PENDING, None)
    login(request, user, backend=BACKEND)  # starts the session's clocks (core.middleware.start_idle_clock)
    request.session["tillit_login_method"] = method

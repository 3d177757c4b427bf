"""The steps of logging in after the password (a second factor, a new password, setting up a factor), and the
login's own page: its factors, recovery codes, password and API tokens."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from tillit.core import audit, logins
from tillit.core import sign_on as sign_on_flow
from tillit.core.errors import DomainError
from tillit.core.models import ApiToken
from tillit.core.services import create_token, revoke_own_token

FAILURES_PER_LOGIN = 5  # wrong codes before the login starts again from the password


def _pending_or_login(request):
    user, state = logins.pending(request)
    if user is None:
        messages.info(request, _("Log in again: the login took too long or was not started."))
    return user, state


def login_factor(request):
    """Show a second factor: a code from the authenticator app or a recovery code, or a passkey."""
    user, state = _pending_or_login(request)
    if user is None or logins.FACTOR not in state["steps"]:
        return redirect("login")
    error = ""
    if request.method == "POST":
        if request.POST.get("credential"):
            shown = "passkey" if logins.verify_passkey(request, user, request.POST["credential"]) else None
        else:
            shown = logins.verify_code(user, request.POST.get("code", ""))
        if shown:
            return HttpResponseRedirect(logins.done(request, user, logins.FACTOR))
        state["failures"] = state.get("failures", 0) + 1
        if state["failures"] >= FAILURES_PER_LOGIN:
            request.session.pop(logins.PENDING, None)
            messages.error(request, _("Too many wrong codes. Log in again."))
            return redirect("login")
        request.session[logins.PENDING] = state
        error = _("The code or passkey was not accepted. Type the newest code from your app, or a recovery code.")
    factors = logins.factors_of(user)
    options = logins.passkey_authentication(request, user) if factors["passkeys"] else ""
    return render(request, "core/login_factor.html", {
        "error": error, "has_totp": bool(factors["totp"]), "passkey_options": options,
        "recovery_left": factors["recovery_left"]}, status=400 if error else 200)


class NewPasswordForm(forms.Form):
    new_password1 = forms.CharField(label=gettext_lazy("New password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=gettext_lazy("The new password again"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two passwords differ."))
        elif one:
            try:
                password_validation.validate_password(one, self.user)
            except forms.ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


@transaction.atomic
def _set_own_password(user, password: str) -> None:
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit.record("core.user.password_changed", user, actor=user, channel="ui")


def login_password(request):
    """Choose a new password: the one used was set by someone else and opened this one login."""
    user, state = _pending_or_login(request)
    if user is None or logins.PASSWORD not in state["steps"]:
        return redirect("login")
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _set_own_password(user, form.cleaned_data["new_password1"])
        return HttpResponseRedirect(logins.done(request, user, logins.PASSWORD))
    return render(request, "core/login_password.html", {"form": form}, status=400 if form.errors else 200)


def _enrol_context(request, user, device=None, *, error=""):
    device = device or logins.new_totp(user)
    return {"device": device, "qr": logins.totp_qr_svg(device), "secret": logins.totp_secret(device),
            "passkey_options": logins.passkey_registration(request, user), "error": error}


def login_enrol(request):
    """Set up a second factor before anything else: the login's roles require one and it holds none."""
    user, state = _pending_or_login(request)
    if user is None or logins.ENROL not in state["steps"]:
        return redirect("login")
    if request.method == "POST":
        try:
            codes = _add_factor(request, user)
        except DomainError as exc:
            device = TOTPDevice.objects.filter(pk=request.POST.get("device") or 0, user=user, confirmed=False).first()
            return render(request, "core/login_enrol.html", _enrol_context(request, user, device, error=exc.message),
                          status=400)
        next_url = logins.done(request, user, logins.ENROL)
        if codes:
            return render(request, "core/recovery_codes.html", {"codes": codes, "next": next_url})
        return HttpResponseRedirect(next_url)
    return render(request, "core/login_enrol.html", _enrol_context(request, user))


def _add_factor(request, user):
    """The factor the form sets up: a passkey (the browser's credential) or the authenticator with its code."""
    if request.POST.get("credential"):
        return logins.add_passkey(request, user, request.POST["credential"], request.POST.get("name", ""))
    return logins.confirm_totp(user, request.POST.get("device"), request.POST.get("code", ""),
                               request.POST.get("name", ""))


# --- the login's own page ---------------------------------------------------------------------------------------

def _account_page(request, password_form=None, token_form=None, *, status=200):
    return render(request, "core/account.html", {
        "factors": logins.factors_of(request.user), "required": logins.factor_required(request.user),
        "tokens": ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at"),
        "password_form": password_form or PasswordChangeForm(request.user),
        "sign_on_links": sign_on_flow.links_of(request.user), "providers": sign_on_flow.providers().values(),
        "token_form": token_form or TokenForm()}, status=status)


@login_required
def account(request):
    return _account_page(request)


@login_required
def account_factor(request):
    """Add an authenticator app or a passkey to one's own login."""
    user = request.user
    if request.method == "POST":
        try:
            codes = _add_factor(request, user)
        except DomainError as exc:
            device = TOTPDevice.objects.filter(pk=request.POST.get("device") or 0, user=user, confirmed=False).first()
            return render(request, "core/account_factor.html", _enrol_context(request, user, device,
                                                                                error=exc.message), status=400)
        messages.success(request, _("The second factor is added."))
        if codes:
            return render(request, "core/recovery_codes.html", {"codes": codes, "next": "/account/"})
        return redirect("account")
    return render(request, "core/account_factor.html", _enrol_context(request, user))


@require_POST
@login_required
def account_factor_remove(request):
    try:
        logins.remove_factor(request.user, request.POST.get("kind", ""), int(request.POST.get("pk") or 0),
                             actor=request.user)
        messages.success(request, _("The second factor is removed."))
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("No such factor.")))
    return redirect("account")


@require_POST
@login_required
def account_recovery_codes(request):
    if not logins.has_factor(request.user):
        messages.error(request, _("Add an authenticator app or a passkey first."))
        return redirect("account")
    return render(request, "core/recovery_codes.html", {"codes": logins.new_recovery_codes(request.user),
                                                         "next": "/account/"})


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(label=gettext_lazy("Your present password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
    field_order = ["old_password", "new_password1", "new_password2"]

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise forms.ValidationError(_("This is not your present password."))
        return old


@require_POST
@login_required
def account_password(request):
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        _set_own_password(request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password is changed."))
        return redirect("account")
    return _account_page(request, password_form=form, status=400)


def passkey_options(request):
    """A fresh challenge for the passkey button of a step page (the page's own may have been used)."""
    user, state = logins.pending(request)
    if user is None:
        if not request.user.is_authenticated:
            return JsonResponse({"error": _("Log in again.")}, status=401)
        return JsonResponse({"options": logins.passkey_registration(request, request.user)})
    if logins.FACTOR in state["steps"]:
        return JsonResponse({"options": logins.passkey_authentication(request, user)})
    return JsonResponse({"options": logins.passkey_registration(request, user)})


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("What it is for"), max_length=100)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, initial=settings.TILLIT_TOKEN_DAYS)

    def clean_days(self):
        days = self.cleaned_data["days"]
        if days > settings.TILLIT_TOKEN_MAX_DAYS:
            raise forms.ValidationError(_("At most %(days)s days.") % {"days": settings.TILLIT_TOKEN_MAX_DAYS})
        return days


@require_POST
@login_required
def account_token(request):
    """A new personal API token, shown once."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    token, raw = create_token(request.user, form.cleaned_data["name"], days=form.cleaned_data["days"])
    return render(request, "core/token_made.html", {"token": token, "raw": raw})


@require_POST
@login_required
def account_token_revoke(request, pk):
    try:
        revoke_own_token(request.user, pk)
        messages.success(request, _("The token is revoked: it opens nothing any more."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("account")


# --- single sign-on (OpenID Connect) ----------------------------------------------------------------------------

def sign_on(request, name):
    """Off to the identity provider; `?link=1` from one's own page links the provider's account to this login."""
    linking = request.GET.get("link") == "1"
    if linking and not request.user.is_authenticated:
        return redirect("login")
    if name not in sign_on_flow.providers():
        raise Http404  # no such provider: nothing to sign on with, not a provider's failure
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    try:
        return HttpResponseRedirect(sign_on_flow.start(request, name, next_url=next_url, link=linking))
    except DomainError as exc:
        return render(request, "core/sign_on_refused.html", {"message": exc.message}, status=502)


def sign_on_return(request):
    """The provider sends the browser back here with a code (or an error)."""
    try:
        user, strong, next_url, linked = sign_on_flow.finish(request, request.GET)
    except DomainError as exc:
        return render(request, "core/sign_on_refused.html", {"message": exc.message}, status=403)
    if linked:  # from one's own page
        messages.success(request, _("Your account at the identity provider is linked: you can log in with it."))
        return redirect("account")
    step = logins.begin(request, user, next_url=next_url, factor_shown=strong, chose_password=False,
                        method="sign-on")
    return HttpResponseRedirect(step or next_url or reverse(settings.LOGIN_REDIRECT_URL))


@require_POST
@login_required
def account_sign_on_remove(request, pk):
    try:
        sign_on_flow.unlink(request.user, pk)
        messages.success(request, _("The link is removed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("account")

"""Pages for local administrators: the users of their part of the organisation and their access."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tillit.core import logins
from tillit.core.errors import DomainError
from tillit.core.forms import add_domain_errors
from tillit.core.models import Grant
from tillit.core.scopes import MANAGE_GRANTS
from tillit.registry import access
from tillit.registry.models import employers_in_scope, units_in_scope


class GrantForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("role"))
    unit = forms.ChoiceField(label=gettext_lazy("over unit"), required=False)
    employer = forms.CharField(label=gettext_lazy("or over employer (org. number)"), required=False, max_length=20)
    valid_from = forms.DateField(label=gettext_lazy("from"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _require_admin(request):
    if not access.manages_anyone(request.user):
        raise Http404


def _user_for(request, pk):
    _require_admin(request)
    return get_object_or_404(access.users_in_reach(request.user), pk=pk)


@login_required
def access_users(request):
    _require_admin(request)
    users = access.users_in_reach(request.user).order_by("username")
    q = request.GET.get("q", "").strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
                             | Q(email__icontains=q))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "registry/access_users.html", {
        "page_obj": page, "q": q, "locked": access.locked_out(u.username for u in page)})


@login_required
def rights(request):
    """Who may do what: the rights table the services enforce, for those who give access or configure."""
    from tillit.core.policy import ACTIONS, roles_for
    from tillit.core.scopes import CONDITIONS, ROLES

    if not (access.manages_anyone(request.user) or access.may_configure(request.user)):
        raise Http404
    roles = [(code, label) for code, (label, _perms) in ROLES.items()]
    rows = [{"action": a, "allowed": [code in roles_for(a) for code, _label in roles]} for a in ACTIONS.values()]
    return render(request, "registry/access_rights.html", {
        "roles": roles, "rows": rows, "conditioned": [label for code, label in roles if code in CONDITIONS],
        "login_rules": logins.rules(), "may_configure": access.may_configure(request.user)})


@require_POST
@login_required
def login_rules(request):
    """The system owner sets, per role, whether its logins must show a second factor and the least assurance level
    a sign-on through an identity provider must carry."""
    try:
        for rule in logins.rules():
            code = rule["code"]
            logins.set_rule(code, second_factor=request.POST.get(f"factor_{code}") == "on",
                            min_acr=request.POST.get(f"acr_{code}", "")[:200], actor=request.user)
        messages.success(request, _("The login rules are saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("access_rights")


def _grant_form(request, data=None):
    form = GrantForm(data)
    form.fields["role"].choices = [("", "–")] + access.roles_on_offer(request.user)  # only what it may give
    form.fields["unit"].choices = [("", "–")] + [(u.pk, u.name) for u in units_in_scope(request.user, MANAGE_GRANTS)]
    return form


@login_required
def access_user(request, pk, form=None):
    user = _user_for(request, pk)
    return render(request, "registry/access_user.html", {
        "subject": user, "grants": access.grants_of(user), "form": form or _grant_form(request),
        "may_reset": access.may_reset(request.user, user), "failures": access.failed_logins(user),
        "limit": settings.AXES_FAILURE_LIMIT, "has_factor": logins.has_factor(user),
        "temporary_password": request.session.pop(f"temporary_password_{user.pk}", None)})


@require_POST
@login_required
def access_grant(request, pk):
    user = _user_for(request, pk)
    form = _grant_form(request, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            if d["employer"]:
                tree = "employer"
                node = employers_in_scope(request.user, MANAGE_GRANTS).filter(
                    org_number=d["employer"].replace(" ", "")).first()
                if node is None:
                    raise DomainError(_("No employer with that organisation number in your part of the organisation."))
            else:
                tree = "org"
                node = next((u for u in units_in_scope(request.user, MANAGE_GRANTS) if str(u.pk) == d["unit"]), None)
            access.give_role(request.user, user, d["role"], tree, node, valid_from=d["valid_from"],
                             valid_to=d["valid_to"])
            messages.success(request, _("The role is given."))
            return redirect("access_user", pk=user.pk)
        except DomainError as exc:
            add_domain_errors(form, exc)
    return access_user(request, pk, form=form)


def _act_on_user(request, pk, action):
    """Run one administrator's action on a user in reach; a refusal is shown on the user's page."""
    user = _user_for(request, pk)
    try:
        messages.success(request, action(user))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("access_user", pk=user.pk)


@require_POST
@login_required
def access_revoke(request, pk):
    def revoke(user):
        access.take_role(request.user, get_object_or_404(Grant, pk=request.POST.get("grant") or 0, user=user))
        return _("The access is removed.")
    return _act_on_user(request, pk, revoke)


@require_POST
@login_required
def access_unlock(request, pk):
    def unlock(user):
        access.unlock(request.user, user)
        return _("The login is unlocked.")
    return _act_on_user(request, pk, unlock)


@require_POST
@login_required
def access_password(request, pk):
    def reset(user):
        request.session[f"temporary_password_{user.pk}"] = access.reset_password(request.user, user)
        return _("A temporary password is set. Give it to the user in person or by phone; it is shown only once.")
    return _act_on_user(request, pk, reset)


@require_POST
@login_required
def access_factors(request, pk):
    def reset(user):
        access.reset_factors(request.user, user)
        return _("The second factor is reset: the user sets up a new one at the next login.")
    return _act_on_user(request, pk, reset)
